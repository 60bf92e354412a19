import datetime
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet

from accounts.models import Company, SalesRole, Team, User
from accounts.permissions import may_plan
from accounts.selectors import managers_of_team
from kpi.calendar import WorkCalendar, calendar_for
from kpi.catalogue import CATALOGUE, SOURCE_LIST, CatalogueKPI, SourceItem
from kpi.models import KPI, Absence, Plan, PlanChange, RoleKPI
from kpi.periods import (
    days_between,
    is_week,
    month_bounds,
    month_end,
    month_start,
    months_between,
    shift_months,
)
from kpi.values import BOUNDS
from reports.models import ImportedFigure, ReportChange, ReportValue
from rollups.models import Total
from salesdesk.statements import Statement


def kpis_of_company(*, company: Company) -> QuerySet[KPI]:
    return KPI.objects.filter(company=company).select_related("numerator", "denominator")


def kpi_has_data(*, company: Company, kpi: KPI) -> bool:
    """Whether any figure was recorded in this KPI's unit and combined by its rule: a report
    value, an imported figure, a plan (or a plan's history) or a stored total."""
    return any(
        model.objects.filter(company=company, kpi=kpi).exists()
        for model in (ReportValue, ImportedFigure, Plan, PlanChange, Total, ReportChange)
    )


def active_on(on: datetime.date, *, through: str = "") -> Q:
    """RoleKPI rows in force on a day: started by then and not yet ended (`through`: the
    path to them from another model, e.g. "role_kpis__")."""
    return Q(**{f"{through}effective_from__lte": on}) & (
        Q(**{f"{through}effective_to__isnull": True}) | Q(**{f"{through}effective_to__gt": on})
    )


# The form, its submission and «Мои показатели» read it on every request: compiled once.
_KPIS_OF = Statement(lambda company, ids: KPI.objects.filter(company=company, pk__in=ids))
_ROLE_KPIS = Statement(
    lambda company, role, on: KPI.objects.filter(
        active_on(on, through="role_kpis__"), company=company, role_kpis__sales_role=role
    ).order_by("role_kpis__position", "role_kpis__id")
)


def role_kpis_on(
    *, company: Company, sales_role: SalesRole | int, on: datetime.date, with_parts: bool = True
) -> list[KPI]:
    """The role's KPI set on a day: past periods are shown with the set active then.

    The KPIs are read alone (in the role's order, through the one join the filter makes);
    a ratio's parts come from the set itself, and only parts outside it are read, in one
    more query: the form and the submission read this on every request. A caller that
    drops the ratios (the typed KPIs) may leave their parts unread (`with_parts=False`:
    a ratio's `numerator` and `denominator` are then not to be read)."""
    role_id = sales_role if isinstance(sales_role, int) else sales_role.pk
    kpis = _ROLE_KPIS(company=company.pk, role=role_id, on=on)
    by_id = {kpi.pk: kpi for kpi in kpis}
    parts = {
        part_id
        for kpi in kpis
        for part_id in (kpi.numerator_id, kpi.denominator_id)
        if part_id is not None
    }
    if with_parts and parts - by_id.keys():
        outside = sorted(parts - by_id.keys())
        by_id.update((part.pk, part) for part in _KPIS_OF(company=company.pk, ids=outside))
    for kpi in [*by_id.values()]:
        kpi.company = company  # a KPI's bands fall back to its company's (kpi.bands.thresholds)
    for kpi in kpis:
        if kpi.numerator_id in by_id:
            kpi.numerator = by_id[kpi.numerator_id]
        if kpi.denominator_id in by_id:
            kpi.denominator = by_id[kpi.denominator_id]
    return kpis


def manager_kpis(
    *, company: Company, manager: User, on: datetime.date, with_parts: bool = True
) -> list[KPI]:
    """The KPIs of the manager's sales role on a day (none without a role)."""
    if manager.sales_role_id is None:
        return []
    return role_kpis_on(
        company=company, sales_role=manager.sales_role_id, on=on, with_parts=with_parts
    )


