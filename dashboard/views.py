import datetime
import json
import uuid
from dataclasses import dataclass
from functools import cached_property

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Company, Team, User
from accounts.permissions import require_lead
from accounts.selectors import managers_in_view_list, teams_in_view
from dashboard import access, charts
from dashboard.export import team_workbook
from dashboard.models import DashboardVisit
from dashboard.selectors.attention import (
    ATTENTION_SHOWN,
    attention_list,
    pace_telling_from,
    review_window,
    status_days,
)
from dashboard.selectors.drilldown import manager_month
from dashboard.selectors.explain import figure_records, formula_lines
from dashboard.selectors.poll import (
    STATE_HEADER,
    block_remember,
    block_remembered,
    figures_state,
    poll_variant,
    state_remember,
)
from dashboard.selectors.strip import report_strip, strip_days
from dashboard.selectors.table import team_table
from dashboard.selectors.visits import month_bands, visit_record
from dashboard.selectors.why_red import why_red
from funnel import charts as funnel_charts
from funnel.selectors import FunnelScope, deals_behind, funnel_of
from kpi.calendar import WorkCalendar, calendar_for
from kpi.periods import Window, window_parse
from kpi.values import format_date
from quality.selectors import MonthQuality, month_quality
from reports.figures import figure_sides
from reports.selectors import report_statuses
from rollups.figures import company_kpis, figures_of_window
from rollups.models import Scope

# How often the open dashboard asks for fresh figures (and at once on returning to the tab).
# Reports come in over an hour: half a minute is live enough to a head of sales, and at 18:00
# the open dashboards' polls are most of the server's requests (bench/load.py).
POLL_SECONDS = 30
ZERO = uuid.UUID(int=0)


def _window(request: HttpRequest, today: datetime.date) -> tuple[Window, str | None]:
    """The window asked for, or the default one with the reason the request was refused."""
    try:
        return window_parse(request.GET.dict(), today=today), None
    except ValidationError as error:
        return window_parse({}, today=today), error.messages[0]


@dataclass
class _Base:
    """What every block of the dashboard starts from; its poll needs only the state."""

    company: Company
    viewer: User
    today: datetime.date
    window: Window
    problem: str | None
    managers: list[User]
    variant: str  # what else the block depends on: the path (window, sort), the language

    @cached_property
    def state(self) -> str:
        return state_remember(
            company=self.company, viewer=self.viewer, managers=self.managers,
            team_ids=[team.pk for team in self.teams], variant=self.variant,
            compute=lambda: figures_state(
                company=self.company, viewer=self.viewer, managers=self.managers,
                window=self.window, today=self.today, variant=self.variant,
            ),
        )  # fmt: skip

    @cached_property
    def teams(self) -> list[Team]:
        """The teams whose lines the block shows (read once for the table and the state)."""
        return teams_in_view(company=self.company, viewer=self.viewer)

    @cached_property
    def calendar(self) -> WorkCalendar:
        return calendar_for(company=self.company)


def _base(request: HttpRequest) -> _Base:
    require_lead(request.user)
    company = request.user.company
    today = company.today()
    window, problem = _window(request, today)
    managers = managers_in_view_list(company=company, viewer=request.user)
    variant = poll_variant(request)
    base = _Base(company, request.user, today, window, problem, managers, variant)
    if not request.GET.get("period"):
        # Nothing asked: the day under review (attention.review_window), not the week's
        # first hours of the running week.
        base.window = review_window(base.calendar, today)
    return base


def _query(request: HttpRequest, window: Window) -> str:
    """The query that shows what is on screen again: the window, the sort, the strip's week
    (the export and the print view carry it)."""
    extra = [
        f"{name}={request.GET[name]}"
        for name in ("sort", "dir", "week")
        if request.GET.get(name, "").replace("-", "").replace("_", "").isalnum()
    ]
    return "&".join([window.query(), *extra])


