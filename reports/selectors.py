import contextlib
import datetime
import json
import math
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F, Max, OuterRef, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Company, Team, User
from accounts.permissions import in_view_of
from accounts.selectors import memberships_during
from kpi import selectors as kpi_selectors
from kpi.bands import Band, Reading
from kpi.calendar import WorkCalendar, calendar_for
from kpi.models import KPI, Absence, CalendarDay
from kpi.periods import days_between, month_bounds, shift_months, week_bounds, week_start
from kpi.values import format_date, format_value, input_value, parse_value
from reports.figures import (
    daily_figures,
    figure_sides,
    imported_of_day,
    is_checked,
    source_counts,
)
from reports.models import (
    ClosedMonth,
    DailyReport,
    ReportChange,
    ReportValue,
)
from rollups.figures import Figure, figure_of_days
from salesdesk.statements import Statement

# "Far above the usual" (usual_values, unusual_question): a typed figure above this many
# times the manager's good day of the KPI asks for confirmation. The good day is the 90th
# percentile of the manager's last UNUSUAL_LOOKBACK reported figures that were not zero,
# where there are at least UNUSUAL_MIN_HISTORY of them: zeros say nothing about the size of
# a figure, and a sparse KPI (a closer's deal sum: nothing most days, 80 000 ₽ on a day with
# a deal) is mostly zeros, so its median was 0 and every real deal asked. An extra zero
# (×10) is always asked about; a day of three deals where one is usual is not.
UNUSUAL_FACTOR = 3
UNUSUAL_MIN_HISTORY = 5
UNUSUAL_LOOKBACK = 60
UNUSUAL_PERCENTILE = 90
UNUSUAL_MARGIN = 10  # small counts: 7 meetings where 2 are usual is a good day, not a typo


@dataclass(frozen=True)
class RecentFigure:
    kpi: KPI
    value: Decimal


@dataclass(frozen=True)
class RecentReport:
    code: uuid.UUID
    date: datetime.date
    values: list[RecentFigure]


# «Мои показатели» reads it on every load: compiled once.
_RECENT_REPORTS = Statement(
    lambda company, manager, since: (
        DailyReport.objects.filter(company=company, manager=manager, date__gte=since)
        .order_by("-date", "values__id")
        .values_list("code", "date", "values__kpi_id", "values__value")
    )
)


def recent_reports_of_manager(
    *, company: Company, manager: User, days: int = 14, known: Iterable[KPI] = ()
) -> list[RecentReport]:
    """The manager's reports of the last `days` days, newest first, each with its figures:
    one query for the reports with their figures, one more for their KPIs unless `known`
    (the page's KPIs, read already) holds them all; no model per row."""
    since = company.today() - datetime.timedelta(days=days)
    rows = _RECENT_REPORTS(company=company.pk, manager=manager.pk, since=since)
    reports: dict[uuid.UUID, RecentReport] = {}
    figures = []
    for code, date, kpi_id, value in rows:
        report = reports.setdefault(code, RecentReport(code, date, []))
        if kpi_id is not None:  # a report without figures (LEFT JOIN) lists none
            figures.append((report, kpi_id, value))
    kpis = {kpi.pk: kpi for kpi in known}
    if missing := {f[1] for f in figures} - kpis.keys():
        for kpi in KPI.objects.filter(pk__in=missing):
            kpi.company = company  # money shows the company's currency (kpi.values)
            kpis[kpi.pk] = kpi
    for report, kpi_id, value in figures:
        report.values.append(RecentFigure(kpis[kpi_id], value))
    return list(reports.values())


@dataclass(frozen=True)
class ManagerStatus:
    manager: User
    last_report: datetime.date | None
    reported_today: bool
    # Today as «Отчёты команды» says it (report_statuses): a day off is not a missed report.
    status: str = "missing"


@dataclass(frozen=True)
class TeamStatus:
    team: Team
    managers: list[ManagerStatus]