def role_kpi_history(*, company: Company, sales_role: SalesRole) -> QuerySet[RoleKPI]:
    return (
        RoleKPI.objects.filter(company=company, sales_role=sales_role)
        .select_related("kpi", "changed_by")
        .order_by("-effective_from", "position")
    )


def month_plan(
    *, company: Company, manager: User, kpi: KPI, month: datetime.date
) -> Decimal | None:
    """The manager's own plan for the month, else the role's default, else None."""
    month = month.replace(day=1)
    plans = Plan.objects.filter(
        Q(manager=manager) | Q(sales_role_id=manager.sales_role_id, manager__isnull=True),
        company=company,
        kpi=kpi,
        period=Plan.Period.MONTH,
        start=month,
    ).values_list("manager_id", "value")
    values = dict(plans)
    return values.get(manager.pk, values.get(None))


def period_plan(
    *,
    company: Company,
    manager: User,
    kpi: KPI,
    start: datetime.date,
    end: datetime.date,
    calendar: WorkCalendar | None = None,
) -> Decimal | None:
    """The plan for any span of days.

    A summed KPI's month plan is split evenly over the manager's working days of the month
    (absences excluded): the span gets its share. A weekly plan, where one is set for exactly
    that week, wins. Average, last-value and ratio KPIs have the same target at every period.
    """
    plans = manager_plans(company=company, manager=manager, start=start, end=end, calendar=calendar)
    return plans.period_plan(kpi, start, end)


def day_plan(
    *,
    company: Company,
    manager: User,
    kpi: KPI,
    day: datetime.date,
    calendar: WorkCalendar | None = None,
) -> Decimal | None:
    return period_plan(
        company=company, manager=manager, kpi=kpi, start=day, end=day, calendar=calendar
    )


@dataclass
class ManagerPlans:
    """One manager's plans, absences and working days over a span of months, read at once.

    `period_plan` holds the rules of a span's plan (the module's `period_plan` asks it), and
    answers without a query: a page that asks for every KPI's week, month, pace and trend
    plans reads them once through `manager_plans`.
    """

    first: datetime.date
    last: datetime.date
    months: dict[tuple[int, datetime.date], Decimal]  # (KPI id, 1st of month) → plan
    weeks: dict[tuple[int, datetime.date], Decimal]  # (KPI id, Monday) → plan
    absences: list[tuple[datetime.date, datetime.date]]
    calendar: WorkCalendar
    # working_days' and _split's answers: a page asks the same spans for every KPI.
    _working: dict[tuple[datetime.date, datetime.date], tuple[datetime.date, ...]] = field(
        default_factory=dict
    )
    _splits: dict[tuple[datetime.date, datetime.date], list] = field(default_factory=dict)

    def _check(self, start: datetime.date, end: datetime.date) -> None:
        if start < self.first or end > self.last:
            raise ValueError(f"plans read for {self.first}…{self.last}, asked {start}…{end}")

    def month_plan(self, kpi: KPI, month: datetime.date) -> Decimal | None:
        month = month.replace(day=1)
        self._check(month, month)
        return self.months.get((kpi.pk, month))

    def working_days(self, start: datetime.date, end: datetime.date) -> list[datetime.date]:
        """As kpi.calendar.manager_working_days."""
        found = self._working.get((start, end))
        if found is None:
            self._check(start, end)
            absent = {
                day
                for first, last in self.absences
                if first <= end and last >= start
                for day in days_between(max(first, start), min(last, end))
            }
            working = self.calendar.working_days(start, end)
            found = tuple(day for day in working if day not in absent)
            self._working[(start, end)] = found
        return list(found)  # the caller's own list

    def period_plan(self, kpi: KPI, start: datetime.date, end: datetime.date) -> Decimal | None:
        """The plan for [start, end], by the rules of the module's period_plan."""
        if not kpi.is_summed:
            return self.month_plan(kpi, start)
        self._check(start, end)
        if is_week(start, end):
            weekly = self.weeks.get((kpi.pk, start))
            if weekly is not None:
                return weekly
        total: Decimal | None = None
        for first, inside, working in self._split(start, end):
            plan = self.months.get((kpi.pk, first))
            if plan is not None:
                share = plan * inside / working if working else Decimal(0)
                total = (total or Decimal(0)) + share
        return total

    def _split(
        self, start: datetime.date, end: datetime.date
    ) -> list[tuple[datetime.date, int, int]]:
        """Each month [start, end] touches: its first day, its working days inside the span
        and all its working days. The same for every KPI: worked out once per span."""
        found = self._splits.get((start, end))
        if found is None:
            found = []
            for first in months_between(start, end):
                working = self.working_days(first, month_end(first))
                inside = sum(1 for day in working if start <= day <= end)
                found.append((first, inside, len(working)))
            self._splits[(start, end)] = found
        return found


