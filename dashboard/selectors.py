"""What the head of sales' dashboard shows, read from the stored totals.

Every selector here runs a fixed number of queries whatever the team size or the length of
the history: it reads whole sets (all the viewer's managers, all their totals of a window)
and assembles them in Python.
"""

import datetime
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property, partial

from django.db.models import Count, Max, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Company, SalesRole, Team, User
from accounts.permissions import in_view_of, teams_in_view_of
from dashboard.figures import (
    Figure,
    ScopedKey,
    company_kpis,
    figure_of_total,
    figures_of_subjects,
    figures_of_window,
)
from dashboard.models import DashboardVisit
from dashboard.windows import Window
from kpi.calendar import WorkCalendar, calendar_for, manager_working_days
from kpi.models import KPI, Absence, RoleKPI
from kpi.periods import week_bounds
from kpi.selectors import active_on
from kpi.values import format_value
from reports.models import DailyReport, ReportChange, ReportValue
from reports.selectors import report_statuses
from rollups.models import Bucket, Scope, Total
from rollups.selectors import plan_advice

# A KPI's last full week this many points below the mean of the weeks before is a sharp drop.
DROP_POINTS = Decimal(25)
DROP_WEEKS = 4
# A visit ends after this long away: the next one compares with what the last one saw.
VISIT_GAP = datetime.timedelta(minutes=30)
# The open dashboard's figures are re-rendered at least this often even when neither a report
# nor a total changed (a renamed KPI, new colour bands, a moved calendar day: settings).
STATE_SECONDS = 300
# status_days() looks this far back for the last working day.
STATUS_DAYS_BACK = 15
VISIT_FIELDS = (
    "baseline_at", "baseline_month", "baseline_bands", "last_seen_at", "seen_month", "seen_bands",
)  # fmt: skip


def managers_in_view(*, company: Company, viewer: User) -> QuerySet[User]:
    """The managers a head leads (an admin: all the company's), active ones."""
    return (
        in_view_of(viewer)
        .filter(company=company, is_active=True)
        .select_related("team", "sales_role")
        .order_by("last_name", "first_name")
    )


def teams_in_view(*, company: Company, viewer: User) -> list[Team]:
    return list(teams_in_view_of(viewer).filter(company=company).order_by("name"))


def role_kpi_sets(
    *, company: Company, on: datetime.date, kpis: dict[int, KPI]
) -> dict[int, list[KPI]]:
    """Each sales role's KPIs in force on a day, in the role's order."""
    sets: dict[int, list[KPI]] = defaultdict(list)
    records = (
        RoleKPI.objects.filter(active_on(on), company=company)
        .order_by("sales_role_id", "position", "id")
        .values_list("sales_role_id", "kpi_id")
    )
    for role_id, kpi_id in records:
        if kpi_id in kpis:
            sets[role_id].append(kpis[kpi_id])
    return sets


@dataclass
class Cell:
    """One manager's KPI in the table, with the previous period's figure for comparison."""

    figure: Figure | None
    previous: Figure | None = None

    @cached_property
    def change(self) -> Decimal | None:
        """The change of the actual against the previous period, in percent."""
        if self.figure is None or self.previous is None:
            return None
        now, before = self.figure.actual, self.previous.actual
        if now is None or not before:
            return None
        return ((now - before) / abs(before) * 100).quantize(Decimal("1"))


@dataclass
class ManagerRow:
    manager: User
    status: str  # today's report: submitted, late, missing, absent, day_off
    cells: list[Cell]

    @property
    def at_risk(self) -> bool:
        return any(c.figure is not None and c.figure.at_risk for c in self.cells)


@dataclass
class Benchmark:
    manager: User
    figure: Figure


@dataclass
class RoleGroup:
    role: SalesRole | None
    kpis: list[KPI]
    rows: list[ManagerRow]
    best: list[Benchmark | None] = field(default_factory=list)


@dataclass
class SummaryLine:
    kpi: KPI
    figure: Figure | None
    previous: Figure | None
    year_earlier: Figure | None

    @property
    def advice(self) -> str:
        return plan_advice(self.figure.share_meeting_plan) if self.figure else ""


@dataclass
class Summary:
    """A team's (or the company's) totals per KPI against the two earlier periods."""

    name: str
    lines: list[SummaryLine]


