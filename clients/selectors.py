"""Reads of client analysis: the ABC/XYZ matrix, its cells and changes, rhythm alerts, and
the client-base KPIs (repeat share, retention, churn, LTV, LTV : CAC) as of a day."""

import datetime
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Max, Min, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth

from accounts.models import Company, User
from accounts.permissions import of_managers_in_view
from accounts.selectors import viewer_arguments, viewer_stand_in
from clients.models import AcquisitionCost, ClientAlert, ClientAnalysisSettings, ClientClass
from crm_sync.models import Client, Deal
from kpi.periods import month_bounds, shift_months
from salesdesk.statements import Fixed, Statement

ABC = ("A", "B", "C")
XYZ = ("X", "Y", "Z")
REPEAT_WINDOW_DAYS = 365
# LTV : CAC is healthy near 3 : 1 (DOMAIN.md, source item 33).
LTV_CAC_HEALTHY = (Decimal("2.5"), Decimal("4"))
TENTH, CENT = Decimal("0.1"), Decimal("0.01")
# The client-base KPIs `client_figures` computes, as catalogue codes; crm_sync stores them
# as the CRM's figures of a manager's day (`clients.receivers` registers them there).
CLIENT_CODES = (
    "repeat_customers",
    "repeat_customers_pct",
    "retention",
    "churn",
    "clv",
    "ltv_cac",
)


def analysis_settings(*, company: Company) -> ClientAnalysisSettings:
    """The company's thresholds, created with the defaults on first use."""
    found, _created = ClientAnalysisSettings.objects.get_or_create(company=company)
    return found


def won_deals(*, company: Company) -> QuerySet[Deal]:
    return Deal.objects.filter(company=company, status=Deal.Status.WON, client__isnull=False)


# --- ABC/XYZ --------------------------------------------------------------------------------


def window_revenues(
    *, company: Company, month: datetime.date, as_of: datetime.date, months: int
) -> dict[int, list[Decimal]]:
    """Each client's revenue in each of the `months` months ending with `month` (0 when none),
    counting won deals closed up to the end of `as_of` on the company's clock."""
    first = shift_months(month, -(months - 1))
    keys = [shift_months(first, n) for n in range(months)]
    rows = (
        won_deals(company=company)
        .filter(closed_at__gte=company.day_start(first), closed_at__lt=company.day_end(as_of))
        .annotate(month=TruncMonth("closed_at", tzinfo=company.zone))
        .order_by()
        .values("client_id", "month")
        .annotate(revenue=Sum("amount"))
    )
    revenues: dict[int, dict[datetime.date, Decimal]] = {}
    for row in rows:
        bucket = row["month"]
        bucket = bucket.date() if isinstance(bucket, datetime.datetime) else bucket
        revenues.setdefault(row["client_id"], {})[bucket] = row["revenue"]
    return {
        client_id: [by_month.get(key, Decimal(0)) for key in keys]
        for client_id, by_month in revenues.items()
        if sum(by_month.values(), Decimal(0)) > 0
    }


def latest_managers(
    *, company: Company, client_ids: list[int], as_of: datetime.date
) -> dict[int, int | None]:
    """The manager of each client's latest won deal up to `as_of`."""
    latest = (
        won_deals(company=company)
        .filter(client_id=OuterRef("pk"), closed_at__lt=company.day_end(as_of))
        .order_by("-closed_at", "-id")
        .values("manager_id")[:1]
    )
    return dict(
        Client.objects.filter(company=company, pk__in=client_ids)
        .annotate(manager_of=Subquery(latest))
        .values_list("pk", "manager_of")
    )


def stored_months(*, company: Company) -> list[datetime.date]:
    return list(
        ClientClass.objects.filter(company=company)
        .order_by("-month")
        .values_list("month", flat=True)
        .distinct()
    )


def previous_month_of(*, company: Company, month: datetime.date) -> datetime.date | None:
    """The latest stored month before `month`: what "since last month" compares with."""
    return ClientClass.objects.filter(company=company, month__lt=month).aggregate(
        latest=Max("month")
    )["latest"]


def classes_in_view(*, company: Company, month: datetime.date, viewer: User) -> QuerySet:
    """A month's classes as `viewer` may see them: a head, their managers' clients."""
    classes = ClientClass.objects.filter(company=company, month=month)
    return of_managers_in_view(classes, viewer=viewer)


@dataclass
class Cell:
    abc: str
    xyz: str
    count: int = 0
    revenue: Decimal = Decimal(0)
    previous_count: int | None = None

    @property
    def change(self) -> int | None:
        return None if self.previous_count is None else self.count - self.previous_count


@dataclass
class Matrix:
    month: datetime.date
    previous: datetime.date | None
    rows: list[list[Cell]] = field(default_factory=list)
    unclassified: int = 0

    @property
    def total(self) -> int:
        return sum(cell.count for row in self.rows for cell in row)

    @property
    def revenue(self) -> Decimal:
        return sum((cell.revenue for row in self.rows for cell in row), Decimal(0))


