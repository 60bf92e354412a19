import datetime
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.permissions import require_configure, require_lead, require_report
from clients.selectors import first_open_alerts
from kpi.calendar import calendar_for
from kpi.values import format_month
from reports import access, charts, selectors, services


def _parse_day(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as error:
        raise Http404 from error


def _typed_values(request: HttpRequest, manager: User, day: datetime.date) -> dict[str, str]:
    """The figures posted for the KPIs the manager types that day."""
    kpis = selectors.typed_kpis_of(company=manager.company, manager=manager, day=day)
    return {kpi.code: request.POST.get(kpi.code, "") for kpi in kpis}


def _posted_version(request: HttpRequest) -> int:
    """The report version the page was rendered with; one that is not a version at all can
    match no stored report, so it is a conflict (both values shown), never a 500."""
    text = request.POST.get("version") or "0"
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else -1


def _check_url(day: datetime.date) -> str:
    """Where a field of the day's form is checked as it is typed (each row's hx-post)."""
    return reverse("report-check", args=[day.isoformat()])


@dataclass
class Outcome:
    """What a submission from a page came to: the report, or what to tell the user."""

    submission: services.Submission | None = None
    errors: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    questions: dict[str, str] = field(default_factory=dict)
    conflict: str | None = None
    version: int | None = None  # after a conflict: the stored version, to send again


def _try_submit(**arguments: object) -> Outcome:
    try:
        return Outcome(submission=services.report_submit(**arguments))
    except services.NeedsConfirmation as question:
        return Outcome(questions=question.questions)
    except services.ReportConflict as conflict:
        return Outcome(conflict=conflict.message, version=conflict.report.version)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            return Outcome(errors={k: v[0].message for k, v in error.error_dict.items()})
        return Outcome(problems=error.messages)


def _tell_correction(request: HttpRequest, submission: services.Submission) -> None:
    if submission.changed:
        messages.success(request, _("Отчёт исправлен."))
    else:
        messages.info(request, _("Ничего не изменилось: в отчёте те же цифры."))


@login_required
@require_GET
def report_today(request: HttpRequest) -> HttpResponse:
    require_report(request.user)
    today = request.user.company.today()
    return redirect("report-form", day=today.isoformat())


@login_required
@require_http_methods(["GET", "POST"])
def report_form(request: HttpRequest, day: str) -> HttpResponse:
    """The manager's end-of-day report: the whole form, submitted with Enter."""
    require_report(request.user)
    manager: User = request.user
    company = manager.company
    date = _parse_day(day)
    outcome = Outcome()
    draft = None
    if request.method == "POST":
        # report_submit reads the manager's KPIs of the day and takes each one's figure from
        # the posted fields; the KPIs are read again for the draft only when it is refused.
        outcome = _try_submit(
            company=company,
            manager=manager,
            day=date,
            values=request.POST.dict(),
            actor=manager,
            version=_posted_version(request),
            confirmed=request.POST.get("confirm") == "yes",
        )
        if outcome.submission is not None:
            if outcome.submission.created:
                messages.success(
                    request, _("Отчёт за %(day)s отправлен.") % {"day": date_format(date, "j E")}
                )
            else:
                _tell_correction(request, outcome.submission)
            return redirect("my-kpis")
        draft = _typed_values(request, manager, date)
    form = selectors.report_form(
        company=company, manager=manager, day=date, draft=draft, with_usual=False
    )
    if draft is not None and form.state.editable:
        # Nothing typed is lost: what failed stays in the form (and in the draft of a day
        # not yet filed).
        services.draft_save(company=company, manager=manager, day=date, data=draft)
    context = {
        "form": form,
        "version": form.version if outcome.version is None else outcome.version,
        "day": date,
        "today": company.today(),
        "state": form.state,
        "previous": date - datetime.timedelta(days=1),
        "next": date + datetime.timedelta(days=1),
        "errors": outcome.errors,
        "problems": outcome.problems,
        "questions": outcome.questions,
        "conflict": outcome.conflict,
        "check_url": _check_url(date),
        "client_alerts": first_open_alerts(company=company, viewer=manager, count=5),
    }
    return render(request, "reports/report_form.html", context)


@login_required
@require_POST
def report_check(request: HttpRequest, day: str) -> HttpResponse:
    """Checks one field as it is typed (HTMX) and keeps the draft."""
    require_report(request.user)
    manager: User = request.user
    company = manager.company
    date = _parse_day(day)
    typed = _typed_values(request, manager, date)
    form = selectors.report_form(company=company, manager=manager, day=date, draft=typed)
    if form.state.editable:  # a day that cannot be filed keeps no draft
        services.draft_save(
            company=company, manager=manager, day=date, data={k: v for k, v in typed.items() if v}
        )
    code = request.htmx.trigger_name if request.htmx else request.POST.get("field")
    row = next((r for r in form.rows if r.kpi.code == code), None)
    if row is None:
        raise Http404
    check = (
        selectors.figure_check(kpi=row.kpi, text=row.text, usual=row.usual)
        if row.text.strip()
        else selectors.FigureCheck(value=None)
    )
    context = {
        "form": form,
        "row": row,
        "errors": {row.kpi.code: check.error} if check.error else {},
        "warning": check.question,
        "check_url": _check_url(date),
    }
    return render(request, "reports/report_form.html#row", context)


@login_required
@require_GET
def my_kpis(request: HttpRequest) -> HttpResponse:
    require_report(request.user)
    manager: User = request.user
    company = manager.company
    today = company.today()
    calendar = calendar_for(company=company)
    overview = selectors.manager_overview(
        company=company, manager=manager, day=today, calendar=calendar
    )
    context = {
        "overview": overview,
        "today": today,
        "chart": charts.trend_figure(overview.trend),
        "recent": selectors.recent_reports_of_manager(
            company=company, manager=manager, known=[s.kpi for s in overview.standings]
        ),
        "missed": selectors.missed_days(company=company, manager=manager, calendar=calendar),
    }
    return render(request, "reports/my_kpis.html", context)


@login_required
@require_GET
def team_reports(request: HttpRequest) -> HttpResponse:
    """The head of sales' view of a day's reports: who has not reported, mismatches."""
    require_lead(request.user)
    company = request.user.company
    today = company.today()
    try:
        date = datetime.date.fromisoformat(request.GET.get("date") or today.isoformat())
    except ValueError:
        date = today
    context = {
        "date": date,
        "today": today,
        "rows": selectors.day_statuses(company=company, viewer=request.user, day=date),
        "closable": selectors.closable_months(company=company, today=today),
        "closed_months": selectors.closed_months(company=company),
    }
    return render(request, "reports/team_reports.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def close_month(request: HttpRequest) -> HttpResponse:
    """Closing a month: first what it means (its reports, who has days without one), and only
    a confirmed POST closes it."""
    require_lead(request.user)
    company = request.user.company
    data = request.POST if request.method == "POST" else request.GET
    try:
        month = datetime.date.fromisoformat(data.get("month", ""))
    except ValueError:
        messages.error(request, _("Выберите месяц."))
        return redirect("team-reports")
    if request.method == "POST" and data.get("confirm") == "yes":
        try:
            services.month_close(company=company, month=month, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Месяц %(month)s закрыт.") % {"month": format_month(month)})
        return redirect("team-reports")
    today = company.today()
    context = {
        "summary": selectors.month_close_summary(company=company, month=month),
        "past": month.replace(day=1) < today.replace(day=1),
    }
    template = "reports/month_close.html#confirm" if request.htmx else "reports/month_close.html"
    return render(request, template, context)


@login_required
@require_POST
def reopen_month(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    try:
        month = datetime.date.fromisoformat(request.POST.get("month", ""))
        services.month_reopen(
            company=request.user.company,
            month=month,
            actor=request.user,
            reason=request.POST.get("reason", ""),
        )
    except ValueError:
        messages.error(request, _("Выберите месяц."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Месяц %(month)s открыт заново; причина записана в журнал.")
            % {"month": format_month(month)},
        )
    return redirect("team-reports")


@login_required
@require_http_methods(["GET", "POST"])
def report_detail(request: HttpRequest, code: str) -> HttpResponse:
    """One report with its sources, mismatches and history; heads and admins correct it here."""
    report = access.report_get_for_viewer(actor=request.user, code=code)
    company = request.user.company
    outcome = Outcome()
    draft = None
    if request.method == "POST":
        draft = _typed_values(request, report.manager, report.date)
        outcome = _try_submit(
            company=company,
            manager=report.manager,
            day=report.date,
            values=draft,
            actor=request.user,
            version=_posted_version(request),
            confirmed=True,  # a correction by the head or an admin is deliberate
            reason=request.POST.get("reason", ""),
        )
        if outcome.submission is not None:
            _tell_correction(request, outcome.submission)
            return redirect("report-detail", code=report.code)
    form = selectors.report_form(
        company=company, manager=report.manager, day=report.date, draft=draft, actor=request.user
    )
    context = {
        "report": report,
        "form": form,
        "version": form.version,
        "changes": selectors.report_changes(company=company, report=report),
        "may_correct": request.user.pk != report.manager_id,
        "errors": outcome.errors,
        "problems": outcome.problems,
        "conflict": outcome.conflict,
        "reason": request.POST.get("reason", ""),
    }
    return render(request, "reports/report_detail.html", context)