def team_report_status(*, company: Company, head: User) -> list[TeamStatus]:
    """Teams the user sees (a head: own; an admin: all), with each manager's last report."""
    teams = Team.objects.filter(company=company)
    if not head.can_administer:
        teams = teams.filter(head=head)
    today = company.today()
    # Who is in each team today: the same stays that count in its totals.
    stays = {
        stay.user_id: stay.team_id
        for stay in memberships_during(
            company=company, start=today, end=today, teams=[team.pk for team in teams]
        )
    }
    managers = (
        User.objects.filter(company=company, pk__in=stays, role=User.Role.MANAGER, is_active=True)
        .select_related("sales_role")
        .order_by("last_name")
    )
    last_reports = dict(
        DailyReport.objects.filter(company=company, manager__in=managers)
        .order_by()
        .values("manager_id")
        .annotate(last=Max("date"))
        .values_list("manager_id", "last")
    )
    statuses = report_statuses(
        company=company, manager_ids=[m.pk for m in managers], days=[today],
        calendar=calendar_for(company=company),
    )  # fmt: skip
    by_team: dict[int, list[ManagerStatus]] = {}
    for manager in managers:
        last = last_reports.get(manager.pk)
        by_team.setdefault(stays[manager.pk], []).append(
            ManagerStatus(manager, last, last == today, statuses[(manager.pk, today)])
        )
    return [TeamStatus(team, by_team.get(team.pk, [])) for team in teams]


def typed_kpis(kpis: list[KPI]) -> list[KPI]:
    """The KPIs a manager types; a ratio is computed from its parts, and call quality comes
    from the controllers' scores."""
    return [
        kpi
        for kpi in kpis
        if kpi.aggregation != KPI.Aggregation.RATIO and kpi.source != KPI.Source.QUALITY
    ]


def typed_kpis_of(*, company: Company, manager: User, day: datetime.date) -> list[KPI]:
    # The ratios are dropped, so their parts outside the set need no query (every submit).
    kpis = kpi_selectors.manager_kpis(company=company, manager=manager, on=day, with_parts=False)
    return typed_kpis(kpis)


CLOSED_MONTH_SQL = (
    "SELECT EXISTS (SELECT 1 FROM reports_closedmonth WHERE company_id = %s AND month = %s)"
)


def is_month_closed(*, company: Company, day: datetime.date) -> bool:
    # A plain statement: every submission asks it first (report_lock), and building it
    # through the ORM cost ten times the Python of running it.
    with connection.cursor() as cursor:
        cursor.execute(CLOSED_MONTH_SQL, [company.pk, day.replace(day=1)])
        return bool(cursor.fetchone()[0])


def _day(day: datetime.date) -> str:
    return format_date(day)


@dataclass(frozen=True)
class ReportLock:
    """Why a report of a day may not be filed or corrected by someone, in a sentence that
    says who can (the form says it before any typing; report_submit refuses with it)."""

    code: str  # "future", "closed" or "too_old"
    message: str


def report_lock(
    *,
    company: Company,
    manager: User,
    actor: User,
    day: datetime.date,
    today: datetime.date | None = None,
    closed: bool | None = None,
) -> ReportLock | None:
    """The one rule of who may file or correct a manager's report of a day (besides who may
    correct whose, accounts.permissions): not a future day; a closed month only an admin;
    the manager their own days for the company's window (report_backdate_days), then the
    head of sales. `closed` may be passed when the caller knows it."""
    today = today or company.today()
    if day > today:
        return ReportLock(
            "future", _("Нельзя сдать отчёт за будущий день (%(day)s).") % {"day": _day(day)}
        )
    if closed is None:
        closed = is_month_closed(company=company, day=day)
    if closed and not actor.can_administer:
        return ReportLock(
            "closed",
            _(
                "Месяц закрыт руководителем отдела продаж: изменения вносит администратор "
                "с указанием причины."
            ),
        )
    if actor.pk == manager.pk and (today - day).days > company.report_backdate_days:
        return ReportLock(
            "too_old",
            _(
                "Отчёт за %(day)s старше %(days)d дн.: исправить его может руководитель "
                "отдела продаж."
            )
            % {"day": _day(day), "days": company.report_backdate_days},
        )
    return None


