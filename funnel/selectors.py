"""Funnel metrics for a period (DOMAIN.md, «Воронка продаж»), for the company, a team, a
manager or one acquisition channel.

Dates are the company's calendar dates: a deal closed at 23:30 Moscow time on the 31st is
closed in that month, whatever UTC says. A period is [start, end], both days included.
"""

import datetime
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet, Sum

from accounts.models import Company, Team, User
from accounts.selectors import managers_in_view, teams_in_view
from crm_sync.models import Deal, PipelineStage, StageVisit
from kpi.aggregation import period_value
from kpi.calendar import calendar_for
from kpi.models import KPI, RoleKPI
from kpi.periods import month_bounds, shift_months
from reports.figures import (
    Sides,
    figure_sides,
    figures_of_managers,
    sides_combined,
    source_counts,
)
from rollups.models import Period, Scope, Total

HUNDRED = Decimal(100)
# DOMAIN.md: pipeline coverage is healthy at 3–4× the remaining revenue plan.
COVERAGE_HEALTHY = (Decimal(3), Decimal(4))
REVENUE_KPI = "deals_sum"


@dataclass(frozen=True)
class FunnelScope:
    """Whose deals: the company's, a team's or a manager's; optionally one channel's.
    `nobody`: a head of sales without a team, who sees no one's deals."""

    company: Company
    team: Team | None = None
    manager: User | None = None
    channel: str = ""
    nobody: bool = False

    def deals(self) -> QuerySet[Deal]:
        if self.nobody:
            return Deal.objects.none()
        deals = Deal.objects.filter(company=self.company)
        if self.manager is not None:
            deals = deals.filter(manager=self.manager)
        elif self.team is not None:
            deals = deals.filter(manager__team=self.team)
        if self.channel:
            deals = deals.filter(channel=self.channel)
        return deals


@dataclass(frozen=True)
class StageRow:
    stage: PipelineStage
    open_deals: int  # on this stage at the end of the period
    open_value: Decimal
    left: int  # deals that left the stage during the period
    moved_on: int  # ... of them, to a later stage or won
    conversion: Decimal | None  # moved_on / left, %
    days_in_stage: Decimal | None  # mean time of those who left, days


@dataclass(frozen=True)
class ChannelRow:
    channel: str
    created: int
    won: int
    lost: int
    won_sum: Decimal
    repeat_won: int
    repeat_sum: Decimal
    conversion: Decimal | None


@dataclass(frozen=True)
class RecordLine:
    """A deal KPI of the reports over the funnel's period and people: its figure of record
    (what the dashboard and the totals count), and both figures where they differ."""

    kpi: KPI
    value: Decimal | None
    sides: Sides | None  # only where the manager's and the source's figures differ

    @property
    def counts_source(self) -> bool:
        return source_counts(self.kpi)