def matrix_of(*, company: Company, month: datetime.date, viewer: User) -> Matrix:
    """The 3×3 matrix: clients and revenue per cell and the change in count since the
    previous stored month; clients who bought before but not in the window counted apart."""
    previous = previous_month_of(company=company, month=month)
    counts = {
        (row["abc"], row["xyz"]): row
        for row in classes_in_view(company=company, month=month, viewer=viewer)
        .order_by()
        .values("abc", "xyz")
        .annotate(count=Count("id"), revenue=Sum("revenue"))
    }
    before: Counter[tuple[str, str]] = Counter()
    if previous is not None:
        before.update(
            classes_in_view(company=company, month=previous, viewer=viewer).values_list(
                "abc", "xyz"
            )
        )
    matrix = Matrix(month=month, previous=previous)
    for abc in ABC:
        row = []
        for xyz in XYZ:
            found = counts.get((abc, xyz), {"count": 0, "revenue": Decimal(0)})
            row.append(
                Cell(abc, xyz, found["count"], found["revenue"] or Decimal(0),
                     None if previous is None else before[(abc, xyz)])
            )  # fmt: skip
        matrix.rows.append(row)
    matrix.unclassified = unclassified_count(company=company, month=month, viewer=viewer)
    return matrix


def unclassified_count(*, company: Company, month: datetime.date, viewer: User) -> int:
    """Clients with a won deal before the month's end but no revenue in the window."""
    _first, last = month_bounds(month)
    deals = of_managers_in_view(
        won_deals(company=company).filter(closed_at__lt=company.day_end(last)), viewer=viewer
    )
    classified = ClientClass.objects.filter(company=company, month=month).values("client_id")
    return deals.exclude(client_id__in=classified).values("client_id").distinct().count()


@dataclass(frozen=True)
class ClientRow:
    entry: ClientClass
    last_class: str | None

    @property
    def changed(self) -> bool:
        return self.last_class is not None and self.last_class != self.entry.cell


def _with_last_class(
    company: Company, month: datetime.date, entries: list[ClientClass]
) -> list[ClientRow]:
    previous = previous_month_of(company=company, month=month)
    last: dict[int, str] = {}
    if previous is not None:
        last = {
            client_id: abc + xyz
            for client_id, abc, xyz in ClientClass.objects.filter(
                company=company, month=previous, client_id__in=[e.client_id for e in entries]
            ).values_list("client_id", "abc", "xyz")
        }
    return [ClientRow(entry, last.get(entry.client_id)) for entry in entries]


def cell_clients(
    *, company: Company, month: datetime.date, abc: str, xyz: str, viewer: User
) -> list[ClientRow]:
    """The clients behind one cell of the matrix, with last month's class."""
    entries = list(
        classes_in_view(company=company, month=month, viewer=viewer)
        .filter(abc=abc, xyz=xyz)
        .select_related("client", "manager")
    )
    return _with_last_class(company, month, entries)


def class_changes(*, company: Company, month: datetime.date, viewer: User) -> list[ClientRow]:
    """Clients whose class differs from the previous stored month's."""
    rows = classification_rows(company=company, month=month, viewer=viewer)
    return [row for row in rows if row.changed]


# --- Rhythm alerts --------------------------------------------------------------------------


def open_alerts(*, company: Company, viewer: User) -> QuerySet[ClientAlert]:
    """Open «Пора позвонить» alerts: a manager's own, a head's team's, an admin's all."""
    alerts = ClientAlert.objects.filter(company=company, status=ClientAlert.Status.OPEN)
    return of_managers_in_view(alerts, viewer=viewer).select_related("client", "manager")


# The first few of open_alerts, compiled once per kind of viewer: the end-of-day form shows
# them on every load.
_FIRST_OPEN_ALERTS = Statement(
    lambda company, viewer, role, admin, count: open_alerts(
        company=company, viewer=viewer_stand_in(company, viewer, role, admin)
    )[:count]
)


def first_open_alerts(*, company: Company, viewer: User, count: int) -> list[ClientAlert]:
    """open_alerts' first `count`, read."""
    return _FIRST_OPEN_ALERTS(company=company.pk, count=Fixed(count), **viewer_arguments(viewer))


def order_days(*, company: Company, client_ids: list[int]) -> dict[int, list[datetime.date]]:
    """Each client's days with a won deal, ascending (two orders on one day are one)."""
    days: dict[int, set[datetime.date]] = {}
    for client_id, closed_at in (
        won_deals(company=company)
        .filter(client_id__in=client_ids)
        .values_list("client_id", "closed_at")
    ):
        days.setdefault(client_id, set()).add(company.local_time(closed_at).date())
    return {client_id: sorted(found) for client_id, found in days.items()}