@dataclass(frozen=True)
class DayState:
    """What a day is for a manager's report, said before any typing: a working day, a day
    off or holiday (with its name), an absence; and whether the report may be filed or
    corrected, and until when."""

    day: datetime.date
    today: datetime.date
    kind: str  # "working", "day_off" or "absent"
    name: str  # the holiday's or the company's day off, the absence; "" when none
    lock: ReportLock | None
    editable_until: datetime.date | None  # the manager's last day to file or correct it

    @property
    def editable(self) -> bool:
        return self.lock is None

    @property
    def future(self) -> bool:
        return self.lock is not None and self.lock.code == "future"

    @property
    def required(self) -> bool:
        """A report is expected: a working day the manager is not away."""
        return self.kind == "working"

    @property
    def label(self) -> str:
        """The day in a few words: «рабочий день», «выходной: День Конституции», «отпуск»."""
        if self.kind == "absent":
            return _("у вас %(absence)s") % {"absence": self.name}
        if self.kind == "day_off":
            if self.name:
                return _("выходной: %(name)s") % {"name": self.name}
            return _("выходной")
        if self.name:
            return self.name  # a weekend day made working: where its day off went
        return _("рабочий день")

    @property
    def advice(self) -> str:
        """What may be done, when the day is open."""
        if self.lock is not None:
            return ""
        if not self.required:
            return _("Отчёт нужен, только если вы работали.")
        if self.day < self.today and self.editable_until is not None:
            return _("Отправить или исправить можно до %(day)s.") % {
                "day": date_format(self.editable_until, "j E")
            }
        return ""


def day_state(
    *,
    company: Company,
    manager: User,
    day: datetime.date,
    actor: User | None = None,
    calendar: WorkCalendar | None = None,
    closed: bool | None = None,
    plans: kpi_selectors.ManagerPlans | None = None,
) -> DayState:
    """The day's state for the manager's report as `actor` (default: the manager) sees it:
    the form, My KPIs' missed days and any other way in (a chat, the API) read it here.
    `plans` (the manager's, read over the day) may be passed: their absences say whether
    there is one to name."""
    actor = actor or manager
    calendar = calendar or calendar_for(company=company)
    today = company.today()
    absence = None
    if not (
        plans is not None
        and plans.first <= day <= plans.last
        and not any(start <= day <= end for start, end in plans.absences)
    ):
        absence = Absence.objects.filter(
            company=company, manager=manager, start__lte=day, end__gte=day
        ).first()
    if absence is not None:
        kind, name = "absent", absence.get_kind_display()
    elif not calendar.is_working(day):
        kind = "day_off"
        note = CalendarDay.objects.filter(company=company, date=day).values_list("note", flat=True)
        name = calendar.holiday_name(day) or (note.first() if day in calendar.overrides else "")
    else:
        kind, name = "working", calendar.holiday_name(day) or ""
    lock = report_lock(
        company=company, manager=manager, actor=actor, day=day, today=today, closed=closed
    )
    until = day + datetime.timedelta(days=company.report_backdate_days)
    return DayState(
        day=day,
        today=today,
        kind=kind,
        name=name or "",
        lock=lock,
        editable_until=until if actor.pk == manager.pk else None,
    )


@dataclass(frozen=True)
class MissedDay:
    day: datetime.date
    lock: ReportLock | None  # why the manager can no longer file it (then the head can)


# The company's closed months, compiled once: «Мои показатели» asks on every load where a
# day is missing.
_CLOSED_MONTHS = Statement(
    lambda company: ClosedMonth.objects.filter(company=company).values_list("month", flat=True)
)


def closed_month_starts(*, company: Company) -> set[datetime.date]:
    """The first day of each month the company has closed."""
    return set(_CLOSED_MONTHS(company=company.pk))