@dataclass
class TeamTable:
    window: Window
    today: datetime.date
    groups: list[RoleGroup]
    summaries: list[Summary]
    sort: str
    descending: bool
    figures: dict[ScopedKey, Figure]  # the window's, of managers, teams (and the company)

    def manager_figures(self) -> dict[tuple[int, int], Figure]:
        return {(m, k): f for (scope, m, k), f in self.figures.items() if scope == Scope.MANAGER}


# Today's report, in words (the table shows them as badges with icons).
REPORT_STATUSES = {
    "submitted": gettext_lazy("сдан"),
    "late": gettext_lazy("сдан с опозданием"),
    "missing": gettext_lazy("нет отчёта"),
    "absent": gettext_lazy("отсутствует"),
    "day_off": gettext_lazy("выходной"),
}
STATUS_ORDER = {"missing": 0, "late": 1, "submitted": 2, "absent": 3, "day_off": 4}


def _best(rows: list[ManagerRow], index: int) -> Benchmark | None:
    """The manager with the highest completion of the KPI (ties: the larger actual)."""
    best = None
    for row in rows:
        figure = row.cells[index].figure
        if figure is None or figure.shown_completion is None:
            continue
        key = (figure.shown_completion, figure.actual or 0)
        if best is None or key > (best.figure.shown_completion, best.figure.actual or 0):
            best = Benchmark(row.manager, figure)
    return best


def _sort(rows: list[ManagerRow], kpis: list[KPI], sort: str, descending: bool) -> None:
    codes = [k.code for k in kpis]
    if sort == "status":
        rows.sort(key=lambda r: STATUS_ORDER.get(r.status, 9), reverse=descending)
    elif sort in codes:
        index = codes.index(sort)

        def completion_of(row: ManagerRow) -> tuple[bool, Decimal]:
            figure = row.cells[index].figure
            value = figure.shown_completion if figure else None
            # Managers without a figure go last in either direction.
            if value is None:
                return (not descending, Decimal(0))
            return (descending, value)

        rows.sort(key=completion_of, reverse=descending)
    elif descending:
        rows.reverse()


def team_table(
    *,
    company: Company,
    viewer: User,
    window: Window,
    sort: str = "name",
    descending: bool = False,
    kpis: dict[int, KPI] | None = None,
    managers: list[User] | None = None,
    statuses: dict[tuple[int, datetime.date], str] | None = None,
    calendar: WorkCalendar | None = None,
) -> TeamTable:
    """Managers × their role's KPIs over the window, grouped by role, with team summaries.

    `statuses` (today's reports) and the calendar may come from the caller when it has read
    them already.
    """
    today = company.today()
    kpis = kpis if kpis is not None else company_kpis(company=company)
    managers = (
        managers if managers is not None else list(managers_in_view(company=company, viewer=viewer))
    )
    ids = [m.pk for m in managers]
    calendar = calendar or calendar_for(company=company)
    sets = role_kpi_sets(company=company, on=min(window.end, today), kpis=kpis)
    # Managers, their teams (and for an admin the company) in one read per window.
    teams = teams_in_view(company=company, viewer=viewer)
    summed = {Scope.TEAM: [t.pk for t in teams]}
    if viewer.can_administer:
        summed[Scope.COMPANY] = [company.pk]
    read = partial(figures_of_subjects, company=company, kpis=kpis, calendar=calendar)
    now = read(window=window, subjects={Scope.MANAGER: ids, **summed})
    # Earlier periods are compared by their actuals only.
    before = read(
        window=window.previous().so_far(window, today),
        subjects={Scope.MANAGER: ids, **summed},
        plans=False,
    )
    year_earlier = read(
        window=window.year_earlier().so_far(window, today), subjects=summed, plans=False
    )
    if statuses is None:
        statuses = report_statuses(
            company=company, manager_ids=ids, days=[today], calendar=calendar
        )
    by_role: dict[int | None, list[ManagerRow]] = defaultdict(list)
    roles: dict[int | None, SalesRole | None] = {}
    for manager in managers:
        role_kpis = sets.get(manager.sales_role_id, [])
        cells = [
            Cell(
                now.get((Scope.MANAGER, manager.pk, k.pk)),
                before.get((Scope.MANAGER, manager.pk, k.pk)),
            )
            for k in role_kpis
        ]
        roles[manager.sales_role_id] = manager.sales_role
        by_role[manager.sales_role_id].append(
            ManagerRow(manager, statuses.get((manager.pk, today), "missing"), cells)
        )
    groups = []
    for role_id, rows in by_role.items():
        role_kpis = sets.get(role_id, [])
        _sort(rows, role_kpis, sort, descending)
        best = [_best(rows, index) for index in range(len(role_kpis))]
        groups.append(RoleGroup(roles[role_id], role_kpis, rows, best))
    groups.sort(key=lambda g: (g.role is None, str(g.role or "")))
    summaries = team_summaries(
        company=company, viewer=viewer, teams=teams, sets=sets, figures=(now, before, year_earlier)
    )
    return TeamTable(window, today, groups, summaries, sort, descending, now)