@dataclass
class Funnel:
    scope: FunnelScope
    start: datetime.date
    end: datetime.date
    created: int = 0
    won: int = 0
    lost: int = 0
    won_sum: Decimal = Decimal(0)
    conversion: Decimal | None = None
    average_won: Decimal | None = None
    deal_length: Decimal | None = None
    time_to_win: Decimal | None = None
    time_to_loss: Decimal | None = None
    open_deals: int = 0
    open_value: Decimal = Decimal(0)
    velocity: Decimal | None = None  # money per day
    velocity_month: Decimal | None = None  # × the month's working days
    revenue_plan: Decimal | None = None
    revenue_actual: Decimal | None = None
    remaining_plan: Decimal | None = None
    coverage: Decimal | None = None
    expected_month: datetime.date | None = None
    expected_count: int = 0
    expected_sum: Decimal = Decimal(0)
    retargeting: int = 0
    loss_reasons: list[tuple[str, int]] = field(default_factory=list)
    stages: list[StageRow] = field(default_factory=list)
    channels: list[ChannelRow] = field(default_factory=list)
    record: list[RecordLine] = field(default_factory=list)

    @property
    def coverage_health(self) -> str:
        """low / healthy / high against the 3–4× rule; '' without a coverage."""
        if self.coverage is None:
            return ""
        low, high = COVERAGE_HEALTHY
        if self.coverage < low:
            return "low"
        return "healthy" if self.coverage <= high else "high"


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _mean(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return sum(values, Decimal(0)) / len(values)


def _bounds(company: Company, start: datetime.date, end: datetime.date) -> tuple:
    return company.day_start(start), company.day_end(end)


def _days(company: Company, since: datetime.datetime, until: datetime.datetime) -> Decimal:
    """Calendar days between two moments on the company's clock (DOMAIN: deal length)."""
    return Decimal((company.local_time(until).date() - company.local_time(since).date()).days)


def scope_for_viewer(
    *, viewer: User, team: str | None = None, manager: str | None = None, channel: str = ""
) -> tuple[FunnelScope, list[str]]:
    """The funnel `viewer` may see, as asked: one of their managers (by code), one of their
    teams, or else the company for an admin and the first own team for a head.

    Also returns the names of the parameters that named nothing the viewer may see; they
    were left out of the scope.
    """
    company = viewer.company
    unknown = []
    found_manager = None
    if manager:
        try:
            code = uuid.UUID(str(manager))
        except ValueError:
            code = None
        if code is not None:
            in_view = managers_in_view(company=company, viewer=viewer)
            found_manager = in_view.filter(code=code).first()
        if found_manager is None:
            unknown.append("manager")
    teams = teams_in_view(company=company, viewer=viewer)
    found_team = None
    if team:
        found_team = next((t for t in teams if str(t.code) == str(team)), None)
        if found_team is None:
            unknown.append("team")
    nobody = False
    if found_team is None and found_manager is None and not viewer.can_administer:
        found_team = teams[0] if teams else None
        nobody = found_team is None
    scope = FunnelScope(
        company=company, team=found_team, manager=found_manager, channel=channel, nobody=nobody
    )
    return scope, unknown


def funnel_of(
    *, scope: FunnelScope, start: datetime.date, end: datetime.date, today: datetime.date
) -> Funnel:
    company = scope.company
    funnel = Funnel(scope=scope, start=start, end=end)
    since, until = _bounds(company, start, end)
    deals = scope.deals()

    funnel.created = deals.filter(created_at__gte=since, created_at__lt=until).count()
    closed = list(
        deals.filter(
            closed_at__gte=since,
            closed_at__lt=until,
            status__in=[Deal.Status.WON, Deal.Status.LOST],
        ).values("status", "amount", "created_at", "closed_at", "loss_reason")
    )
    won = [d for d in closed if d["status"] == Deal.Status.WON]
    lost = [d for d in closed if d["status"] == Deal.Status.LOST]
    funnel.won, funnel.lost = len(won), len(lost)
    funnel.won_sum = sum((d["amount"] for d in won), Decimal(0))
    funnel.conversion = _percent(funnel.won, funnel.won + funnel.lost)
    funnel.average_won = _mean([d["amount"] for d in won])
    length = {id(d): _days(company, d["created_at"], d["closed_at"]) for d in closed}
    funnel.deal_length = _mean([length[id(d)] for d in closed])
    funnel.time_to_win = _mean([length[id(d)] for d in won])
    funnel.time_to_loss = _mean([length[id(d)] for d in lost])
    reasons: dict[str, int] = defaultdict(int)
    for deal in lost:
        reasons[deal["loss_reason"] or "—"] += 1
    funnel.loss_reasons = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    funnel.retargeting = deals.filter(
        status=Deal.Status.RETARGETING, retargeting_at__gte=since, retargeting_at__lt=until
    ).count()

    funnel.stages = _stage_rows(scope, deals, since, until)
    funnel.open_deals = sum(row.open_deals for row in funnel.stages)
    funnel.open_value = sum((row.open_value for row in funnel.stages), Decimal(0))
    _velocity(funnel)
    _coverage(funnel, today)
    _expected_payments(funnel, deals, today)
    funnel.channels = _channel_rows(deals, since, until)
    funnel.record = _record_lines(scope, start, end)
    return funnel


# The reports' deal KPIs the funnel puts beside the CRM's deals, in this order.
RECORD_KPIS = ("deals_won", "deals_sum", "repeat_deals", "repeat_sum")


def _record_lines(scope: FunnelScope, start: datetime.date, end: datetime.date) -> list[RecordLine]:
    """The deal KPIs as the dashboard counts them (reports/figures.py): the funnel above
    counts the CRM's deals; these lines say what the reports count and where the two differ.
    By channel there is no report figure."""
    if scope.channel or scope.nobody:
        return []
    company = scope.company
    found = {k.code: k for k in KPI.objects.filter(company=company, code__in=RECORD_KPIS)}
    kpis = [found[code] for code in RECORD_KPIS if code in found]
    if not kpis:
        return []
    managers = User.objects.filter(company=company, role=User.Role.MANAGER)
    if scope.manager is not None:
        managers = managers.filter(pk=scope.manager.pk)
    elif scope.team is not None:
        managers = managers.filter(team=scope.team)
    # Each KPI counts for the managers whose role has it in the period, as the totals do.
    people = list(managers.values_list("pk", "sales_role_id"))
    with_kpi = {}
    for kpi in kpis:
        roles = set(
            RoleKPI.objects.filter(company=company, kpi=kpi, effective_from__lte=end)
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=start))
            .values_list("sales_role_id", flat=True)
        )
        with_kpi[kpi.pk] = {pk for pk, role in people if role in roles}
    ids = set().union(*with_kpi.values())
    figures = figures_of_managers(company=company, manager_ids=ids, start=start, end=end)
    sides = figure_sides(company=company, manager_ids=ids, kpis=kpis, start=start, end=end)
    lines = []
    for kpi in kpis:
        if not with_kpi[kpi.pk]:
            continue  # nobody in view has it on their role
        values = [period_value(kpi, figures.get(m, {})) for m in with_kpi[kpi.pk]]
        values = [v for v in values if v is not None]
        both = sides_combined(s for (m, k), s in sides.items() if k == kpi.pk)
        lines.append(
            RecordLine(
                kpi=kpi,
                value=sum(values, Decimal(0)) if values else None,
                sides=both if both is not None and both.differs else None,
            )
        )
    return lines