def missed_days(
    *, company: Company, manager: User, calendar: WorkCalendar | None = None
) -> list[MissedDay]:
    """The manager's working days without a report, not absent, before today: this month's,
    and last month's while the manager's window still reaches into it (none before joining:
    report_statuses)."""
    calendar = calendar or calendar_for(company=company)
    today = company.today()
    first = today.replace(day=1)
    window_start = today - datetime.timedelta(days=company.report_backdate_days)
    start = shift_months(first, -1) if window_start < first else first
    days = list(days_between(start, today - datetime.timedelta(days=1)))
    if not days:
        return []
    statuses = report_statuses(
        company=company, manager_ids=[manager.pk], days=days, calendar=calendar
    )
    missing = [day for day in days if statuses[(manager.pk, day)] == "missing"]
    if not missing:  # a manager who reports every day: no lock to ask about
        return []
    closed = closed_month_starts(company=company)
    missed = []
    for day in missing:
        in_closed = day.replace(day=1) in closed
        lock = report_lock(
            company=company, manager=manager, actor=manager, day=day, today=today, closed=in_closed
        )
        missed.append(MissedDay(day, lock))
    return missed


@dataclass(frozen=True)
class Usual:
    """The manager's usual figure of a KPI, from the days it was not zero."""

    typical: Decimal  # the median: what «обычно около» says
    high: Decimal  # a good day (UNUSUAL_PERCENTILE), still usual

    @property
    def ceiling(self) -> Decimal:
        """Above this a typed figure asks for confirmation."""
        return max(self.high * UNUSUAL_FACTOR, self.typical + UNUSUAL_MARGIN)


def usual_of(values: list[Decimal]) -> Usual | None:
    """The usual figure of these past figures, or None where too few were not zero."""
    figures = sorted(value for value in values if value > 0)
    if len(figures) < UNUSUAL_MIN_HISTORY:
        return None
    return Usual(typical=median(figures), high=_percentile(figures, UNUSUAL_PERCENTILE))


def _percentile(ordered: list[Decimal], percent: int) -> Decimal:
    """statistics.quantiles(ordered, n=100, method="inclusive")[percent - 1], the one cut
    alone (the submission asks for one of 99): a percentile within the figures seen, never
    beyond the largest. The same arithmetic, so the same Decimal."""
    j, delta = divmod(percent * (len(ordered) - 1), 100)  # j + 1 < len(ordered): percent < 100
    return Decimal((ordered[j] * (100 - delta) + ordered[j + 1] * delta) / 100)


# Each KPI's last UNUSUAL_LOOKBACK figures (every submission reads them): compiled once.
_RECENT_VALUES = Statement(
    lambda company, manager, kpis, before: (
        ReportValue.objects.filter(
            company=company, report__manager=manager, kpi__in=kpis, report__date__lt=before
        )
        .annotate(
            recent=Window(
                RowNumber(), partition_by=[F("kpi_id")], order_by=F("report__date").desc()
            )
        )
        .filter(recent__lte=UNUSUAL_LOOKBACK)
        .values_list("kpi_id", "value")
    )
)


def usual_values(
    *, company: Company, manager: User, kpis: list[KPI], before: datetime.date
) -> dict[int, Usual]:
    """Each KPI's usual figure for the manager (usual_of), by KPI id, in one query."""
    rows = _RECENT_VALUES(
        company=company.pk, manager=manager.pk, kpis=[k.pk for k in kpis], before=before
    )
    values: dict[int, list[Decimal]] = {}
    for kpi_id, value in rows:
        values.setdefault(kpi_id, []).append(value)
    found = {kpi_id: usual_of(kpi_values) for kpi_id, kpi_values in values.items()}
    return {kpi_id: usual for kpi_id, usual in found.items() if usual is not None}


def is_unusual(value: Decimal, usual: Usual | None) -> bool:
    return usual is not None and value > 0 and value > usual.ceiling


def unusual_question(*, kpi: KPI, value: Decimal, usual: Usual | None) -> str | None:
    """The question a figure far above the usual asks (the form, the API, Telegram)."""
    if not is_unusual(value, usual):
        return None
    return _("%(value)s — намного больше обычного (обычно около %(usual)s). Всё верно?") % {
        "value": format_value(value, kpi),
        "usual": format_value(usual.typical, kpi),
    }


@dataclass(frozen=True)
class FigureCheck:
    """One typed figure read as the report reads it: its value, or why it is refused, and
    the question it asks when far above the usual."""

    value: Decimal | None
    error: str | None = None
    question: str | None = None