def _table_context(request: HttpRequest, base: _Base | None = None) -> dict:
    """What the team table and the attention list need, for the page and its partials.

    What several blocks read (the calendar, today's reports, the running month's totals)
    is read once here and handed to each.
    """
    base = base or _base(request)
    company, today, window, problem = base.company, base.today, base.window, base.problem
    managers, calendar = base.managers, base.calendar
    ids = [m.pk for m in managers]
    checked = status_days(calendar, today)
    # A period over before the day under review (a past week, November) is reviewed as of
    # its last day: that month's figures and missed reports, in print and Excel too.
    as_of = window.end if window.end < checked[1] else today
    try:
        strip_day = min(datetime.date.fromisoformat(request.GET.get("week", "")), today)
    except ValueError:
        # The week of the day under review: on a Monday, the week just over.
        strip_day = as_of if as_of < today else checked[1]
    # The days the table and the attention list check and the strip's week, in one read.
    days = sorted({*checked, *(day for day in strip_days(strip_day) if day <= today)})
    statuses = report_statuses(company=company, manager_ids=ids, days=days, calendar=calendar)
    kpis = company_kpis(company=company)
    month = Window.around("month", as_of)
    running = Window.around("month", today)
    # The month's totals (and the running month's, for «since your last visit») are read
    # with the table's, once, for every block.
    table = team_table(
        company=company, viewer=request.user, window=window,
        sort=request.GET.get("sort", "name"), descending=request.GET.get("dir") == "desc",
        kpis=kpis, managers=managers, teams=base.teams, statuses=statuses, calendar=calendar,
        months=(month, running),
    )  # fmt: skip
    month_figures = table.months[month]
    attention = attention_list(
        company=company, viewer=request.user, kpis=kpis, managers=managers, calendar=calendar,
        statuses=statuses, month_figures=month_figures, as_of=as_of,
    )  # fmt: skip
    strip = report_strip(
        company=company, managers=managers, day=strip_day, today=today, calendar=calendar,
        statuses=statuses,
    )  # fmt: skip
    telling_from = pace_telling_from(calendar, month)
    return {
        "table": table,
        "window": window,
        "today": today,
        "problem": problem,
        "kpis": kpis,
        "managers": managers,
        "seen_bands": month_bands(figures=table.months[running]),
        "attention": attention[:ATTENTION_SHOWN],
        "attention_more": attention[ATTENTION_SHOWN:],
        "as_of": as_of,
        "reviewing_today": as_of == today,
        # Early in a running month: say from when the pace is raised, so that an empty
        # «под угрозой» is not read as «all is well».
        "pace_early": telling_from
        if as_of == today and telling_from and telling_from >= today
        else None,
        "strip": strip,
        "next_window": _next_window(window, today),
        "query": _query(request, window),
        "poll_seconds": POLL_SECONDS,
        "kinds": [("day", _("День")), ("week", _("Неделя")), ("month", _("Месяц"))],
        # Built once, not per cell: a manager's page is this + code + "/".
        "kpi_names": {pk: escape(kpi.name) for pk, kpi in kpis.items()},
        "managers_url": reverse("dashboard-manager", args=[ZERO]).removesuffix(f"{ZERO}/"),
    }


def _next_window(window: Window, today: datetime.date) -> Window | None:
    """The period after the one shown («→»), while it has begun."""
    following = window.end + datetime.timedelta(days=1)
    if following > today:
        return None
    if window.kind == "range":
        return Window("range", following, following + (window.end - window.start))
    return Window.around(window.kind, following)


def _state_context(base: _Base) -> dict:
    """The header the figures block polls with (hx-headers: a JSON object)."""
    return {"state_headers": json.dumps({STATE_HEADER: base.state})}


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The head of sales' main screen: who needs attention, then the whole team."""
    if request.htmx and request.htmx.target == "figures":
        # The block's own poll (not a period or sort link inside it) that already shows the
        # current state: 204, and htmx leaves the page as it is. Nothing marked or rolled
        # up since its state was computed was answered from the cache before this
        # (dashboard.middleware.PollShortcutMiddleware); here the state is computed afresh.
        seen = request.headers.get(STATE_HEADER)
        own_poll = request.htmx.trigger == "figures" and seen
        base = _base(request)
        if own_poll and seen == base.state:
            return HttpResponse(status=204)
        block, _context = _figures_block(request, base)
        return HttpResponse(block)
    base = _base(request)
    block, context = _figures_block(request, base)
    # The visit's "since" compares the running month's bands: read with the table's, and
    # kept with the block (its state covers them).
    company, managers = base.company, base.managers
    since = visit_record(
        company=company, viewer=base.viewer, kpis=context.get("kpis"), managers=managers,
        bands=context["seen_bands"],
    )  # fmt: skip
    return render(request, "dashboard/dashboard.html", {
        "figures_block": block,
        "since": since,
        "digest_choices": DashboardVisit.Digest.choices,
        "quality": _quality_rows(company, managers, base.today),
        "today": base.today,
    })  # fmt: skip


def _figures_block(request: HttpRequest, base: _Base) -> tuple[str, dict]:
    """The figures block's HTML at the base's state, and the context it was rendered with:
    the block last rendered at that state for this viewer and variant
    (poll.block_remembered) with only the running month's bands kept beside it
    (`seen_bands`), or rendered now and kept."""
    key = {"viewer_id": base.viewer.pk, "variant": base.variant, "state": base.state}
    remembered = block_remembered(**key)
    if remembered is not None:
        html, seen_bands = remembered
        return mark_safe(html), {"seen_bands": seen_bands}  # noqa: S308 -- rendered, escaped
    context = _table_context(request, base) | _state_context(base)
    html = render_to_string("dashboard/dashboard.html#figures", context, request)
    block_remember(**key, html=html, seen_bands=context["seen_bands"])
    return html, context