def team_summaries(
    *,
    company: Company,
    viewer: User,
    teams: list[Team],
    sets: dict[int, list[KPI]],
    figures: tuple[dict[ScopedKey, Figure], dict[ScopedKey, Figure], dict[ScopedKey, Figure]],
) -> list[Summary]:
    """Each team's totals (and the company's, for an admin): the window's, the period
    before's and a year earlier's, as read by team_table."""
    subjects: list[tuple[str, str, int]] = [(Scope.TEAM, t.name, t.pk) for t in teams]
    if viewer.can_administer:
        subjects.append((Scope.COMPANY, company.name, company.pk))
    ordered: list[KPI] = []
    for role_kpis in sets.values():
        ordered += [k for k in role_kpis if k not in ordered]
    summaries = []
    for scope, name, pk in subjects:
        lines = [
            SummaryLine(kpi, *(figures[i].get((scope, pk, kpi.pk)) for i in range(3)))
            for kpi in ordered
        ]
        summaries.append(Summary(name, [line for line in lines if line.figure or line.previous]))
    return summaries


@dataclass
class Attention:
    """A manager who needs a conversation today, and why."""

    manager: User
    reasons: list[str]
    severity: int
    worst: Decimal | None


def status_days(calendar: WorkCalendar, today: datetime.date) -> list[datetime.date]:
    """Today and the last working day before it: the days whose reports the dashboard checks."""
    day = today - datetime.timedelta(days=1)
    for _step in range(STATUS_DAYS_BACK - 1):
        if calendar.is_working(day):
            break
        day -= datetime.timedelta(days=1)
    return [today, day]


def figures_state(
    *,
    company: Company,
    viewer: User,
    managers: list[User],
    window: Window,
    today: datetime.date,
    variant: str,
    now: datetime.datetime | None = None,
) -> str:
    """A digest of what the dashboard's figures block shows, for answering its poll with
    "nothing changed" without building the block: three aggregate queries.

    It changes with the managers in view (and their names, teams, roles), any total the
    block reads (the viewer's managers, teams and, for an admin, the company, over the
    windows it compares) marked stale or recomputed, their reports and absences of the last
    days (the report statuses), the day, and `variant` (the window and sort asked for, the
    language); and every STATE_SECONDS whatever happens, which bounds how long a change of
    settings no total shows (a KPI's name) waits for the next full page load; a KPI's bands
    or a calendar day mark the totals they change (rollups.services.totals_mark).
    """
    now = now or timezone.now()
    month = Window.around("month", today)
    # The table compares with the previous window and its team lines with a year earlier; the
    # attention list compares the last full week with DROP_WEEKS before it.
    first = min(window.previous().start, month.start - datetime.timedelta(weeks=DROP_WEEKS + 2))
    earlier = window.year_earlier()
    ids = [m.pk for m in managers]
    recent = today - datetime.timedelta(days=STATUS_DAYS_BACK)
    # Every bucket the block reads: the managers', the viewer's teams', an admin's company's.
    subjects = Q(scope=Scope.MANAGER, subject_id__in=ids)
    if viewer.can_administer:
        subjects |= Q(scope__in=[Scope.TEAM, Scope.COMPANY])
    else:
        led = Team.objects.filter(company=company, head=viewer).values("pk")
        subjects |= Q(scope=Scope.TEAM, subject_id__in=led)
    spans = Q(end__gte=first, start__lte=max(window.end, month.end)) | Q(
        end__gte=earlier.start, start__lte=earlier.end
    )
    buckets = Bucket.objects.filter(spans, subjects, company=company).aggregate(
        count=Count("id"), marks=Sum("marks"), done=Sum("done")
    )
    # The reports and absences behind today's and the last working day's statuses.
    reports = DailyReport.objects.filter(
        company=company, manager_id__in=ids, date__gte=recent
    ).aggregate(count=Count("id"), last=Max(Coalesce("updated_at", "submitted_at")))
    absences = list(
        Absence.objects.filter(company=company, manager_id__in=ids, start__lte=today)
        .filter(end__gte=recent)
        .order_by("id")
        .values_list("manager_id", "start", "end")
    )
    facts = (
        viewer.pk,
        variant,
        today,
        # Each viewer's tick at its own offset: not every open dashboard re-renders at once.
        int(now.timestamp() + viewer.pk * 37) // STATE_SECONDS,
        [(m.pk, m.team_id, m.sales_role_id, m.last_name, m.first_name) for m in managers],
        buckets,
        reports,
        absences,
    )
    return hashlib.blake2b(repr(facts).encode(), digest_size=12).hexdigest()