def _velocity(funnel: Funnel) -> None:
    """Average won value × open deals × win rate / deal length (money per day)."""
    if not (funnel.average_won and funnel.conversion is not None and funnel.deal_length):
        return
    funnel.velocity = (
        funnel.average_won * funnel.open_deals * funnel.conversion / HUNDRED / funnel.deal_length
    ).quantize(Decimal("0.01"), ROUND_HALF_UP)
    calendar = calendar_for(company=funnel.scope.company)
    working = len(calendar.working_days(*month_bounds(funnel.end)))
    funnel.velocity_month = (funnel.velocity * working).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _coverage(funnel: Funnel, today: datetime.date) -> None:
    """Open pipeline value ÷ what is left of the revenue plan of the month that holds the
    period's end (stored totals of the «Сумма сделок» KPI); by channel there is no plan."""
    scope = funnel.scope
    if scope.channel or scope.nobody:
        return
    if scope.manager is not None:
        subject, level = scope.manager.pk, Scope.MANAGER
    elif scope.team is not None:
        subject, level = scope.team.pk, Scope.TEAM
    else:
        subject, level = scope.company.pk, Scope.COMPANY
    total = Total.objects.filter(
        company=scope.company,
        scope=level,
        subject_id=subject,
        kpi__code=REVENUE_KPI,
        period=Period.MONTH,
        start=month_bounds(funnel.end)[0],
    ).first()
    if total is None or not total.plan:
        return
    funnel.revenue_plan = total.plan
    funnel.revenue_actual = total.actual or Decimal(0)
    funnel.remaining_plan = max(total.plan - funnel.revenue_actual, Decimal(0))
    if funnel.remaining_plan:
        funnel.coverage = (funnel.open_value / funnel.remaining_plan).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        )


def _expected_payments(funnel: Funnel, deals: QuerySet[Deal], today: datetime.date) -> None:
    """Open deals the clients are expected to pay next month (counted from today)."""
    first = shift_months(today, 1)
    funnel.expected_month = first
    expected = deals.filter(
        status=Deal.Status.OPEN, expected_payment_on__range=month_bounds(first)
    ).aggregate(total=Sum("amount"), count=Count("id"))
    funnel.expected_count = expected["count"] or 0
    funnel.expected_sum = expected["total"] or Decimal(0)


