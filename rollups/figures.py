"""A KPI's figures for one subject over one window, read from the stored totals.

Day, week and month windows read their own `rollups.Total` rows. A custom range adds up the
daily totals in SQL by the KPI's own rule (sums add, averages and ratios divide Σ by Σ, a
last value is the latest day's), so a range costs the same few queries as a month.
"""

import datetime
import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Sum, Value, When
from django.utils.translation import gettext_lazy as _

from accounts.models import Company, User
from accounts.selectors import memberships_during
from kpi.aggregation import DailyFigures, period_value
from kpi.bands import Band, Reading, completion, has_plan, reading
from kpi.calendar import WorkCalendar, calendar_for
from kpi.models import KPI
from kpi.periods import Window, month_bounds
from kpi.selectors import ManagerPlans, managers_plans
from kpi.values import format_plan, format_value
from reports.models import DailyReport
from rollups.engine import PLAN_PLACES
from rollups.models import Scope, Total
from salesdesk.statements import Fixed, Statement

FOUR_PLACES = Decimal("0.0001")


class ReadingKind(StrEnum):
    """The two readings of a running period (DOMAIN.md), named the same on every surface."""

    DONE = "done"  # done so far: actual ÷ the plan to date (a finished period: ÷ its plan)
    PACE = "pace"  # pace: forecast ÷ the whole period's plan

    @property
    def label(self) -> str:
        return str(READING_LABELS[self])


READING_LABELS = {ReadingKind.DONE: _("выполнено на сегодня"), ReadingKind.PACE: _("по темпу")}
# A running period with a plan and nothing to read yet (Figure.waiting), not «нет плана».
WAITING_LABEL = _("пока без оценки")
# The light's reading, as a legend says it: a finished period's done is its completion.
BAND_BASES = {ReadingKind.DONE: _("по выполнению"), ReadingKind.PACE: _("по темпу")}


@dataclass(frozen=True)
class Figure:
    """What every surface shows of one KPI for one subject and window: actual, plan, the
    two readings of a running period and the colour.

    The one rule of the light: while the period runs it is coloured by its pace (forecast ÷
    the whole period's plan), when it is over by its completion; either way the colour of
    the whole percent printed (kpi.bands.reading). `completion` is what the engine stores:
    actual ÷ the whole period's plan (of a running period, the share of it done already).
    """

    kpi: KPI
    actual: Decimal | None
    plan: Decimal | None
    completion: Decimal | None
    band: str  # the stored band, the colour of `completion`: no surface shows it
    value_sum: Decimal = Decimal(0)
    value_count: Decimal = Decimal(0)
    days_reported: int = 0
    working_days: int | None = None
    elapsed_days: int | None = None
    forecast: Decimal | None = None
    at_risk: bool = False
    meeting_plan: bool | None = None
    share_meeting_plan: Decimal | None = None
    plan_to_date: Decimal | None = None

    # The properties every surface reads several times per figure (a table cell, the
    # attention list, the tiles) are worked out once: a Figure never changes.
    @cached_property
    def running(self) -> bool:
        """The period is still running: a manager's total counts elapsed days, a team's has
        a forecast."""
        return self.elapsed_days is not None or self.forecast is not None

    @cached_property
    def done_so_far_completion(self) -> Decimal | None:
        """Done so far: actual ÷ the plan to date; a finished period's completion."""
        if not self.running:
            return self.completion
        return completion(actual=self.actual, plan=self.plan_to_date, direction=self.kpi.direction)

    @cached_property
    def pace_completion(self) -> Decimal | None:
        """Pace: the forecast ÷ the whole period's plan, while the period runs."""
        if not self.running:
            return None
        return completion(actual=self.forecast, plan=self.plan, direction=self.kpi.direction)

    @cached_property
    def band_reading(self) -> ReadingKind:
        """Which reading colours the light: the pace while the period runs, else done."""
        return ReadingKind.PACE if self.running else ReadingKind.DONE

    @property
    def band_basis(self) -> str:
        """Which reading colours the light, in words: «по темпу» or «по выполнению»."""
        return str(BAND_BASES[self.band_reading])

    @cached_property
    def shown_completion(self) -> Decimal | None:
        if self.band_reading == ReadingKind.PACE:
            return self.pace_completion
        return self.done_so_far_completion

    @cached_property
    def waiting(self) -> bool:
        """A running period with a plan but no reading yet: no working day of it is over
        and reported (a week's first morning before the report), or nothing is reported, so
        there is neither a pace nor a plan to date. It has a plan: every surface says
        «пока без оценки» (WAITING_LABEL), not «нет плана»."""
        return (
            self.running
            and self.shown_completion is None
            and has_plan(self.plan, self.kpi.direction)
        )

    @cached_property
    def reading(self) -> Reading:
        """The completion that colours the light, as shown, and the colour of that number."""
        return reading(self.kpi, self.shown_completion)

    @cached_property
    def done_reading(self) -> Reading:
        return reading(self.kpi, self.done_so_far_completion)

    @cached_property
    def pace_reading(self) -> Reading:
        return reading(self.kpi, self.pace_completion)

    @cached_property
    def shown_band(self) -> str:
        return str(self.reading.band)

    @cached_property
    def percent_text(self) -> str:
        return self.reading.text

    @property
    def band_label(self) -> str:
        return str(WAITING_LABEL) if self.waiting else self.reading.label

    @property
    def actual_text(self) -> str:
        return format_value(self.actual, self.kpi)

    @property
    def plan_text(self) -> str:
        return format_plan(self.plan, self.kpi)

    @property
    def forecast_text(self) -> str:
        return format_value(self.forecast, self.kpi)

    @property
    def plan_to_date_text(self) -> str:
        return format_plan(self.plan_to_date, self.kpi)