def attention_list(
    *,
    company: Company,
    viewer: User,
    kpis: dict[int, KPI] | None = None,
    managers: list[User] | None = None,
    now: datetime.datetime | None = None,
    calendar: WorkCalendar | None = None,
    statuses: dict[tuple[int, datetime.date], str] | None = None,
    month_figures: dict[tuple[int, int], Figure] | None = None,
) -> list[Attention]:
    """Who needs a conversation today, worst first: no report, red KPIs, month at risk at
    today's pace, a sharp drop against their own recent weeks.

    `statuses` must cover today and the last working day before it (status_days()).
    """
    local = company.local_time(now)
    today = local.date()
    kpis = kpis if kpis is not None else company_kpis(company=company)
    managers = (
        managers if managers is not None else list(managers_in_view(company=company, viewer=viewer))
    )
    ids = [m.pk for m in managers]
    calendar = calendar or calendar_for(company=company)
    days = status_days(calendar, today)
    if statuses is None:
        statuses = report_statuses(company=company, manager_ids=ids, days=days, calendar=calendar)
    checked = [(days[1], days[1].strftime("%d.%m"))]
    if local.time() >= company.reminder_time:
        checked.append((today, _("сегодня")))
    missing: dict[int, list[str]] = defaultdict(list)
    for manager_id in ids:
        for day, label in checked:
            if statuses.get((manager_id, day)) == "missing":
                missing[manager_id].append(label)
    if month_figures is None:
        month_figures = figures_of_window(
            company=company, window=Window.around("month", today), kpis=kpis,
            scope=Scope.MANAGER, subject_ids=ids,
        )  # fmt: skip
    by_manager: dict[int, list[Figure]] = defaultdict(list)
    for (manager_id, _kpi_id), figure in month_figures.items():
        by_manager[manager_id].append(figure)
    drops = sharp_drops(company=company, today=today, kpis=kpis, manager_ids=ids)
    items = []
    for manager in managers:
        reasons, severity = [], 0
        if missing[manager.pk]:
            reasons.append(_("нет отчёта: %(days)s") % {"days": ", ".join(missing[manager.pk])})
            severity += 3 * len(missing[manager.pk])
        figures = by_manager[manager.pk]
        red = [f for f in figures if f.shown_band == "red"]
        if red:
            reasons.append(
                _("красные KPI за месяц: %(list)s")
                % {"list": ", ".join(f"{f.kpi.name} {f.percent_text}" for f in red)}
            )
            severity += 3 * len(red)
        risky = [f for f in figures if f.at_risk]
        if risky:
            reasons.append(
                _("месяц под угрозой при нынешнем темпе: %(list)s")
                % {
                    "list": ", ".join(
                        _("%(kpi)s — прогноз %(forecast)s при плане %(plan)s")
                        % {"kpi": f.kpi.name, "forecast": f.forecast_text, "plan": f.plan_text}
                        for f in risky
                    )
                }
            )
            severity += 2 * len(risky)
        for kpi, last, usual in drops.get(manager.pk, []):
            reasons.append(
                _("резкий спад: %(kpi)s %(last)s %% за прошлую неделю против %(usual)s %% обычно")
                % {"kpi": kpi.name, "last": f"{last:.0f}", "usual": f"{usual:.0f}"}
            )
            severity += 2
        if reasons:
            shown = [f.shown_completion for f in figures if f.shown_completion is not None]
            items.append(Attention(manager, reasons, severity, min(shown) if shown else None))
    items.sort(key=lambda a: (-a.severity, a.worst if a.worst is not None else Decimal(9999)))
    return items


