"""Reads of payments: the list, the payers nobody is linked to, and the funnel's expected
payments beside what came in."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Max, Q, QuerySet, Sum

from accounts.models import Company, User
from accounts.permissions import in_view_of
from crm_sync.models import Deal
from kpi.periods import month_bounds
from payments.models import Balance, Payment


@dataclass
class Payer:
    """A payer of 1C that no client is linked to, with what it paid and owes."""

    inn: str
    name: str
    payments: int = 0
    paid: Decimal = Decimal(0)
    owes: Decimal | None = None


def payers_unlinked(*, company: Company) -> list[Payer]:
    payers: dict[tuple[str, str], Payer] = {}

    def key(inn: str, name: str) -> tuple[str, str]:
        return (inn, "") if inn else ("", name)

    for inn, name, count, total in (
        Payment.objects.filter(company=company, client__isnull=True)
        .values_list("payer_inn", "payer_name")
        .annotate(count=Count("id"), total=Sum("amount"))
        .order_by("payer_name")
    ):
        payer = payers.setdefault(key(inn, name), Payer(inn=inn, name=name))
        payer.payments += count
        payer.paid += total
    # Each payer's own latest balance.
    seen: set[tuple[str, str]] = set()
    for inn, name, amount in (
        Balance.objects.filter(company=company, client__isnull=True)
        .order_by("-as_of")
        .values_list("payer_inn", "payer_name", "amount")
    ):
        if (inn, name) in seen:
            continue
        seen.add((inn, name))
        payer = payers.setdefault(key(inn, name), Payer(inn=inn, name=name))
        payer.owes = (payer.owes or Decimal(0)) + amount
    return sorted(payers.values(), key=lambda payer: payer.name.lower())


def payments_in_view(
    *, company: Company, actor: User, start: datetime.date, end: datetime.date
) -> QuerySet[Payment]:
    """The month's payments an actor sees: an admin all of them, linked or not; a head
    those of their managers."""
    payments = Payment.objects.filter(company=company, paid_on__range=(start, end))
    if not actor.can_administer:
        payments = payments.filter(manager__in=in_view_of(actor))
    return payments.select_related("client", "deal", "manager")


@dataclass
class Expected:
    deal: Deal
    expected_on: datetime.date
    expected: Decimal
    received: Decimal
    status: str  # paid, partly, overdue, due

    @property
    def left(self) -> Decimal:
        return max(self.expected - self.received, Decimal(0))


@dataclass
class Comparison:
    """Deals expected to be paid in a month beside the payments linked to them."""

    month: datetime.date
    rows: list[Expected] = field(default_factory=list)
    expected: Decimal = Decimal(0)
    received: Decimal = Decimal(0)
    # The month's payments not against a deal expected in it (other deals, no deal, nobody).
    other: Decimal = Decimal(0)
    paid_in_month: Decimal = Decimal(0)

    @property
    def left(self) -> Decimal:
        return sum((row.left for row in self.rows), Decimal(0))


def expected_vs_received(
    *, company: Company, actor: User, month: datetime.date, today: datetime.date
) -> Comparison:
    """Each deal expected to be paid in `month` (Deal.expected_payment_on; open or won, not
    lost), what it was expected to bring (its sum) and what its payments brought so far."""
    start, end = month_bounds(month)
    comparison = Comparison(month=start)
    deals = (
        Deal.objects.filter(
            company=company,
            manager__in=in_view_of(actor),
            expected_payment_on__range=(start, end),
        )
        .exclude(status__in=(Deal.Status.LOST, Deal.Status.RETARGETING))
        .select_related("client", "manager")
        .order_by("expected_payment_on", "id")
    )
    received: dict[int, Decimal] = defaultdict(Decimal)
    for deal_id, total in (
        Payment.objects.filter(company=company, deal__in=deals)
        .values_list("deal_id")
        .annotate(total=Sum("amount"))
    ):
        received[deal_id] = total
    for deal in deals:
        got = received[deal.pk]
        if got >= deal.amount:
            status = "paid"
        elif deal.expected_payment_on < today:
            status = "overdue"
        elif got:
            status = "partly"
        else:
            status = "due"
        comparison.rows.append(Expected(deal, deal.expected_payment_on, deal.amount, got, status))
    comparison.expected = sum((row.expected for row in comparison.rows), Decimal(0))
    comparison.received = sum((row.received for row in comparison.rows), Decimal(0))
    in_month = payments_in_view(company=company, actor=actor, start=start, end=end)
    comparison.paid_in_month = in_month.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    comparison.other = in_month.exclude(Q(deal__in=deals)).aggregate(total=Sum("amount"))[
        "total"
    ] or Decimal(0)
    return comparison


def latest_balances(*, company: Company, actor: User) -> tuple[datetime.date | None, list[Balance]]:
    day = Balance.objects.filter(company=company).aggregate(day=Max("as_of"))["day"]
    if day is None:
        return None, []
    balances = Balance.objects.filter(company=company, as_of=day).select_related(
        "client", "manager"
    )
    if not actor.can_administer:
        balances = balances.filter(manager__in=in_view_of(actor))
    return day, list(balances.order_by("-amount"))
