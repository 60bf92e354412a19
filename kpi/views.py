import datetime
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import get_or_404
from accounts.models import SalesRole, Team
from accounts.permissions import may_plan_role_defaults, require_configure
from accounts.selectors import managers_of_team
from accounts.views import call_service, submitted
from kpi import access, selectors, services
from kpi.calendar import calendar_for, is_provisional, working_days_by_month
from kpi.forms import (
    FIRST_YEAR,
    LAST_YEAR,
    AbsenceForm,
    BandsForm,
    CalendarDayForm,
    KPIForm,
    RoleKPIChangeForm,
    UpliftForm,
)
from kpi.models import KPI, Absence, CalendarDay
from kpi.periods import days_between, month_end, shift_months
from kpi.values import parse_value


@login_required
@require_GET
def kpi_list(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    company = request.user.company
    context = {
        "kpis": selectors.kpis_of_company(company=company),
        "roles": SalesRole.objects.filter(company=company),
    }
    return render(request, "kpi/kpi_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def kpi_create(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    company = request.user.company
    form = KPIForm(request.POST or None, company=company, initial={"decimals": 0})
    if submitted(request, form) and call_service(
        form, services.kpi_create, company=company, actor=request.user
    ):
        messages.success(request, _("KPI добавлен."))
        return redirect("kpi-list")
    return render(request, "kpi/kpi_form.html", {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def kpi_edit(request: HttpRequest, uid: str) -> HttpResponse:
    kpi = access.kpi_get_for_admin(actor=request.user, uid=uid)
    initial = {field: getattr(kpi, field) for field in services.KPI_FIELDS}
    form = KPIForm(request.POST or None, company=request.user.company, initial=initial)
    if request.POST.get("as_copy") and submitted(request, form):
        copy = call_service(form, services.kpi_copy, kpi=kpi, actor=request.user)
        if copy:
            messages.success(
                request,
                _(
                    "Создан новый KPI «%(copy)s»; «%(kpi)s» и его данные не изменились. Чтобы "
                    "считать по новому KPI, замените им прежний в наборе KPI роли с нужной даты."
                )
                % {"copy": copy, "kpi": kpi},
            )
            return redirect("kpi-list")
    elif submitted(request, form) and call_service(
        form, services.kpi_update, kpi=kpi, actor=request.user
    ):
        messages.success(request, _("Изменения сохранены."))
        if kpi.source != initial["source"]:
            messages.info(
                request,
                _(
                    "Источник KPI «%(kpi)s» изменён: цифры прошлых дней из нового источника "
                    "(оплаты и задолженность из 1С — за все дни, что они есть) пересчитываются "
                    "в фоне, отчёты и итоги обновятся в течение нескольких минут."
                )
                % {"kpi": kpi},
            )
        return redirect("kpi-list")
    # The refusal to change a KPI with data in place offers the copy instead.
    offer_copy = bool(request.POST.get("as_copy")) or any(
        form.has_error(f) for f in services.KPI_FIELDS_FIXED_BY_DATA
    )
    context = {"form": form, "kpi": kpi, "offer_copy": offer_copy}
    return render(request, "kpi/kpi_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def catalogue(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    company = request.user.company
    if request.method == "POST":
        try:
            kpi = services.catalogue_adopt(company=company, code=request.POST.get("code", ""))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("KPI «%(name)s» добавлен в компанию.") % {"name": kpi})
        return redirect("kpi-catalogue")
    context = {
        "entries": selectors.catalogue_entries(company=company),
        "source_list": selectors.source_list(),
    }
    return render(request, "kpi/catalogue.html", context)


def _parse_date(text: str | None, default: datetime.date) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text) if text else default
    except ValueError:
        return default


@login_required
@require_http_methods(["GET", "POST"])
def role_kpis(request: HttpRequest, code: str) -> HttpResponse:
    """A sales role's KPI set on a date, its history, and adding or removing a KPI (HTMX)."""
    sales_role = access.sales_role_get_for_admin(actor=request.user, code=code)
    company = request.user.company
    on = _parse_date(request.GET.get("on"), company.today())
    add_form = RoleKPIChangeForm(company=company)
    remove_error = None
    if request.method == "POST":
        action = request.POST.get("action")
        form = RoleKPIChangeForm(request.POST, company=company)
        service = services.role_kpi_add if action == "add" else services.role_kpi_remove
        done = submitted(request, form) and call_service(
            form, service, company=company, sales_role=sales_role, actor=request.user
        )
        # The set shown is that of the change's date, refused or not: a refusal about
        # another date's set is read beside that set, not today's.
        on = getattr(form, "cleaned_data", {}).get("effective_from") or on
        if not done and action == "add":
            add_form = form
        elif not done:
            remove_error = " ".join(e for errors in form.errors.values() for e in errors)
    context = {
        "sales_role": sales_role,
        "on": on,
        "kpis": selectors.role_kpis_on(company=company, sales_role=sales_role, on=on),
        "history": selectors.role_kpi_history(company=company, sales_role=sales_role),
        "form": add_form,
        "remove_error": remove_error,
        "min": services.MIN_KPIS_PER_ROLE,
        "max": services.MAX_KPIS_PER_ROLE,
    }
    template = "kpi/role_kpis.html#role-set" if request.htmx else "kpi/role_kpis.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def bands(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    company = request.user.company
    initial = {"band_red_below": company.band_red_below, "band_green_from": company.band_green_from}
    form = BandsForm(request.POST or None, initial=initial)
    if submitted(request, form) and call_service(
        form, services.bands_set, company=company, actor=request.user
    ):
        messages.success(request, _("Границы цветов сохранены."))
        return redirect("bands")
    overrides = KPI.objects.filter(company=company, band_red_below__isnull=False)
    return render(request, "kpi/bands.html", {"form": form, "overrides": overrides})


@login_required
@require_http_methods(["GET", "POST"])
def calendar(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    company = request.user.company
    this_year = company.today().year
    try:
        year = int(request.GET.get("year") or this_year)
    except ValueError:
        year = this_year
    if not FIRST_YEAR <= year <= LAST_YEAR:
        messages.error(
            request,
            _("Календарь есть с %(first)s по %(last)s год.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR},
        )
        year = this_year
    form = CalendarDayForm(request.POST or None)
    if request.method == "POST" and request.POST.get("action") == "remove":
        day = _parse_date(request.POST.get("date"), datetime.date.min)
        if FIRST_YEAR <= day.year <= LAST_YEAR:  # no override exists outside them
            services.calendar_day_remove(company=company, date=day, actor=request.user)
        return redirect(f"{request.path}?year={year}")
    if submitted(request, form) and call_service(
        form, services.calendar_day_set, company=company, actor=request.user
    ):
        messages.success(request, _("День сохранён."))
        return redirect(f"{request.path}?year={form.cleaned_data['date'].year}")
    work_calendar = calendar_for(company=company)
    by_month = working_days_by_month(company=company, year=year)
    months = [(datetime.date(year, month, 1), count) for month, count in by_month.items()]
    year_days = list(days_between(datetime.date(year, 1, 1), datetime.date(year, 12, 31)))
    context = {
        "year": year,
        "months": months,
        "total": sum(by_month.values()),
        "provisional": is_provisional(year=year, country=company.country),
        "days": CalendarDay.objects.filter(company=company, date__year=year),
        "holidays": [
            (day, name)
            for day in year_days
            if day.weekday() < 5 and (name := work_calendar.holiday_name(day))
        ],
        "decreed_working": [
            (day, work_calendar.holiday_name(day))
            for day in year_days
            if work_calendar.is_decreed_working(day)
        ],
        "form": form,
    }
    return render(request, "kpi/calendar.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def absences(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    company = request.user.company
    form = AbsenceForm(request.POST or None, company=company)
    if submitted(request, form) and call_service(
        form, services.absence_create, company=company, actor=request.user
    ):
        messages.success(request, _("Отсутствие добавлено: план менеджера пересчитан по дням."))
        return redirect("absences")
    listed = Absence.objects.filter(company=company).select_related("manager")[:200]
    return render(request, "kpi/absences.html", {"form": form, "absences": listed})


@login_required
@require_POST
def absence_delete(request: HttpRequest, code: str) -> HttpResponse:
    absence = access.absence_get_for_admin(actor=request.user, code=code)
    services.absence_delete(absence=absence, actor=request.user)
    messages.success(request, _("Отсутствие удалено."))
    return redirect("absences")


# --- Plans ----------------------------------------------------------------------------------


@login_required
@require_GET
def plans(request: HttpRequest) -> HttpResponse:
    teams = access.teams_for_planner(actor=request.user)
    today = request.user.company.today()
    if len(teams) == 1:
        return redirect("plan-grid", team=teams[0].code, year=today.year, month=today.month)
    return render(request, "kpi/plans.html", {"teams": teams, "today": today})


def _month(year: int, month: int) -> datetime.date:
    try:
        return datetime.date(year, month, 1)
    except ValueError as error:
        raise Http404 from error


@login_required
@require_GET
def plan_grid(request: HttpRequest, team: str, year: int, month: int) -> HttpResponse:
    team_obj = access.team_get_for_planner(actor=request.user, code=team)
    first = _month(year, month)
    company = request.user.company
    last = month_end(first)
    context = {
        "team": team_obj,
        "month": first,
        "previous": shift_months(first, -1),
        "next": shift_months(first, 1),
        "blocks": selectors.plan_grid(company=company, team=team_obj, month=first),
        "changes": selectors.plan_changes(company=company, team=team_obj, month=first),
        "working_days": len(calendar_for(company=company).working_days(first, last)),
        "uplift_form": UpliftForm(),
        "may_set_defaults": may_plan_role_defaults(request.user),
    }
    return render(request, "kpi/plan_grid.html", context)


@login_required
@require_POST
def plan_cell(request: HttpRequest, team: str, year: int, month: int) -> HttpResponse:
    """Saves one cell of the grid (HTMX) and returns it, saved or with the reason why not."""
    team_obj = access.team_get_for_planner(actor=request.user, code=team)
    first = _month(year, month)
    company = request.user.company
    kpi = get_or_404(KPI.objects.filter(company=company), uid=request.POST.get("kpi"))
    manager = sales_role = None
    if request.POST.get("manager"):
        manager = get_or_404(
            managers_of_team(company=company, team=team_obj), code=request.POST["manager"]
        )
    else:
        sales_role = get_or_404(
            SalesRole.objects.filter(company=company), code=request.POST.get("role")
        )
    raw = request.POST.get("value", "").strip()
    error = None
    value: Decimal | None = None
    try:
        value = parse_value(raw, kpi.unit, aggregation=kpi.aggregation, plan=True) if raw else None
        services.plan_set(
            company=company,
            kpi=kpi,
            start=first,
            value=value,
            manager=manager,
            sales_role=sales_role,
            actor=request.user,
        )
    except ValidationError as refusal:
        error = " ".join(refusal.messages)
    saved = selectors.plan_grid_cell(
        company=company, kpi=kpi, month=first, manager=manager, sales_role=sales_role
    )
    context = {
        "team": team_obj,
        "month": first,
        "cell": saved,
        "row_manager": manager,
        "row_role": sales_role,
        "error": error,
        "typed": raw,
        "just_saved": error is None,
        "may_set_defaults": may_plan_role_defaults(request.user),
    }
    status = 422 if error else 200
    return render(request, "kpi/plan_grid.html#cell", context, status=status)


def _plan_confirm(
    request: HttpRequest,
    *,
    team: Team,
    month: datetime.date,
    action: str,
    preview: selectors.PlanBatch | None,
    percent: Decimal | None = None,
    outdated: bool = False,
    error: str | None = None,
) -> HttpResponse:
    """The page (or, for HTMX, the block on the grid) that says what a bulk action will
    write and asks; its form sends the preview's digest back with the confirmation."""
    context = {
        "team": team,
        "month": month,
        "action": action,
        "preview": preview,
        "percent": percent,
        "outdated": outdated,
        "error": error,
    }
    template = "kpi/plan_confirm.html#confirm" if request.htmx else "kpi/plan_confirm.html"
    status = 409 if outdated else 422 if error else 200
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def plan_copy(request: HttpRequest, team: str, year: int, month: int) -> HttpResponse:
    """ "Copy last month": first what it will write, then, confirmed, exactly that."""
    team_obj = access.team_get_for_planner(actor=request.user, code=team)
    first = _month(year, month)
    company = request.user.company
    digest = request.POST.get("digest") if request.method == "POST" else None
    if digest:
        try:
            count = services.plans_copy_previous_month(
                company=company, team=team_obj, month=first, digest=digest, actor=request.user
            )
        except services.PreviewOutdated as outdated:
            return _plan_confirm(
                request, team=team_obj, month=first, action="copy",
                preview=outdated.preview, outdated=True,
            )  # fmt: skip
        messages.success(request, _("Скопировано планов из прошлого месяца: %(n)d.") % {"n": count})
        return redirect("plan-grid", team=team_obj.code, year=year, month=month)
    preview = selectors.plans_copy_preview(
        company=company, team=team_obj, month=first, actor=request.user
    )
    return _plan_confirm(request, team=team_obj, month=first, action="copy", preview=preview)


@login_required
@require_http_methods(["GET", "POST"])
def plan_uplift(request: HttpRequest, team: str, year: int, month: int) -> HttpResponse:
    """A percentage uplift: first what it will write, then, confirmed, exactly that."""
    team_obj = access.team_get_for_planner(actor=request.user, code=team)
    first = _month(year, month)
    company = request.user.company
    form = UpliftForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        error = " ".join(form.errors.get("percent", [])) or _("Укажите процент.")
        return _plan_confirm(
            request, team=team_obj, month=first, action="uplift", preview=None, error=error
        )
    percent = form.cleaned_data["percent"]
    digest = request.POST.get("digest") if request.method == "POST" else None
    if digest:
        try:
            count = services.plans_uplift(
                company=company, team=team_obj, month=first, percent=percent,
                digest=digest, actor=request.user,
            )  # fmt: skip
        except services.PreviewOutdated as outdated:
            return _plan_confirm(
                request, team=team_obj, month=first, action="uplift",
                preview=outdated.preview, percent=percent, outdated=True,
            )  # fmt: skip
        except ValidationError as refusal:  # a plan would leave its bounds
            return _plan_confirm(
                request, team=team_obj, month=first, action="uplift", preview=None,
                percent=percent, error=" ".join(refusal.messages),
            )  # fmt: skip
        messages.success(
            request,
            _("Изменено планов: %(n)d (KPI «меньше — лучше» не меняются).") % {"n": count},
        )
        return redirect("plan-grid", team=team_obj.code, year=year, month=month)
    try:
        preview = services.plans_uplift_preview(
            company=company, team=team_obj, month=first, percent=percent, actor=request.user
        )
    except ValidationError as refusal:
        return _plan_confirm(
            request, team=team_obj, month=first, action="uplift", preview=None,
            percent=percent, error=" ".join(refusal.messages),
        )  # fmt: skip
    return _plan_confirm(
        request, team=team_obj, month=first, action="uplift", preview=preview, percent=percent
    )