def sharp_drops(
    *, company: Company, today: datetime.date, kpis: dict[int, KPI], manager_ids: list[int]
) -> dict[int, list[tuple[KPI, Decimal, Decimal]]]:
    """(KPI, last full week's completion, the mean of the weeks before) where it fell sharply."""
    last_monday = week_bounds(today)[0] - datetime.timedelta(days=7)
    first_monday = last_monday - datetime.timedelta(days=7 * DROP_WEEKS)
    rows = Total.objects.filter(
        company=company, scope=Scope.MANAGER, period="week", subject_id__in=manager_ids,
        start__gte=first_monday, start__lte=last_monday, completion__isnull=False,
    ).values_list("subject_id", "kpi_id", "start", "completion")  # fmt: skip
    history: dict[tuple[int, int], dict[datetime.date, Decimal]] = defaultdict(dict)
    for manager_id, kpi_id, start, value in rows:
        history[(manager_id, kpi_id)][start] = value
    drops: dict[int, list[tuple[KPI, Decimal, Decimal]]] = defaultdict(list)
    for (manager_id, kpi_id), weeks in history.items():
        last = weeks.pop(last_monday, None)
        if last is None or len(weeks) < 2 or kpi_id not in kpis:
            continue
        usual = sum(weeks.values(), Decimal(0)) / len(weeks)
        if usual - last >= DROP_POINTS:
            drops[manager_id].append((kpis[kpi_id], last, usual))
    return drops


# Since the last visit


def month_bands(*, figures: dict[tuple[int, int], Figure]) -> dict[str, str]:
    return {f"{m}:{k}": f.shown_band for (m, k), f in figures.items()}


@dataclass
class Change:
    manager: User
    text: str
    kind: str  # "red", "recovered", "correction"


@dataclass
class SinceLastVisit:
    since: datetime.datetime | None
    changes: list[Change]
    digest: str


def visit_record(
    *,
    company: Company,
    viewer: User,
    kpis: dict[int, KPI],
    managers: list[User],
    now: datetime.datetime | None = None,
    month_figures: dict[tuple[int, int], Figure] | None = None,
) -> SinceLastVisit:
    """What changed since the viewer's last visit: new reds, recoveries, corrections.

    Records this visit too (a visit ends after VISIT_GAP away), so it is a read with a
    write, called once per full page view, never by the polling partials.
    """
    now = now or timezone.now()
    today = company.local_time(now).date()
    month = Window.around("month", today)
    figures = month_figures
    if figures is None:
        figures = figures_of_window(
            company=company, window=month, kpis=kpis, scope=Scope.MANAGER,
            subject_ids=[m.pk for m in managers],
        )  # fmt: skip
    bands = month_bands(figures=figures)
    visit = DashboardVisit.objects.filter(company=company, user=viewer).first()
    if visit is None:
        visit = DashboardVisit(
            company=company, user=viewer, baseline_at=now, baseline_month=month.start,
            baseline_bands=bands,
        )  # fmt: skip
    elif now - visit.last_seen_at > VISIT_GAP:
        visit.baseline_at = visit.last_seen_at
        visit.baseline_month = visit.seen_month
        visit.baseline_bands = visit.seen_bands
    visit.last_seen_at, visit.seen_month, visit.seen_bands = now, month.start, bands
    if visit.pk is None:
        visit.save()
    else:  # the row is the viewer's own: one UPDATE, without save()'s reference checks
        DashboardVisit.objects.filter(company=company, pk=visit.pk).update(
            **{f: getattr(visit, f) for f in VISIT_FIELDS}
        )
    changes = []
    by_id = {m.pk: m for m in managers}
    if visit.baseline_month == month.start:
        for key, band in sorted(bands.items()):
            before = visit.baseline_bands.get(key)
            manager_id, kpi_id = (int(part) for part in key.split(":"))
            kpi = kpis[kpi_id]
            if band == "red" and before != "red":
                changes.append(
                    Change(by_id[manager_id], _("%(kpi)s стал красным") % {"kpi": kpi.name}, "red")
                )
            elif before == "red" and band in ("yellow", "green"):
                changes.append(
                    Change(
                        by_id[manager_id],
                        _("%(kpi)s больше не красный") % {"kpi": kpi.name},
                        "recovered",
                    )
                )
    if visit.baseline_at < now:
        corrections = (
            ReportChange.objects.filter(
                company=company, changed_at__gt=visit.baseline_at,
                report__manager_id__in=list(by_id),
            )
            .exclude(changed_by=viewer)
            .select_related("report", "changed_by")
            .order_by("changed_at")
        )  # fmt: skip
        for change in corrections:
            kpi = kpis.get(change.kpi_id)
            if kpi is None:
                continue
            changes.append(
                Change(
                    by_id[change.report.manager_id],
                    _("исправлен отчёт за %(day)s: %(kpi)s %(old)s → %(new)s (%(who)s)")
                    % {
                        "day": change.report.date.strftime("%d.%m"),
                        "kpi": kpi.name,
                        "old": format_value(change.old_value, kpi),
                        "new": format_value(change.new_value, kpi),
                        "who": change.changed_by or "—",
                    },
                    "correction",
                )
            )
    since = visit.baseline_at if visit.baseline_at < now else None
    return SinceLastVisit(since, changes, visit.digest)