def _stage_rows(
    scope: FunnelScope, deals: QuerySet[Deal], since: datetime.datetime, until: datetime.datetime
) -> list[StageRow]:
    company = scope.company
    stages = list(PipelineStage.objects.filter(company=company))
    by_id = {stage.pk: stage for stage in stages}
    visits = StageVisit.objects.filter(company=company, deal__in=deals)
    # Open at the period's end: the visit spans the last moment of the period.
    holding: dict[int, list[Decimal]] = defaultdict(list)
    for stage_id, amount in visits.filter(
        Q(left_at__isnull=True) | Q(left_at__gte=until),
        entered_at__lt=until,
        stage__kind=PipelineStage.Kind.OPEN,
    ).values_list("stage_id", "deal__amount"):
        holding[stage_id].append(amount)
    # Who left each stage in the period, and where they went next.
    left_ids = set(
        visits.filter(left_at__gte=since, left_at__lt=until).values_list("deal_id", flat=True)
    )
    history: dict[int, list[tuple]] = defaultdict(list)
    for deal_id, stage_id, entered, left in visits.filter(deal_id__in=left_ids).values_list(
        "deal_id", "stage_id", "entered_at", "left_at"
    ):
        history[deal_id].append((entered, stage_id, left))
    left_count: dict[int, int] = defaultdict(int)
    moved_count: dict[int, int] = defaultdict(int)
    durations: dict[int, list[Decimal]] = defaultdict(list)
    for path in history.values():
        path.sort()
        for index, (entered, stage_id, left) in enumerate(path):
            if left is None or not (since <= left < until):
                continue
            left_count[stage_id] += 1
            seconds = Decimal((left - entered).total_seconds())
            durations[stage_id].append(seconds / 86400)
            if index + 1 < len(path):
                here, there = by_id[stage_id], by_id[path[index + 1][1]]
                if there.kind == PipelineStage.Kind.WON or (
                    there.kind == PipelineStage.Kind.OPEN and there.position > here.position
                ):
                    moved_count[stage_id] += 1
    return [
        StageRow(
            stage=stage,
            open_deals=len(holding[stage.pk]),
            open_value=sum(holding[stage.pk], Decimal(0)),
            left=left_count[stage.pk],
            moved_on=moved_count[stage.pk],
            conversion=_percent(moved_count[stage.pk], left_count[stage.pk]),
            days_in_stage=_mean(durations[stage.pk]),
        )
        for stage in stages
        if stage.kind == PipelineStage.Kind.OPEN
    ]


def _channel_rows(
    deals: QuerySet[Deal], since: datetime.datetime, until: datetime.datetime
) -> list[ChannelRow]:
    rows: dict[str, dict] = defaultdict(
        lambda: {
            "created": 0,
            "won": 0,
            "lost": 0,
            "won_sum": Decimal(0),
            "repeat_won": 0,
            "repeat_sum": Decimal(0),
        }
    )
    for channel in deals.filter(created_at__gte=since, created_at__lt=until).values_list(
        "channel", flat=True
    ):
        rows[channel]["created"] += 1
    for channel, status, amount, repeat in deals.filter(
        closed_at__gte=since,
        closed_at__lt=until,
        status__in=[Deal.Status.WON, Deal.Status.LOST],
    ).values_list("channel", "status", "amount", "is_repeat"):
        row = rows[channel]
        if status == Deal.Status.LOST:
            row["lost"] += 1
            continue
        row["won"] += 1
        row["won_sum"] += amount
        if repeat:
            row["repeat_won"] += 1
            row["repeat_sum"] += amount
    return sorted(
        (
            ChannelRow(
                channel=channel,
                conversion=_percent(row["won"], row["won"] + row["lost"]),
                **row,
            )
            for channel, row in rows.items()
        ),
        key=lambda row: (-row.won_sum, -row.created, row.channel),
    )


def channels_of(*, company: Company) -> list[str]:
    return list(
        Deal.objects.filter(company=company)
        .exclude(channel="")
        .values_list("channel", flat=True)
        .distinct()
        .order_by("channel")
    )


def retargeting_list(*, company: Company) -> QuerySet[Deal]:
    """Deals the missed-calls rule handed to marketing, newest first."""
    return (
        Deal.objects.filter(company=company, status=Deal.Status.RETARGETING)
        .select_related("client", "manager", "stage")
        .order_by("-retargeting_at")
    )


# The report KPIs whose figures the CRM's won deals stand behind.
WON_DEAL_KPIS = {"deals_won", "deals_sum", "avg_check"}
REPEAT_DEAL_KPIS = {"repeat_deals", "repeat_sum", "repeat_avg_check"}


def deals_behind(
    *, company: Company, manager: User, kpi_code: str, start: datetime.date, end: datetime.date
) -> QuerySet[Deal] | None:
    """The won deals (repeat ones for the repeat KPIs) a deal KPI's figure stands for;
    None for a KPI that deals do not explain."""
    if kpi_code not in WON_DEAL_KPIS | REPEAT_DEAL_KPIS:
        return None
    since, until = _bounds(company, start, end)
    deals = Deal.objects.filter(
        company=company,
        manager=manager,
        status=Deal.Status.WON,
        closed_at__gte=since,
        closed_at__lt=until,
    )
    if kpi_code in REPEAT_DEAL_KPIS:
        deals = deals.filter(is_repeat=True)
    return deals.select_related("client").order_by("closed_at")