EXACT = Decimal(1).scaleb(-PLAN_PLACES)


def _q(value: Decimal | None, places: Decimal) -> Decimal | None:
    return None if value is None else value.quantize(places, rounding=ROUND_HALF_UP)


def figure_of_days(
    *,
    kpi: KPI,
    days: DailyFigures,
    plans: ManagerPlans,
    start: datetime.date,
    end: datetime.date,
    today: datetime.date,
    reported_today: bool,
) -> Figure:
    """One manager's figure for [start, end] straight from their reported days, the way
    rollups.engine stores it (rounded as it rounds), for the pages that read the reports
    themselves: «Мои показатели» and the end-of-day form. `today` is the day the figure is
    seen on; a week or month holding it is running, its days counted to today once the
    manager's report of today is in (`reported_today`; a source's figure of today is not
    one), else to yesterday. The readings and the light are then Figure's, as on every
    other surface."""
    inside = {day: values for day, values in days.items() if start <= day <= end}
    actual = _q(period_value(kpi, inside), FOUR_PLACES)
    plan = _q(plans.period_plan(kpi, start, end), EXACT)
    working = plans.working_days(start, end)
    running = start != end and start <= today <= end
    elapsed = forecast = plan_to_date = None
    at_risk = False
    if running:
        # As the engine counts them: to today once today is reported, else to yesterday.
        as_of = today if reported_today else today - datetime.timedelta(days=1)
        elapsed = len([day for day in working if day <= as_of])
        if not kpi.is_summed:
            forecast, plan_to_date = actual, plan
        else:
            if elapsed and actual is not None:
                forecast = _q(actual * len(working) / elapsed, FOUR_PLACES)
            if plan is not None and working:
                plan_to_date = plan * elapsed / len(working)
        if forecast is not None and plan is not None:
            lower = kpi.direction == KPI.Direction.LOWER
            at_risk = forecast > plan if lower else forecast < plan
    value = completion(actual=actual, plan=plan, direction=kpi.direction)
    return Figure(
        kpi=kpi,
        actual=actual,
        plan=_q(plan, FOUR_PLACES),
        completion=value,
        band=str(reading(kpi, value).band),
        days_reported=len(inside),
        working_days=len(working) or None,
        elapsed_days=elapsed,
        forecast=forecast,
        at_risk=at_risk,
        plan_to_date=_q(plan_to_date, FOUR_PLACES),
    )


def actual_from_parts(kpi: KPI, s: Decimal, n: Decimal, last: Decimal | None) -> Decimal | None:
    """kpi.aggregation.period_value() from summed parts, as rollups.engine computes it."""
    if kpi.aggregation == KPI.Aggregation.SUM:
        value = s
    elif kpi.aggregation == KPI.Aggregation.LAST:
        value = last
    elif not n:
        return None
    elif kpi.aggregation == KPI.Aggregation.RATIO and kpi.unit == KPI.Unit.PERCENT:
        value = s * 100 / n
    else:
        value = s / n
    return None if value is None else value.quantize(FOUR_PLACES)


Key = tuple[int, int]  # (subject id, KPI id)
ScopedKey = tuple[str, int, int]  # (scope, subject id, KPI id)


