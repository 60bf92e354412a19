"""The team table: managers × their role's KPIs over a window, grouped by role, with the
teams' (and the company's) summaries against the earlier periods."""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy

from accounts.models import Company, SalesRole, Team, User
from accounts.selectors import managers_in_view_list, teams_in_view
from dashboard.selectors.attention import at_risk_shown
from kpi.calendar import WorkCalendar, calendar_for
from kpi.models import KPI
from kpi.periods import Window
from kpi.selectors import role_kpi_sets
from kpi.values import format_date
from reports.figures import Sides, figure_sides, sides_by_group
from reports.selectors import report_statuses
from rollups.figures import (
    Figure,
    FiguresRead,
    ScopedKey,
    company_kpis,
    figures_of_reads,
)
from rollups.models import Scope
from rollups.selectors import plan_advice


@dataclass
class Cell:
    """One manager's KPI in the table, with the previous period's figure for comparison."""

    figure: Figure | None
    previous: Figure | None = None
    # The manager's and the source's figures where the KPI is checked against a source and
    # they differ over the window (reports/figures.py): the cell flags it with both.
    sides: Sides | None = None

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
    status: str  # the table's report day's: submitted, late, missing, absent, day_off, not_joined
    cells: list[Cell]

    @property
    def at_risk(self) -> bool:
        return any(at_risk_shown(c.figure) for c in self.cells)

    @cached_property
    def score(self) -> Decimal | None:
        """The leaderboard's measure: the mean of the shown completions of the role's KPIs,
        each capped at LEADER_CAP so that one runaway KPI does not hide the others."""
        shown = [
            min(c.figure.shown_completion, LEADER_CAP)
            for c in self.cells
            if c.figure is not None and c.figure.shown_completion is not None
        ]
        return (sum(shown, Decimal(0)) / len(shown)).quantize(Decimal(1)) if shown else None


# A completion above this counts as this much on the leaderboard (ManagerRow.score).
LEADER_CAP = Decimal(150)


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

    @property
    def best_of_kpis(self) -> list[tuple[KPI, Benchmark | None]]:
        """Each KPI with its best on the role: a phone's card names the KPI even where none."""
        return list(zip(self.kpis, self.best, strict=False))

    @property
    def leaders(self) -> list[ManagerRow]:
        """The role's managers by their score, best first; those without one last."""
        return sorted(self.rows, key=lambda r: (r.score is None, -(r.score or 0), str(r.manager)))


@dataclass
class SummaryLine:
    kpi: KPI
    figure: Figure | None
    previous: Figure | None
    year_earlier: Figure | None
    sides: Sides | None = None

    @property
    def advice(self) -> str:
        return plan_advice(self.figure.share_meeting_plan) if self.figure else ""


@dataclass
class Summary:
    """A team's (or the company's) totals per KPI against the two earlier periods."""

    name: str
    lines: list[SummaryLine]

    @property
    def band_counts(self) -> list[tuple[str, int]]:
        """How many of the KPIs are red, yellow and green: the folded tiles' one line."""
        bands = [line.figure.shown_band for line in self.lines if line.figure]
        return [(band, bands.count(band)) for band in ("red", "yellow", "green") if band in bands]

    @property
    def advice(self) -> list[tuple[str, list[KPI]]]:
        """Each piece of plan advice once, with the KPIs it is about (not a line per KPI)."""
        grouped: dict[str, list[KPI]] = {}
        for line in self.lines:
            if line.advice:
                grouped.setdefault(line.advice, []).append(line.kpi)
        return list(grouped.items())


@dataclass
class TeamTable:
    window: Window
    today: datetime.date
    groups: list[RoleGroup]
    summaries: list[Summary]
    sort: str
    descending: bool
    figures: dict[ScopedKey, Figure]  # the window's, of managers, teams (and the company)
    report_day: datetime.date  # whose reports the status column shows (report_day_of)
    # The managers' figures of each month team_table was asked for: (manager id, KPI id).
    months: dict[Window, dict[tuple[int, int], Figure]] = field(default_factory=dict)

    @property
    def report_label(self) -> str:
        """The status column's heading: the day it shows, not «today» on a past day's page."""
        if self.report_day == self.today:
            return gettext("Отчёт сегодня")
        return gettext("Отчёт за %(day)s") % {
            "day": f"{date_format(self.report_day, 'D')} {format_date(self.report_day, year=False)}"
        }

    def manager_figures(self) -> dict[tuple[int, int], Figure]:
        return {(m, k): f for (scope, m, k), f in self.figures.items() if scope == Scope.MANAGER}


# Today's report, in words (the table shows them as badges with icons).
REPORT_STATUSES = {
    "submitted": gettext_lazy("сдан"),
    "late": gettext_lazy("сдан с опозданием"),
    "missing": gettext_lazy("нет отчёта"),
    "absent": gettext_lazy("отсутствует"),
    "day_off": gettext_lazy("выходной"),
    "not_joined": gettext_lazy("ещё не работал"),
}


def report_day_of(window: Window, today: datetime.date, calendar: WorkCalendar) -> datetime.date:
    """The day whose reports the table's status column shows: a day's page, that day; a
    running week or month, today; a finished one, its last working day."""
    if window.end >= today:
        return max(window.start, today) if window.kind == "day" else today
    day = window.end
    while day > window.start and not calendar.is_working(day):
        day -= datetime.timedelta(days=1)
    return day