def figure_check(*, kpi: KPI, text: str, usual: Usual | None) -> FigureCheck:
    """Checks one figure as it is typed (the form's live check, a chat's answer) by the
    rules report_submit applies: parse_value's reading and bounds, then unusual_question."""
    try:
        value = parse_value(text, kpi.unit, aggregation=kpi.aggregation)
    except ValidationError as refusal:
        return FigureCheck(value=None, error=refusal.messages[0])
    return FigureCheck(value=value, question=unusual_question(kpi=kpi, value=value, usual=usual))


@dataclass
class FormRow:
    kpi: KPI
    computed: bool
    text: str  # what the input shows: the draft, the saved value or the import
    source: str  # "manual", "crm", "telephony" or "" (nothing yet)
    imported: Decimal | None  # what the CRM or telephony recorded
    imported_source: str
    saved: Decimal | None
    day_plan: Decimal | None
    mtd_actual: Decimal | None
    mtd_plan: Decimal | None  # the plan to date (DOMAIN.md: done so far is measured by it)
    month: Figure  # the month as of the form's day: both readings, and the light
    completion: Decimal | None
    band: Band
    reading: Reading
    left_today: Decimal | None
    mismatch: bool
    usual: Usual | None
    # The source's figure of the day is the figure of record (reports/figures.py).
    counts_source: bool = False


@dataclass
class ReportForm:
    manager: User
    day: datetime.date
    report: DailyReport | None
    state: DayState
    rows: list[FormRow] = field(default_factory=list)
    closed: bool = False

    @property
    def version(self) -> int:
        return self.report.version if self.report else 0


# The day's report (its id), the draft of it and whether its month is closed: the form reads
# all three on every request. One plain statement: as three ORM queries (or one with three
# subquery expressions) building them was a fifth of the form's Python work. Row-level
# security applies to it as to any query; the company is named as the managers name it.
DAY_RECORDS_SQL = f"""SELECT
    (SELECT id FROM reports_dailyreport
        WHERE company_id = %s AND manager_id = %s AND date = %s),
    (SELECT data FROM reports_reportdraft
        WHERE company_id = %s AND manager_id = %s AND date = %s),
    ({CLOSED_MONTH_SQL})"""  # noqa: S608 - constants only


def _day_records(
    *, company: Company, manager: User, day: datetime.date
) -> tuple[int | None, dict | None, bool]:
    of_day = (company.pk, manager.pk, day)
    with connection.cursor() as cursor:
        cursor.execute(DAY_RECORDS_SQL, [*of_day, *of_day, company.pk, day.replace(day=1)])
        report_id, draft, closed = cursor.fetchone()
    if isinstance(draft, str | bytes):  # jsonb or SQLite's text, as the driver gives it
        draft = json.loads(draft)
    return report_id, draft, bool(closed)