def figures_of_window(
    *,
    company: Company,
    window: Window,
    kpis: dict[int, KPI],
    scope: str,
    subject_ids: Iterable[int],
    calendar: WorkCalendar | None = None,
) -> dict[Key, Figure]:
    """One scope's subjects' figures per KPI over the window: (subject id, KPI id) → figure."""
    found = figures_of_subjects(
        company=company, window=window, kpis=kpis, subjects={scope: subject_ids},
        calendar=calendar,
    )  # fmt: skip
    return {(subject, kpi): figure for (_scope, subject, kpi), figure in found.items()}


def figures_of_subjects(
    *,
    company: Company,
    window: Window,
    kpis: dict[int, KPI],
    subjects: Mapping[str, Iterable[int]],
    calendar: WorkCalendar | None = None,
    plans: bool = True,
) -> dict[ScopedKey, Figure]:
    """Figures of managers, teams and the company at once: (scope, subject id, KPI id) →
    figure, in one query for a day, week or month and three for a range (which needs the
    company's calendar: pass it when it is at hand). Without `plans` a range is only its
    actuals, in one query less (what comparisons with earlier periods need)."""
    read = FiguresRead(window, subjects, plans)
    return figures_of_reads(company=company, kpis=kpis, reads=[read], calendar=calendar)[0]


@dataclass(frozen=True)
class FiguresRead:
    """One read of figures_of_reads: a window's figures of these subjects (figures_of_subjects)."""

    window: Window
    subjects: Mapping[str, Iterable[int]]
    plans: bool = True


def _bucket_totals(company: int, spec: tuple[tuple[str, tuple[str, ...]], ...], **values: Any):
    match = Q()
    for number, (period, scopes) in enumerate(spec):
        subjects = {scope: values[f"ids{number}_{scope}"] for scope in scopes}
        match |= Q(period=period, start=values[f"start{number}"]) & _subjects_match(subjects)
    return (
        Total.objects.filter(match, company=company)
        .order_by()
        .values_list("period", "start", "scope", "subject_id", "kpi_id", *FIGURE_COLUMNS)
    )


# Every day, week and month figures_of_reads is asked for, in one statement compiled once for
# each shape of the reads (the dashboard and its poll ask the same ones on every request).
_BUCKET_TOTALS = Statement(_bucket_totals)


def figures_of_reads(
    *,
    company: Company,
    kpis: dict[int, KPI],
    reads: Sequence[FiguresRead],
    calendar: WorkCalendar | None = None,
) -> list[dict[ScopedKey, Figure]]:
    """figures_of_subjects for several windows, in the order asked: every day, week and
    month among them read in one query (a page comparing a window with the period before,
    a year earlier and the running month pays one round trip, not four); a range as
    figures_of_subjects reads it."""
    found: list[dict[ScopedKey, Figure]] = [{} for _read in reads]
    wanted: dict[tuple[str, datetime.date], list[tuple[int, dict[str, set[int]]]]] = {}
    spec: list[tuple[str, tuple[str, ...]]] = []  # each bucket read: its period, its scopes
    values: dict[str, Any] = {}
    ranges = []
    for index, read in enumerate(reads):
        subjects = {scope: set(ids) for scope, ids in read.subjects.items()}
        if read.window.is_bucket:
            wanted.setdefault((read.window.kind, read.window.start), []).append((index, subjects))
            number = len(spec)
            spec.append((read.window.kind, tuple(subjects)))
            values[f"start{number}"] = read.window.start
            values.update((f"ids{number}_{scope}", ids) for scope, ids in subjects.items())
        else:
            ranges.append((index, read, subjects))
    # Ranges that share no day are summed in one query (the period before and a year
    # earlier of a running week), each row labelled by the range it falls in.
    windows = sorted((read.window.start, read.window.end) for _index, read, _subjects in ranges)
    disjoint = all(end < start for (_s, end), (start, _e) in itertools.pairwise(windows))
    for group in [ranges] if disjoint else [[found_range] for found_range in ranges]:
        if not group:
            continue
        calendar = calendar or calendar_for(company=company)
        rows, latest = _range_days(company=company, kpis=kpis, group=group)
        for index, read, subjects in group:
            window = read.window
            month_totals = Total.objects.filter(
                _subjects_match(subjects), company=company, period="month",
                start__gte=month_bounds(window.start)[0], start__lte=window.end,
            )  # fmt: skip
            found[index] = _range_figures(
                rows.get(index, []),
                latest.get(index, {}),
                month_totals if read.plans else Total.objects.none(),
                kpis,
                window,
                calendar,
                _range_members(company=company, window=window, subjects=subjects)
                if read.plans
                else None,
                company,
            )
    if wanted:
        # Plain rows, not model instances: a hundred managers' totals are thousands of rows.
        rows = _BUCKET_TOTALS(company=company.pk, spec=Fixed(tuple(spec)), **values)
        for period, start, scope, subject_id, kpi_id, *values in rows:
            kpi = kpis.get(kpi_id)
            if kpi is None:
                continue
            figure = None
            for index, subjects in wanted.get((period, start), ()):
                if subject_id in subjects.get(scope, ()):
                    # One Figure for every read of the same row (they are frozen).
                    figure = figure or _figure(kpi, dict(zip(FIGURE_COLUMNS, values, strict=True)))
                    found[index][(scope, subject_id, kpi_id)] = figure
    return found