def manager_plans(
    *,
    company: Company,
    manager: User,
    start: datetime.date,
    end: datetime.date,
    calendar: WorkCalendar | None = None,
) -> ManagerPlans:
    """The manager's plans (own over the role's default) for every month [start, end] touches
    and every week starting in those months, and the absences in them: two queries."""
    return managers_plans(
        company=company, managers=[manager], start=start, end=end, calendar=calendar
    )[manager.pk]


# managers_plans' two reads, compiled once (the form and «Мои показатели» on every request).
_PLANS = Statement(
    lambda company, ids, roles, first, last: Plan.objects.filter(
        Q(manager__in=ids) | Q(sales_role_id__in=roles, manager__isnull=True),
        company=company,
        start__gte=first,
        start__lte=last,
    ).values_list("manager_id", "sales_role_id", "kpi_id", "period", "start", "value")
)
# The absences of the managers overlapping [first, last] (report_statuses reads them too).
ABSENCES_OVERLAPPING = Statement(
    lambda company, ids, first, last: Absence.objects.filter(
        company=company, manager__in=ids, start__lte=last, end__gte=first
    ).values_list("manager_id", "start", "end")
)


def managers_plans(
    *,
    company: Company,
    managers: Iterable[User],
    start: datetime.date,
    end: datetime.date,
    calendar: WorkCalendar | None = None,
) -> dict[int, ManagerPlans]:
    """manager_plans() of many managers at once, by manager id: still two queries."""
    managers = list(managers)
    first, last = start.replace(day=1), month_bounds(end)[1]
    calendar = calendar or calendar_for(company=company)
    roles = {m.sales_role_id for m in managers if m.sales_role_id is not None}
    rows = _PLANS(
        company=company.pk,
        ids=[m.pk for m in managers],
        roles=sorted(roles),
        first=first,
        last=last,
    )
    # The role's defaults first, so that the manager's own plans overwrite them.
    own: dict[int, list[tuple[int, str, datetime.date, Decimal]]] = defaultdict(list)
    defaults: dict[int, list[tuple[int, str, datetime.date, Decimal]]] = defaultdict(list)
    for manager_id, role_id, kpi_id, period, plan_start, value in rows:
        if manager_id is None:
            defaults[role_id].append((kpi_id, period, plan_start, value))
        else:
            own[manager_id].append((kpi_id, period, plan_start, value))
    absences: dict[int, list[tuple[datetime.date, datetime.date]]] = defaultdict(list)
    for manager_id, absent_from, absent_to in ABSENCES_OVERLAPPING(
        company=company.pk, ids=[m.pk for m in managers], first=first, last=last
    ):
        absences[manager_id].append((absent_from, absent_to))
    found = {}
    for manager in managers:
        months: dict[tuple[int, datetime.date], Decimal] = {}
        weeks: dict[tuple[int, datetime.date], Decimal] = {}
        for kpi_id, period, plan_start, value in [
            *defaults.get(manager.sales_role_id, []),  # type: ignore[call-overload]
            *own.get(manager.pk, []),
        ]:
            target = weeks if period == Plan.Period.WEEK else months
            target[(kpi_id, plan_start)] = value
        found[manager.pk] = ManagerPlans(
            first=first,
            last=last,
            months=months,
            weeks=weeks,
            absences=absences.get(manager.pk, []),
            calendar=calendar,
        )
    return found