def report_form(
    *,
    company: Company,
    manager: User,
    day: datetime.date,
    draft: dict[str, str] | None = None,
    calendar: WorkCalendar | None = None,
    actor: User | None = None,
    with_usual: bool = True,
) -> ReportForm:
    """Everything the end-of-day form shows for one manager and day, as `actor` (default:
    the manager) may use it. Each row's usual figure is what the live check asks about;
    the page shows none, so it may leave them unread (`with_usual=False`: `usual` is None)."""
    calendar = calendar or calendar_for(company=company)
    kpis = kpi_selectors.manager_kpis(company=company, manager=manager, on=day)
    report_id, stored, closed = _day_records(company=company, manager=manager, day=day)
    report = saved = None
    if report_id is not None:
        report = DailyReport.objects.get(company=company, pk=report_id)
        saved = {v.kpi_id: v for v in ReportValue.objects.filter(company=company, report=report)}
    saved = saved or {}
    if draft is None:
        # The draft is the manager's typing for a day not yet filed. A filed report, in the
        # manager's form or in a correction by the head or an admin, shows what is stored.
        draft = (stored or {}) if report is None else {}
    imported = imported_of_day(company=company, manager=manager, day=day, kpis=kpis)
    first, last = month_bounds(day)
    figures = daily_figures(company=company, manager=manager, start=first, end=day)
    plans = kpi_selectors.manager_plans(
        company=company, manager=manager, start=first, end=last, calendar=calendar
    )
    usual = (
        usual_values(company=company, manager=manager, kpis=kpis, before=day) if with_usual else {}
    )
    state = day_state(
        company=company, manager=manager, day=day, actor=actor, calendar=calendar,
        closed=closed, plans=plans,
    )  # fmt: skip
    form = ReportForm(manager, day, report, state, closed=closed)
    for kpi in kpis:
        computed = kpi.aggregation == KPI.Aggregation.RATIO
        value = saved.get(kpi.pk)
        figure = imported.get(kpi.pk)
        if kpi.code in draft:
            text, source = draft[kpi.code], ReportValue.Source.MANUAL
        elif value is not None:
            text, source = input_value(value.value, kpi), value.source
        elif figure is not None:
            text, source = input_value(figure.value, kpi), figure.source
        else:
            text, source = "", ""
        day_plan = plans.period_plan(kpi, day, day) if not computed else plans.month_plan(kpi, day)
        # The month as of the form's day, as every surface shows it (rollups.figures).
        month = figure_of_days(
            kpi=kpi, days=figures, plans=plans, start=first, end=last, today=day,
            reported_today=report is not None,
        )  # fmt: skip
        shown = month.reading
        today_value = value.value if value else (figure.value if figure else None)
        if kpi.code in draft:
            with contextlib.suppress(ValidationError):  # a typo: the form shows its message
                today_value = parse_value(draft[kpi.code], kpi.unit, aggregation=kpi.aggregation)
        typed_value = today_value
        counts_source = source_counts(kpi) and figure is not None
        if counts_source:
            today_value = figure.value  # the figure of record, whatever is typed
        left = None
        if kpi.is_summed and day_plan is not None:
            left = max(day_plan - (today_value or Decimal(0)), Decimal(0))
            if kpi.unit == KPI.Unit.COUNT:
                left = Decimal(math.ceil(left))
        mismatch = (
            is_checked(kpi)
            and figure is not None
            and typed_value is not None
            and typed_value != figure.value
        )
        form.rows.append(
            FormRow(
                kpi=kpi,
                computed=computed,
                text=text,
                source=source,
                imported=figure.value if figure else None,
                imported_source=figure.source if figure else "",
                saved=value.value if value else None,
                day_plan=day_plan,
                mtd_actual=month.actual,
                mtd_plan=month.plan_to_date if month.running else month.plan,
                month=month,
                completion=shown.completion,
                band=shown.band,
                reading=shown,
                left_today=left,
                mismatch=mismatch,
                counts_source=counts_source,
                usual=None if computed else usual.get(kpi.pk),
            )
        )
    return form


def report_changes(*, company: Company, report: DailyReport) -> QuerySet[ReportChange]:
    return ReportChange.objects.filter(company=company, report=report).select_related(
        "kpi__company", "changed_by"
    )


@dataclass
class KpiStanding:
    """One KPI on the manager's own page."""

    kpi: KPI
    week_actual: Decimal | None
    week_plan: Decimal | None
    week_completion: Decimal | None
    week_band: Band
    month_actual: Decimal | None
    month_plan: Decimal | None
    month_completion: Decimal | None
    month_band: Band
    week_reading: Reading
    month_reading: Reading
    behind: bool
    per_day_needed: Decimal | None  # to meet the month plan over the remaining working days
    week: Figure
    month: Figure


@dataclass
class TrendPoint:
    week_start: datetime.date
    completion: dict[str, Decimal | None]  # KPI name → completion of that week


@dataclass
class ManagerOverview:
    standings: list[KpiStanding]
    remaining_days: int
    reported_today: bool
    trend: list[TrendPoint]