# The drill-down into one manager


@dataclass
class DayPoint:
    day: datetime.date
    actual: Decimal | None
    plan: Decimal | None


@dataclass
class ManagerMonth:
    manager: User
    month: Window
    kpis: list[KPI]
    figures: dict[int, Figure]  # KPI id → the month's figure
    days: dict[int, list[DayPoint]]  # KPI id → each reported day
    working_days: list[datetime.date]
    weeks: dict[int, list[tuple[datetime.date, Figure]]]  # KPI id → last 12 weeks
    reports: list[DailyReport]


TREND_WEEKS = 12


def manager_month(
    *, company: Company, manager: User, month: Window, kpis: dict[int, KPI] | None = None
) -> ManagerMonth:
    kpis = kpis if kpis is not None else company_kpis(company=company)
    today = company.today()
    role_kpis = role_kpi_sets(company=company, on=min(month.end, today), kpis=kpis).get(
        manager.sales_role_id, []
    )
    figures = {
        k: f
        for (_m, k), f in figures_of_window(
            company=company, window=month, kpis=kpis, scope=Scope.MANAGER, subject_ids=[manager.pk]
        ).items()
    }
    days: dict[int, list[DayPoint]] = defaultdict(list)
    for kpi_id, day, actual, plan in (
        Total.objects.filter(
            company=company, scope=Scope.MANAGER, subject_id=manager.pk, period="day",
            start__gte=month.start, start__lte=month.end,
        )
        .order_by("start")
        .values_list("kpi_id", "start", "actual", "plan")
    ):  # fmt: skip
        days[kpi_id].append(DayPoint(day, actual, plan))
    working = manager_working_days(
        company=company, manager=manager, start=month.start, end=month.end
    )
    first_week = week_bounds(month.end)[0] - datetime.timedelta(days=7 * (TREND_WEEKS - 1))
    weeks: dict[int, list[tuple[datetime.date, Figure]]] = defaultdict(list)
    for total in Total.objects.filter(
        company=company, scope=Scope.MANAGER, subject_id=manager.pk, period="week",
        start__gte=first_week, start__lte=month.end,
    ).order_by("start"):  # fmt: skip
        if total.kpi_id in kpis:
            weeks[total.kpi_id].append((total.start, figure_of_total(total, kpis[total.kpi_id])))
    reports = list(
        DailyReport.objects.filter(
            company=company, manager=manager, date__gte=month.start, date__lte=month.end
        )
        .prefetch_related(
            "values",
            Prefetch("changes", queryset=ReportChange.objects.select_related("changed_by")),
        )
        .order_by("-date")
    )
    return ManagerMonth(manager, month, role_kpis, figures, days, working, weeks, reports)


# Why is it red: back through the manager's own chain


# The sales chain, from the first touch to the money: each step converts the one before.
CHAIN = ("calls", "long_calls", "leads", "meetings", "deals_won", "deals_sum")


# A conversion above this says nothing: its denominator is all but zero (2 deals from 1 call).
CONVERSION_CAP = Decimal(1000)