@dataclass
class PlanCell:
    kpi: KPI
    value: Decimal | None
    default: Decimal | None  # the role's default, shown where the manager has none

    @property
    def effective(self) -> Decimal | None:
        return self.value if self.value is not None else self.default


@dataclass
class PlanRow:
    manager: User | None  # None: the role's default row
    cells: list[PlanCell]


@dataclass
class PlanBlock:
    sales_role: SalesRole
    kpis: list[KPI]
    rows: list[PlanRow] = field(default_factory=list)


def plan_grid(*, company: Company, team: Team, month: datetime.date) -> list[PlanBlock]:
    """The team's plans for a month: one block per sales role, managers × the role's KPIs."""
    month = month.replace(day=1)
    managers = list(managers_of_team(company=company, team=team))
    roles = {m.sales_role_id: m.sales_role for m in managers if m.sales_role}
    plans = Plan.objects.filter(
        Q(manager__in=managers) | Q(sales_role_id__in=roles),
        company=company,
        period=Plan.Period.MONTH,
        start=month,
    ).values_list("manager_id", "sales_role_id", "kpi_id", "value")
    own = {(m, k): v for m, r, k, v in plans if m}
    defaults = {(r, k): v for m, r, k, v in plans if r}
    blocks = []
    for role in sorted(roles.values(), key=lambda r: r.name):
        kpis = role_kpis_on(company=company, sales_role=role, on=month)
        block = PlanBlock(role, kpis)
        block.rows.append(
            PlanRow(None, [PlanCell(k, defaults.get((role.pk, k.pk)), None) for k in kpis])
        )
        for manager in (m for m in managers if m.sales_role_id == role.pk):
            block.rows.append(
                PlanRow(
                    manager,
                    [
                        PlanCell(k, own.get((manager.pk, k.pk)), defaults.get((role.pk, k.pk)))
                        for k in kpis
                    ],
                )
            )
        blocks.append(block)
    return blocks


def team_month_plans(*, company: Company, team: Team, month: datetime.date) -> QuerySet[Plan]:
    """The month plans of the team's managers and the defaults of their sales roles."""
    managers = list(managers_of_team(company=company, team=team))
    roles = {m.sales_role_id for m in managers if m.sales_role_id}
    return Plan.objects.filter(
        Q(manager__in=managers) | Q(sales_role_id__in=roles),
        company=company,
        period=Plan.Period.MONTH,
        start=month.replace(day=1),
    ).select_related("manager__team", "sales_role", "kpi__company")


@dataclass(frozen=True)
class PlanOverwrite:
    """One plan a bulk action would write: whose, which KPI, what it is now and will be."""

    kpi: KPI
    manager: User | None
    sales_role: SalesRole | None
    old: Decimal | None
    new: Decimal

    @property
    def overwrites(self) -> bool:
        """The plan is filled already: the action replaces a figure someone set."""
        return self.old is not None


@dataclass(frozen=True)
class PlanBatch:
    """What "copy last month" or an uplift would change, shown before it is applied.

    `digest` fingerprints every old and new value: the confirmation carries it, and the
    action refuses to apply when the plans are no longer what the user was shown."""

    changes: list[PlanOverwrite]

    @property
    def overwritten(self) -> list[PlanOverwrite]:
        return [change for change in self.changes if change.overwrites]

    @property
    def digest(self) -> str:
        state = "\n".join(
            f"{c.kpi.pk}:{c.manager.pk if c.manager else ''}:"
            f"{c.sales_role.pk if c.sales_role else ''}:{c.old}:{c.new}"
            for c in self.changes
        )
        return hashlib.sha256(state.encode()).hexdigest()[:32]


def _batch(changes: list[PlanOverwrite], actor: User | None) -> PlanBatch:
    # A head's batch leaves out what they may not set (the roles' company-wide defaults).
    changed = [
        change
        for change in changes
        if change.old != change.new
        and (actor is None or may_plan(actor, manager=change.manager, sales_role=change.sales_role))
    ]
    changed.sort(
        key=lambda c: (
            c.manager is not None,
            str(c.sales_role or ""),
            str(c.manager or ""),
            c.kpi.code,
        )
    )
    return PlanBatch(changed)