def manager_overview(
    *, company: Company, manager: User, day: datetime.date, calendar: WorkCalendar
) -> ManagerOverview:
    """Week and month completion per KPI, what is behind, and an eight-week trend."""
    kpis = kpi_selectors.manager_kpis(company=company, manager=manager, on=day)
    first, last = month_bounds(day)
    this_week = week_start(day)
    trend_start = this_week - datetime.timedelta(weeks=7)
    figures = daily_figures(
        company=company, manager=manager, start=min(first, trend_start), end=day
    )
    reported_today = day in figures.reported
    # Days still ahead to make up the month: today counts only if it is not reported yet.
    week_end = week_bounds(day)[1]
    plans = kpi_selectors.manager_plans(
        company=company,
        manager=manager,
        start=min(first, trend_start),
        end=max(last, week_end),
        calendar=calendar,
    )
    ahead = plans.working_days(day, last)
    remaining = len([d for d in ahead if d > day or not reported_today])
    standings = []
    for kpi in kpis:
        # The week and the month as every surface shows them (rollups.figures.Figure):
        # while they run, the light is the pace, and done so far is against the plan to date.
        month = figure_of_days(
            kpi=kpi, days=figures, plans=plans, start=first, end=last, today=day,
            reported_today=reported_today,
        )  # fmt: skip
        week = figure_of_days(
            kpi=kpi, days=figures, plans=plans, start=this_week, end=week_end, today=day,
            reported_today=reported_today,
        )  # fmt: skip
        month_plan = plans.period_plan(kpi, first, last)
        needed = None
        if kpi.is_summed and month_plan is not None:
            gap = month_plan - (month.actual or Decimal(0))
            if gap > 0 and remaining:
                needed = gap / remaining
        standings.append(
            KpiStanding(
                kpi=kpi,
                week_actual=week.actual,
                week_plan=week.plan,
                week_completion=week.shown_completion,
                week_band=week.reading.band,
                month_actual=month.actual,
                month_plan=month.plan,
                month_completion=month.shown_completion,
                month_band=month.reading.band,
                week_reading=week.reading,
                month_reading=month.reading,
                behind=month.reading.band in (Band.RED, Band.YELLOW),
                per_day_needed=needed,
                week=week,
                month=month,
            )
        )
    trend = []
    for weeks_back in range(7, 0, -1):
        start = this_week - datetime.timedelta(weeks=weeks_back)
        end = start + datetime.timedelta(days=6)
        point = TrendPoint(start, {})
        for kpi in kpis:
            point.completion[kpi.name] = figure_of_days(
                kpi=kpi, days=figures, plans=plans, start=start, end=end, today=day,
                reported_today=reported_today,
            ).shown_completion  # fmt: skip
        trend.append(point)
    # This week's point is the week's figure the table shows.
    trend.append(TrendPoint(this_week, {s.kpi.name: s.week.shown_completion for s in standings}))
    return ManagerOverview(standings, remaining, reported_today, trend)


@dataclass
class DayStatus:
    manager: User
    report: DailyReport | None
    status: str  # "submitted", "late", "missing", "absent", "day_off", "not_joined"
    mismatches: list[str]


# report_statuses' three reads, compiled once (salesdesk.statements: the dashboard, its
# poll and «Мои показатели» read them on every request). Each manager's first report is one
# probe of the report_day_uniq index, not a Min over the whole history (which grows every day).
_STARTS = Statement(
    lambda company, ids: (
        User.objects.filter(company=company, pk__in=ids)
        .annotate(
            first=Subquery(
                DailyReport.objects.filter(company=company, manager=OuterRef("pk"))
                .order_by("date")
                .values("date")[:1]
            )
        )
        .values_list("pk", "date_joined", "first")
    )
)
_SUBMITTED = Statement(
    lambda company, ids, days: DailyReport.objects.filter(
        company=company, manager_id__in=ids, date__in=days
    ).values_list("manager_id", "date", "submitted_at")
)