@dataclass(frozen=True)
class Conversion:
    """A step's conversion from the step before, in percent, or why it has none."""

    value: Decimal | None
    reason: str = ""

    @property
    def text(self) -> str:
        if self.value is not None:
            return f"{self.value:.1f} %".replace(".", ",")
        return self.reason or "—"


def conversion_of(top: Figure | None, bottom: Figure | None) -> Conversion:
    """top ÷ bottom × 100 where that is a share: both counted in the same unit, and a
    denominator of at least one. Money per deal is an average check, not a conversion."""
    if top is None or bottom is None or top.actual is None or bottom.actual is None:
        return Conversion(None)
    if top.kpi.unit != bottom.kpi.unit or top.kpi.unit != KPI.Unit.COUNT:
        return Conversion(None, _("не доля: %(a)s и %(b)s в разных единицах") % {
            "a": bottom.kpi.name, "b": top.kpi.name,
        })  # fmt: skip
    if bottom.actual < 1:
        return Conversion(None, _("нет данных: знаменатель почти ноль"))
    value = top.actual / bottom.actual * 100
    if value > CONVERSION_CAP:
        return Conversion(None, _("нет данных: знаменатель почти ноль"))
    return Conversion(value.quantize(Decimal("0.1")))


NO_STEP = Conversion(None)


@dataclass
class ChainStep:
    """One link: the step's actual, and its conversion from the step before, against the team."""

    kpi: KPI
    figure: Figure | None
    previous: KPI | None
    mine: Conversion  # this step ÷ the step before
    team: Conversion
    completion: Decimal | None  # for the first step: its own plan completion
    team_completion: Decimal | None

    @property
    def conversion(self) -> Decimal | None:
        return self.mine.value

    @property
    def team_conversion(self) -> Decimal | None:
        return self.team.value

    @property
    def gap(self) -> Decimal | None:
        """How the manager compares with the team on this link (1 = as the team)."""
        mine, theirs = (
            (self.conversion, self.team_conversion)
            if self.previous is not None
            else (self.completion, self.team_completion)
        )
        if mine is None or not theirs:
            return None
        return mine / theirs


@dataclass
class Diagnosis:
    kpi: KPI
    figure: Figure | None
    steps: list[ChainStep]
    weakest: ChainStep | None


def why_red(
    *,
    company: Company,
    manager: User,
    window: Window,
    kpis: dict[int, KPI],
    role_kpis: list[KPI],
    figures: dict[int, Figure],
) -> list[Diagnosis]:
    """For each red or at-risk KPI, the manager's chain up to it and its weakest link.

    The chain is the part of CHAIN the manager's role reports, up to the KPI in question;
    each link is compared with the same link of the manager's team (its totals).
    """
    troubled = [
        k for k in role_kpis if (f := figures.get(k.pk)) and (f.shown_band == "red" or f.at_risk)
    ]
    if not troubled:
        return []
    team: dict[int, Figure] = {}
    if manager.team_id is not None:
        team = {
            k: f
            for (_t, k), f in figures_of_window(
                company=company, window=window, kpis=kpis, scope=Scope.TEAM,
                subject_ids=[manager.team_id],
            ).items()
        }  # fmt: skip
    own = {k.code: k for k in role_kpis}
    diagnoses = []
    for kpi in troubled:
        if kpi.code not in CHAIN:
            diagnoses.append(Diagnosis(kpi, figures.get(kpi.pk), [], None))
            continue
        chain = [own[c] for c in CHAIN[: CHAIN.index(kpi.code) + 1] if c in own]
        steps = []
        for index, step in enumerate(chain):
            before = chain[index - 1] if index else None
            mine, theirs = figures.get(step.pk), team.get(step.pk)
            steps.append(
                ChainStep(
                    kpi=step,
                    figure=mine,
                    previous=before,
                    mine=conversion_of(mine, figures.get(before.pk)) if before else NO_STEP,
                    team=conversion_of(theirs, team.get(before.pk)) if before else NO_STEP,
                    completion=mine.shown_completion if mine else None,
                    team_completion=theirs.shown_completion if theirs else None,
                )
            )
        weighed = [s for s in steps if s.gap is not None]
        weakest = min(weighed, key=lambda s: s.gap) if weighed else None  # type: ignore[arg-type, return-value]
        diagnoses.append(Diagnosis(kpi, figures.get(kpi.pk), steps, weakest))
    return diagnoses