def plans_copy_preview(
    *, company: Company, team: Team, month: datetime.date, actor: User | None = None
) -> PlanBatch:
    """The plans "copy last month" would write into `month`: last month's, where they differ
    (and, with an `actor`, where the actor may set them)."""
    month = month_start(month)
    previous = shift_months(month, -1)
    current = {
        (p.kpi_id, p.manager_id, p.sales_role_id): p.value
        for p in team_month_plans(company=company, team=team, month=month)
    }
    return _batch(
        [
            PlanOverwrite(
                kpi=plan.kpi,
                manager=plan.manager,
                sales_role=plan.sales_role,
                old=current.get((plan.kpi_id, plan.manager_id, plan.sales_role_id)),
                new=plan.value,
            )
            for plan in team_month_plans(company=company, team=team, month=previous)
        ],
        actor,
    )


def plans_uplift_preview(
    *,
    company: Company,
    team: Team,
    month: datetime.date,
    percent: Decimal,
    actor: User | None = None,
) -> PlanBatch:
    """The month's plans of higher-is-better KPIs raised by `percent` (lower-is-better stay)."""
    factor = 1 + percent / 100
    plans = team_month_plans(company=company, team=team, month=month)
    return _batch(
        [
            PlanOverwrite(
                kpi=plan.kpi,
                manager=plan.manager,
                sales_role=plan.sales_role,
                old=plan.value,
                new=(plan.value * factor).quantize(
                    Decimal(10) ** -min(plan.kpi.decimals, BOUNDS[plan.kpi.unit].plan_decimals)
                ),
            )
            for plan in plans.filter(kpi__direction=KPI.Direction.HIGHER)
        ],
        actor,
    )


def plan_changes(
    *, company: Company, team: Team, month: datetime.date, limit: int = 50
) -> QuerySet[PlanChange]:
    managers = managers_of_team(company=company, team=team)
    roles = managers.values("sales_role_id")
    return (
        PlanChange.objects.filter(
            Q(manager__in=managers) | Q(sales_role_id__in=roles),
            company=company,
            start=month.replace(day=1),
        )
        .select_related("kpi", "manager", "sales_role", "changed_by")
        .order_by("-changed_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class CatalogueEntry:
    item: CatalogueKPI
    adopted: bool


def catalogue_entries(*, company: Company) -> list[CatalogueEntry]:
    adopted = set(KPI.objects.filter(company=company).values_list("code", flat=True))
    return [CatalogueEntry(item, item.code in adopted) for item in CATALOGUE]


def source_list() -> list[SourceItem]:
    return SOURCE_LIST


def plan_grid_cell(
    *,
    company: Company,
    kpi: KPI,
    month: datetime.date,
    manager: User | None,
    sales_role: SalesRole | None,
) -> PlanCell:
    """One cell of plan_grid(), read back after it was saved."""
    plans = Plan.objects.filter(company=company, kpi=kpi, period=Plan.Period.MONTH, start=month)
    role_id = manager.sales_role_id if manager else sales_role.pk  # type: ignore[union-attr]
    default = plans.filter(sales_role_id=role_id).values_list("value", flat=True).first()
    if manager is None:
        return PlanCell(kpi, default, None)
    own = plans.filter(manager=manager).values_list("value", flat=True).first()
    return PlanCell(kpi, own, default)


# The dashboard and its poll read it on every request: compiled once.
_ROLE_KPI_SETS = Statement(
    lambda company, on: (
        RoleKPI.objects.filter(active_on(on), company=company)
        .order_by("sales_role_id", "position", "id")
        .values_list("sales_role_id", "kpi_id")
    )
)


def role_kpi_sets(
    *, company: Company, on: datetime.date, kpis: dict[int, KPI]
) -> dict[int, list[KPI]]:
    """Each sales role's KPIs in force on a day, in the role's order."""
    sets: dict[int, list[KPI]] = defaultdict(list)
    for role_id, kpi_id in _ROLE_KPI_SETS(company=company.pk, on=on):
        if kpi_id in kpis:
            sets[role_id].append(kpis[kpi_id])
    return sets