def report_statuses(
    *,
    company: Company,
    manager_ids: list[int],
    days: list[datetime.date],
    calendar: WorkCalendar,
) -> dict[tuple[int, datetime.date], str]:
    """(manager, day) → submitted, late, absent, day_off, not_joined or missing, in three
    queries. A manager is judged from joining, or from an earlier first report (history
    brought in): a day before that is «not_joined», never a missed report."""
    starts = {
        pk: min(first, company.local_time(joined).date())
        if first
        else company.local_time(joined).date()
        for pk, joined, first in _STARTS(company=company.pk, ids=manager_ids)
    }
    submitted = {
        (manager_id, day): at
        for manager_id, day, at in _SUBMITTED(company=company.pk, ids=manager_ids, days=days)
    }
    absences: dict[int, list[tuple[datetime.date, datetime.date]]] = defaultdict(list)
    for manager_id, start, end in kpi_selectors.ABSENCES_OVERLAPPING(
        company=company.pk, ids=manager_ids, first=min(days), last=max(days)
    ):
        absences[manager_id].append((start, end))
    working = {day: calendar.is_working(day) for day in days}
    statuses = {}
    for manager_id in manager_ids:
        away = absences.get(manager_id, ())
        for day in days:
            at = submitted.get((manager_id, day))
            if at is not None:
                status = "late" if company.local_time(at).date() > day else "submitted"
            elif any(start <= day <= end for start, end in away):
                status = "absent"
            elif not working[day]:
                status = "day_off"
            elif manager_id in starts and day < starts[manager_id]:
                status = "not_joined"
            else:
                status = "missing"
            statuses[(manager_id, day)] = status
    return statuses


def day_statuses(*, company: Company, viewer: User, day: datetime.date) -> list[DayStatus]:
    """Each manager the viewer leads (an admin: all) and their report for the day."""
    managers = list(
        in_view_of(viewer)
        .filter(company=company, is_active=True)
        .select_related("team", "sales_role")
        .order_by("last_name", "first_name")
    )
    reports = {
        r.manager_id: r
        for r in DailyReport.objects.filter(company=company, date=day, manager__in=managers)
    }
    # The day's figures the source disagrees with, for the KPIs checked against it.
    mismatches: dict[int, list[str]] = {}
    sides = figure_sides(
        company=company, manager_ids=[m.pk for m in managers],
        kpis=KPI.objects.filter(company=company), start=day, end=day,
    )  # fmt: skip
    for (manager_id, _kpi_id), found in sorted(sides.items(), key=lambda i: i[1].kpi.code):
        if found.differs:
            mismatches.setdefault(manager_id, []).append(found.day_text)
    statuses = report_statuses(
        company=company, manager_ids=[m.pk for m in managers], days=[day],
        calendar=calendar_for(company=company),
    )  # fmt: skip
    return [
        DayStatus(m, reports.get(m.pk), statuses[(m.pk, day)], mismatches.get(m.pk, []))
        for m in managers
    ]


def closable_months(*, company: Company, today: datetime.date) -> list[tuple[datetime.date, bool]]:
    """The last six months before this one, each with whether it is closed already."""
    closed = closed_month_starts(company=company)
    months = []
    for back in range(1, 7):
        month = shift_months(today, -back)
        months.append((month, month in closed))
    return months


@dataclass
class MonthCloseSummary:
    """What closing a month means, said before the head confirms it."""

    month: datetime.date
    closed: bool
    reports: int
    managers: int
    missing: list[tuple[User, int]]  # managers with working days and no report, how many


def month_close_summary(*, company: Company, month: datetime.date) -> MonthCloseSummary:
    """The month's reports and, per active manager, the working days without one."""
    first, last = month_bounds(month.replace(day=1))
    managers = list(
        User.objects.filter(company=company, role=User.Role.MANAGER, is_active=True).order_by(
            "last_name", "first_name"
        )
    )
    statuses = report_statuses(
        company=company,
        manager_ids=[m.pk for m in managers],
        days=[first + datetime.timedelta(days=n) for n in range((last - first).days + 1)],
        calendar=calendar_for(company=company),
    )
    missing = []
    for manager in managers:
        days = sum(1 for (m, _day), s in statuses.items() if m == manager.pk and s == "missing")
        if days:
            missing.append((manager, days))
    return MonthCloseSummary(
        month=first,
        closed=ClosedMonth.objects.filter(company=company, month=first).exists(),
        reports=DailyReport.objects.filter(company=company, date__range=(first, last)).count(),
        managers=len(managers),
        missing=missing,
    )


def closed_months(*, company: Company) -> QuerySet[ClosedMonth]:
    return (
        ClosedMonth.objects.filter(company=company).select_related("closed_by").order_by("-month")
    )