def _subjects_match(subjects: Mapping[str, Iterable[int]]) -> Q:
    match = Q()
    for scope, ids in subjects.items():
        match |= Q(scope=scope, subject_id__in=list(ids))
    return match


FIGURE_COLUMNS = (
    "actual", "plan", "completion", "band", "value_sum", "value_count", "days_reported",
    "working_days", "elapsed_days", "forecast", "at_risk", "meeting_plan", "share_meeting_plan",
    "plan_to_date",
)  # fmt: skip


def _figure(kpi: KPI, values: dict) -> Figure:
    values["band"] = values["band"] or str(Band.NONE)
    return Figure(kpi, **values)


def figure_of_total(total: Total, kpi: KPI) -> Figure:
    return _figure(kpi, {name: getattr(total, name) for name in FIGURE_COLUMNS})


# A manager whose plan counts in a subject's range plan, and the days of the range it covers.
Member = tuple[User, datetime.date, datetime.date]


def _range_members(
    *, company: Company, window: Window, subjects: Mapping[str, Iterable[int]]
) -> dict[ScopedKey | tuple[str, int], list[Member]]:
    """The managers whose plans make each subject's range plan: a manager is their own; a team
    (the company) is every manager in it who is active or reported in the range, whether they
    reported or not (DOMAIN.md: a team's plan is the whole team's plan), a team only for the
    days they spent in it (accounts.selectors.memberships_during)."""
    ids = {scope: list(found) for scope, found in subjects.items()}
    stays = []
    if ids.get(Scope.TEAM):
        stays = list(
            memberships_during(
                company=company, start=window.start, end=window.end, teams=ids[Scope.TEAM]
            )
        )
    match = Q(pk__in=ids.get(Scope.MANAGER, [])) | Q(pk__in=[stay.user_id for stay in stays])
    if ids.get(Scope.COMPANY):
        match = Q()
    reported = DailyReport.objects.filter(
        company=company, manager=OuterRef("pk"), date__gte=window.start, date__lte=window.end
    )
    people = list(
        User.objects.filter(match, company=company, role=User.Role.MANAGER).filter(
            Q(is_active=True) | Exists(reported) | Q(pk__in=ids.get(Scope.MANAGER, []))
        )
    )
    members: dict[ScopedKey | tuple[str, int], list[Member]] = defaultdict(list)
    wanted = {scope: set(found) for scope, found in ids.items()}
    whole = (window.start, window.end)
    for person in people:
        if person.pk in wanted.get(Scope.MANAGER, ()):
            members[(Scope.MANAGER, person.pk)].append((person, *whole))
        for company_id in wanted.get(Scope.COMPANY, ()):
            members[(Scope.COMPANY, company_id)].append((person, *whole))
    by_pk = {person.pk: person for person in people}
    for stay in stays:
        days = stay.days_within(window.start, window.end)
        if stay.user_id in by_pk and days:
            members[(Scope.TEAM, stay.team_id)].append((by_pk[stay.user_id], *days))
    return members


RangeGroup = list[tuple[int, FiguresRead, dict[str, set[int]]]]