# --- Client KPIs ----------------------------------------------------------------------------


def _pct(part: int, whole: int) -> Decimal:
    return (Decimal(part) * 100 / whole).quantize(TENTH, ROUND_HALF_UP)


def client_figures(
    *,
    company: Company,
    day: datetime.date,
    manager: User | None = None,
    managers: QuerySet[User] | None = None,
) -> dict[str, Decimal]:
    """The client-base KPIs as of the end of `day`, by catalogue code, for a manager's
    clients (the clients of their won deals), several managers' together, or, with neither,
    the company's. A figure without a base (no clients in its window) is left out."""
    settings = analysis_settings(company=company)
    deals = won_deals(company=company)
    if manager is not None:
        deals = deals.filter(manager=manager)
    if managers is not None:
        deals = deals.filter(manager__in=managers)
    end = company.day_end(day)
    up_to = deals.filter(closed_at__lt=end)

    def between(first: datetime.date, last: datetime.date) -> QuerySet[Deal]:
        return up_to.filter(
            closed_at__gte=company.day_start(first), closed_at__lt=company.day_end(last)
        )

    figures: dict[str, Decimal] = {
        "repeat_customers": Decimal(
            between(day, day).filter(is_repeat=True).values("client_id").distinct().count()
        )
    }
    per_client = (
        between(day - datetime.timedelta(days=REPEAT_WINDOW_DAYS - 1), day)
        .order_by()
        .values("client_id")
        .annotate(deals=Count("id"))
    )
    bought = [row["deals"] for row in per_client]
    if bought:
        figures["repeat_customers_pct"] = _pct(sum(n >= 2 for n in bought), len(bought))
    window = datetime.timedelta(days=settings.retention_days)
    base = set(
        between(day - 2 * window + datetime.timedelta(days=1), day - window).values_list(
            "client_id", flat=True
        )
    )
    if base:
        recent = between(day - window + datetime.timedelta(days=1), day)
        kept = recent.filter(client_id__in=base).values("client_id").distinct().count()
        figures["retention"] = _pct(kept, len(base))
        figures["churn"] = 100 - figures["retention"]
    lifetime = up_to.aggregate(total=Sum("amount"), clients=Count("client_id", distinct=True))
    if lifetime["clients"]:
        figures["clv"] = (lifetime["total"] / lifetime["clients"]).quantize(CENT, ROUND_HALF_UP)
        cac = acquisition_cost_per_client(company=company, day=day)
        if cac:
            figures["ltv_cac"] = (figures["clv"] / cac).quantize(CENT, ROUND_HALF_UP)
    return figures


def acquisition_cost_per_client(*, company: Company, day: datetime.date) -> Decimal | None:
    """CAC of `day`'s month: its acquisition cost ÷ the clients whose first won deal falls in
    the month up to `day`, company-wide. None without a cost or a new client."""
    first, _last = month_bounds(day)
    cost = AcquisitionCost.objects.filter(company=company, month=first).first()
    if cost is None:
        return None
    new_clients = (
        won_deals(company=company)
        .order_by()
        .values("client_id")
        .annotate(first_won=Min("closed_at"))
        .filter(first_won__gte=company.day_start(first), first_won__lt=company.day_end(day))
        .count()
    )
    if not new_clients:
        return None
    return cost.amount / new_clients


def ltv_cac_health(value: Decimal | None) -> str:
    """ "healthy" near 3 : 1, "low" below (clients cost more than they bring), "high" above
    (growth may be held back by spending too little on acquisition)."""
    if value is None:
        return ""
    low, high = LTV_CAC_HEALTHY
    if value < low:
        return "low"
    return "healthy" if value <= high else "high"


@dataclass(frozen=True)
class ManagerClientKpis:
    manager: User | None
    figures: dict[str, Decimal]


def client_kpis_in_view(
    *, company: Company, day: datetime.date, viewer: User, managers: QuerySet[User]
) -> tuple[ManagerClientKpis, list[ManagerClientKpis]]:
    """The client KPIs of what the viewer sees (an admin: the company; a head: their
    managers together) and each manager's (churn by manager) as of `day`; managers who
    never won a deal are left out."""
    together = None if viewer.can_administer else managers
    whole = ManagerClientKpis(None, client_figures(company=company, day=day, managers=together))
    rows = [
        ManagerClientKpis(manager, client_figures(company=company, day=day, manager=manager))
        for manager in managers
    ]
    return whole, [row for row in rows if row.figures.get("clv") is not None]


def classification_rows(*, company: Company, month: datetime.date, viewer: User) -> list[ClientRow]:
    """The month's classification as the viewer may see it, with last month's class."""
    entries = list(
        classes_in_view(company=company, month=month, viewer=viewer).select_related(
            "client", "manager"
        )
    )
    return _with_last_class(company, month, entries)