def _quality_rows(
    company: Company, managers: list[User], today: datetime.date
) -> list[tuple[User, MonthQuality]]:
    """Each manager's call-quality average of the running month, where anyone was scored."""
    by_id = month_quality(company=company, manager_ids=[m.pk for m in managers], month=today)
    return [(m, by_id[m.pk]) for m in managers if by_id[m.pk].calls]


@login_required
@require_GET
def dashboard_print(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/print.html", _table_context(request))


def _attention_title(context: dict) -> str:
    if context["reviewing_today"]:
        return _("Нужен разговор сегодня")
    return _("Нужен разговор по итогам на %(day)s") % {"day": format_date(context["as_of"])}


@login_required
@require_GET
def dashboard_export(request: HttpRequest) -> HttpResponse:
    context = _table_context(request)
    window: Window = context["window"]
    response = HttpResponse(
        team_workbook(
            context["table"],
            attention=context["attention"] + context["attention_more"],
            attention_title=_attention_title(context),
        ),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"salesdesk-{window.kind}-{window.start.isoformat()}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def digest_set(request: HttpRequest) -> HttpResponse:
    require_lead(request.user)
    choice = request.POST.get("digest", "")
    if choice not in DashboardVisit.Digest.values:
        messages.error(request, _("Выберите, как часто присылать сводку."))
        return redirect("dashboard")
    updated = DashboardVisit.objects.filter(company=request.user.company, user=request.user).update(
        digest=choice
    )
    if not updated:
        messages.error(request, _("Откройте дашборд, затем выберите сводку."))
    else:
        messages.success(
            request, _("Сводка: %(choice)s.") % {"choice": DashboardVisit.Digest(choice).label}
        )
    return redirect("dashboard")


@login_required
@require_GET
def manager_detail(request: HttpRequest, code: str) -> HttpResponse:
    """One manager's month: charts, why a KPI is red, every report with its corrections."""
    manager = access.manager_get_for_viewer(actor=request.user, code=code)
    company = request.user.company
    today = company.today()
    try:
        day = datetime.date.fromisoformat(request.GET.get("month") or today.isoformat())
    except ValueError:
        messages.error(request, _("Дата должна быть в виде ГГГГ-ММ-ДД."))
        day = today
    month = Window.around("month", day)
    kpis = company_kpis(company=company)
    data = manager_month(company=company, manager=manager, month=month, kpis=kpis)
    chosen = next((k for k in data.kpis if k.code == request.GET.get("kpi")), None)
    if chosen is None:
        troubled = [k for k in data.kpis if (f := data.figures.get(k.pk)) and f.shown_band == "red"]
        chosen = (troubled or data.kpis or [None])[0]
    context = {
        "manager": manager,
        "data": data,
        "month": month,
        "chosen": chosen,
        "previous_month": month.previous().start,
        "next_month": month.end + datetime.timedelta(days=1) if month.end < today else None,
        "diagnoses": why_red(
            company=company,
            manager=manager,
            window=month,
            kpis=kpis,
            role_kpis=data.kpis,
            figures=data.figures,
        ),
        "weekly_chart": charts.weekly_figure(data),
        "data_kpis": kpis,
    }
    funnel = funnel_of(
        scope=FunnelScope(company=company, manager=manager),
        start=month.start, end=month.end, today=today,
    )  # fmt: skip
    context["funnel"], context["funnel_chart"] = funnel, funnel_charts.stages_figure(funnel)
    context["quality"] = month_quality(
        company=company, manager_ids=[manager.pk], month=month.start
    )[manager.pk]
    if chosen is not None:
        context["daily_chart"] = charts.daily_figure(data, chosen)
        context["cumulative_chart"] = charts.cumulative_figure(data, chosen)
    return render(request, "dashboard/manager.html", context)


@login_required
@require_GET
def figure_explain(request: HttpRequest, code: str, kpi: str) -> HttpResponse:
    """How one figure was computed and the days it counted (opened from the table)."""
    manager = access.manager_get_for_viewer(actor=request.user, code=code)
    company = request.user.company
    window, problem = _window(request, company.today())
    kpis = company_kpis(company=company)
    found = next((k for k in kpis.values() if k.code == kpi), None)
    if found is None:
        raise Http404
    figure = figures_of_window(
        company=company, window=window, kpis=kpis, scope=Scope.MANAGER, subject_ids=[manager.pk]
    ).get((manager.pk, found.pk))
    context = {
        "manager": manager,
        "kpi": found,
        "window": window,
        "problem": problem,
        "figure": figure,
        "lines": formula_lines(figure) if figure else [],
        "records": figure_records(company=company, manager=manager, kpi=found, window=window),
        "sides": figure_sides(
            company=company,
            manager_ids=[manager.pk],
            kpis=[found],
            start=window.start,
            end=window.end,
        ).get((manager.pk, found.pk)),
        "deals": deals_behind(
            company=company,
            manager=manager,
            kpi_code=found.code,
            start=window.start,
            end=window.end,
        ),
    }
    template = "dashboard/explain.html#explain" if request.htmx else "dashboard/explain.html"
    return render(request, template, context)