def _range_days(
    *, company: Company, kpis: dict[int, KPI], group: RangeGroup
) -> tuple[dict[int, list[dict]], dict[int, dict[ScopedKey, tuple[datetime.date, Decimal]]]]:
    """The daily totals of ranges that share no day, summed per range (its index among the
    reads) and subject, and each last-value KPI's latest reported day in each range."""
    match = Q()
    labels = []
    for index, read, subjects in group:
        inside = Q(start__gte=read.window.start, start__lte=read.window.end)
        match |= inside & _subjects_match(subjects)
        labels.append(When(inside, then=Value(index)))
    days = Total.objects.filter(match, company=company, period="day")
    rows: dict[int, list[dict]] = defaultdict(list)
    for row in (
        days.order_by()
        .annotate(read=Case(*labels, output_field=IntegerField()))
        .values("read", "scope", "subject_id", "kpi_id")
        .annotate(s=Sum("value_sum"), n=Sum("value_count"), days=Sum("days_reported"))
    ):
        rows[row["read"]].append(row)
    # A last-value KPI's figure is its latest reported day's: read only those KPIs' days.
    last_kpis = [pk for pk, k in kpis.items() if k.aggregation == KPI.Aggregation.LAST]
    latest: dict[int, dict[ScopedKey, tuple[datetime.date, Decimal]]] = defaultdict(dict)
    for scope, subject_id, kpi_id, start, value in days.filter(
        kpi_id__in=last_kpis, last_value__isnull=False
    ).values_list("scope", "subject_id", "kpi_id", "start", "last_value"):
        key = (scope, subject_id, kpi_id)
        for index, read, _subjects in group:
            if read.window.contains(start):
                mine = latest[index]
                if key not in mine or mine[key][0] < start:
                    mine[key] = (start, value)
    return rows, latest


def _range_figures(
    rows: list[dict],
    latest: dict[ScopedKey, tuple[datetime.date, Decimal]],
    month_totals: QuerySet[Total],
    kpis: dict[int, KPI],
    window: Window,
    calendar: WorkCalendar,
    members: dict[ScopedKey | tuple[str, int], list[Member]] | None,
    company: Company,
) -> dict[ScopedKey, Figure]:
    """A custom range: the facts from the daily totals (_range_days), the plan by the one
    split.

    A manager's plan for the range is kpi.selectors' ManagerPlans.period_plan, the rule of
    every other surface (each month's plan over the manager's working days, absences
    excluded). A team's or the company's plan of a summed KPI is the sum of its managers'
    plans (in a team, for the days they spent in it); the target of any other KPI is the
    mean of the months' stored targets.
    """
    targets: dict[ScopedKey, list[Decimal]] = defaultdict(list)
    for scope, subject_id, kpi_id, plan in month_totals.order_by().values_list(
        "scope", "subject_id", "kpi_id", "plan"
    ):
        if plan is not None and kpi_id in kpis and not kpis[kpi_id].is_summed:
            targets[(scope, subject_id, kpi_id)].append(plan)
    people = {p.pk: p for found in (members or {}).values() for p, _first, _last in found}
    split = (
        managers_plans(
            company=company, managers=people.values(), start=window.start, end=window.end,
            calendar=calendar,
        )
        if members is not None
        else {}
    )  # fmt: skip

    def plan_of(scope: str, subject_id: int, kpi: KPI) -> Decimal | None:
        if members is None:
            return None
        if scope == Scope.MANAGER:
            return split[subject_id].period_plan(kpi, window.start, window.end)
        if not kpi.is_summed:
            found = targets.get((scope, subject_id, kpi.pk))
            return sum(found, Decimal(0)) / len(found) if found else None
        shares = [
            split[person.pk].period_plan(kpi, first, last)
            for person, first, last in members.get((scope, subject_id), [])
        ]
        present = [share for share in shares if share is not None]
        return sum(present, Decimal(0)) if present else None

    figures = {}
    for row in rows:
        key = (row["scope"], row["subject_id"], row["kpi_id"])
        kpi = kpis.get(row["kpi_id"])
        if kpi is None:
            continue
        last = latest.get(key)
        actual = actual_from_parts(kpi, row["s"], row["n"], last[1] if last else None)
        plan = plan_of(row["scope"], row["subject_id"], kpi)
        # Completion from the exact plan; the plan is kept to 4 places, as stored totals are.
        value = completion(actual=actual, plan=plan, direction=kpi.direction)
        figures[key] = Figure(
            kpi=kpi,
            actual=actual,
            plan=None if plan is None else plan.quantize(FOUR_PLACES),
            completion=value,
            band=str(reading(kpi, value).band),
            value_sum=row["s"],
            value_count=row["n"],
            days_reported=row["days"],
        )
    return figures


_KPIS = Statement(lambda company: KPI.objects.filter(company=company))


def company_kpis(*, company: Company) -> dict[int, KPI]:
    """The company's KPIs by id, each holding its company so that formatting costs no query."""
    kpis = {kpi.pk: kpi for kpi in _KPIS(company=company.pk)}
    for kpi in kpis.values():
        kpi.company = company
        # A ratio's parts are the company's own KPIs: linked here, not joined in SQL.
        kpi.numerator = kpis.get(kpi.numerator_id)
        kpi.denominator = kpis.get(kpi.denominator_id)
    return kpis