# Every figure explains itself


@dataclass
class Record:
    day: datetime.date
    kpi: KPI
    value: Decimal
    report: DailyReport

    @property
    def text(self) -> str:
        return format_value(self.value, self.kpi)


def figure_records(*, company: Company, manager: User, kpi: KPI, window: Window) -> list[Record]:
    """The reported days a figure counted: the KPI's own values, or a ratio's two parts."""
    parts = [kpi]
    if kpi.aggregation == KPI.Aggregation.RATIO and kpi.numerator and kpi.denominator:
        parts = [kpi.numerator, kpi.denominator]
    by_id = {p.pk: p for p in parts}
    for part in parts:
        part.company = company
    values = (
        ReportValue.objects.filter(
            company=company, kpi_id__in=list(by_id), report__manager=manager,
            report__date__gte=window.start, report__date__lte=window.end,
        )
        .select_related("report")
        .order_by("report__date", "kpi_id")
    )  # fmt: skip
    return [Record(v.report.date, by_id[v.kpi_id], v.value, v.report) for v in values]


def formula_lines(figure: Figure) -> list[str]:
    """How the figure was computed, in words and numbers."""
    kpi = figure.kpi
    lines = []
    if kpi.aggregation == KPI.Aggregation.SUM:
        lines.append(
            _("Факт = сумма за %(days)d дн. с отчётом = %(actual)s")
            % {"days": figure.days_reported, "actual": figure.actual_text}
        )
    elif kpi.aggregation == KPI.Aggregation.AVERAGE:
        lines.append(
            _("Факт = среднее по дням с отчётом: %(sum)s ÷ %(days)d = %(actual)s")
            % {
                "sum": format_value(figure.value_sum, kpi),
                "days": figure.days_reported,
                "actual": figure.actual_text,
            }
        )
    elif kpi.aggregation == KPI.Aggregation.LAST:
        lines.append(
            _("Факт = последнее значение за период = %(actual)s") % {"actual": figure.actual_text}
        )
    else:
        lines.append(
            _("Факт = Σ %(top)s ÷ Σ %(bottom)s = %(s)s ÷ %(n)s = %(actual)s")
            % {
                "top": kpi.numerator.name if kpi.numerator else "",
                "bottom": kpi.denominator.name if kpi.denominator else "",
                "s": f"{figure.value_sum.normalize():f}",
                "n": f"{figure.value_count.normalize():f}",
                "actual": figure.actual_text,
            }
        )
    if figure.plan is not None:
        if kpi.is_summed:
            lines.append(
                _(
                    "План = план месяца, разделённый на рабочие дни менеджера "
                    "(%(days)s в периоде) = %(plan)s"
                )
                % {"days": figure.working_days or "—", "plan": figure.plan_text}
            )
        else:
            lines.append(
                _("План = цель месяца, одна на любой период = %(plan)s")
                % {"plan": figure.plan_text}
            )
    if figure.completion is not None:
        formula = _("план ÷ факт") if kpi.direction == KPI.Direction.LOWER else _("факт ÷ план")
        lines.append(
            _("Выполнение = %(formula)s × 100 = %(value)s %%")
            % {"formula": formula, "value": f"{figure.completion:.1f}".replace(".", ",")}
        )
    if figure.running and figure.forecast is not None:
        if kpi.is_summed:
            lines.append(
                _(
                    "Прогноз по темпу = факт ÷ %(elapsed)d прошедших рабочих дн. × "
                    "%(working)d рабочих дн. = %(forecast)s"
                )
                % {
                    "elapsed": figure.elapsed_days or 0,
                    "working": figure.working_days or 0,
                    "forecast": figure.forecast_text,
                }
            )
        else:
            lines.append(
                _("Прогноз = нынешнее значение = %(forecast)s") % {"forecast": figure.forecast_text}
            )
        if figure.pace_completion is not None:
            lines.append(
                _("Цвет по темпу: прогноз ÷ план = %(value)s %%")
                % {"value": f"{figure.pace_completion:.1f}".replace(".", ",")}
            )
    if figure.shown_completion is not None:
        # The colour is that of the percent shown, so the two never disagree (kpi.bands).
        lines.append(
            _("Цвет — по показанному числу: %(percent)s, %(band)s")
            % {"percent": figure.percent_text, "band": figure.band_label}
        )
    return lines