STATUS_ORDER = {"missing": 0, "late": 1, "submitted": 2, "absent": 3, "day_off": 4, "not_joined": 5}


def _best(rows: list[ManagerRow], index: int) -> Benchmark | None:
    """The manager with the highest completion of the KPI (ties: the larger actual); none
    where nobody has done any of it: a best of 0 (0 %) is no benchmark."""
    best = None
    for row in rows:
        figure = row.cells[index].figure
        if figure is None or not figure.shown_completion:
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
    teams: list[Team] | None = None,
    statuses: dict[tuple[int, datetime.date], str] | None = None,
    calendar: WorkCalendar | None = None,
    months: Iterable[Window] = (),
) -> TeamTable:
    """Managers × their role's KPIs over the window, grouped by role, with team summaries.

    `statuses` (reports by day), the teams in view and the calendar may come from the
    caller when it has read them already; the status column shows the window's day (report_day_of).
    `months`: the managers' figures of those months too (TeamTable.months), read with the
    table's own in one query.
    """
    today = company.today()
    kpis = kpis if kpis is not None else company_kpis(company=company)
    managers = (
        managers if managers is not None else managers_in_view_list(company=company, viewer=viewer)
    )
    ids = [m.pk for m in managers]
    calendar = calendar or calendar_for(company=company)
    sets = role_kpi_sets(company=company, on=min(window.end, today), kpis=kpis)
    # Managers, their teams (and for an admin the company) in one read per window.
    teams = teams if teams is not None else teams_in_view(company=company, viewer=viewer)
    summed = {Scope.TEAM: [t.pk for t in teams]}
    if viewer.can_administer:
        summed[Scope.COMPANY] = [company.pk]
    everyone = {Scope.MANAGER: ids, **summed}
    reads = [
        FiguresRead(window, everyone),
        # Earlier periods are compared by their actuals only.
        FiguresRead(window.previous().so_far(window, today), everyone, plans=False),
        FiguresRead(window.year_earlier().so_far(window, today), summed, plans=False),
    ]
    months = list(dict.fromkeys(months))
    other_months = [month for month in months if month != window]
    reads += [FiguresRead(month, {Scope.MANAGER: ids}) for month in other_months]
    now, before, year_earlier, *month_reads = figures_of_reads(
        company=company, kpis=kpis, reads=reads, calendar=calendar
    )
    report_day = report_day_of(window, today, calendar)
    if statuses is None or not any(day == report_day for _id, day in statuses):
        statuses = report_statuses(
            company=company, manager_ids=ids, days=[report_day], calendar=calendar
        )
    sides = figure_sides(
        company=company, manager_ids=ids, kpis=kpis.values(), start=window.start, end=window.end
    )
    by_role: dict[int | None, list[ManagerRow]] = defaultdict(list)
    roles: dict[int | None, SalesRole | None] = {}
    for manager in managers:
        role_kpis = sets.get(manager.sales_role_id, [])
        cells = [
            Cell(
                now.get((Scope.MANAGER, manager.pk, k.pk)),
                before.get((Scope.MANAGER, manager.pk, k.pk)),
                _differing(sides.get((manager.pk, k.pk))),
            )
            for k in role_kpis
        ]
        roles[manager.sales_role_id] = manager.sales_role
        by_role[manager.sales_role_id].append(
            ManagerRow(manager, statuses.get((manager.pk, report_day), "missing"), cells)
        )
    groups = []
    for role_id, rows in by_role.items():
        role_kpis = sets.get(role_id, [])
        _sort(rows, role_kpis, sort, descending)
        best = [_best(rows, index) for index in range(len(role_kpis))]
        groups.append(RoleGroup(roles[role_id], role_kpis, rows, best))
    groups.sort(key=lambda g: (g.role is None, str(g.role or "")))
    groups_of = {(Scope.TEAM, t.pk): [m.pk for m in managers if m.team_id == t.pk] for t in teams}
    if viewer.can_administer:
        groups_of[Scope.COMPANY, company.pk] = ids
    summed_sides: dict[ScopedKey, Sides] = {}
    for (scope, pk), members in groups_of.items():
        for (_pk, kpi_id), found in sides_by_group(sides, {pk: members}).items():
            summed_sides[scope, pk, kpi_id] = found
    summaries = team_summaries(
        company=company, viewer=viewer, teams=teams, sets=sets,
        figures=(now, before, year_earlier), sides=summed_sides,
    )  # fmt: skip
    table = TeamTable(window, today, groups, summaries, sort, descending, now, report_day)
    read = dict(zip(other_months, month_reads, strict=True))
    table.months = {
        month: {(m, k): f for (_scope, m, k), f in read[month].items()}
        if month in read
        else table.manager_figures()
        for month in months
    }
    return table


def _differing(sides: Sides | None) -> Sides | None:
    return sides if sides is not None and sides.differs else None


def team_summaries(
    *,
    company: Company,
    viewer: User,
    teams: list[Team],
    sets: dict[int, list[KPI]],
    figures: tuple[dict[ScopedKey, Figure], dict[ScopedKey, Figure], dict[ScopedKey, Figure]],
    sides: dict[ScopedKey, Sides] | None = None,
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
            SummaryLine(
                kpi,
                *(figures[i].get((scope, pk, kpi.pk)) for i in range(3)),
                _differing((sides or {}).get((scope, pk, kpi.pk))),
            )
            for kpi in ordered
        ]
        summaries.append(Summary(name, [line for line in lines if line.figure or line.previous]))
    return summaries
