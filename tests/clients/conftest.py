"""Known client bases for the client-analysis tests, every figure computed by hand.

Deals are won at 12:00 Moscow time; amounts in roubles. The cast's own client (a deal won
nine days before the real today, late 2026) lies outside every window used here.

**ABC, June 2026** (window July 2025 – June 2026), one deal each in June:

| client | revenue | share before it | class (80 / 95) | class (50 / 90) |
|---|---|---|---|---|
| Пальма | 500 000 | 0 % | A | A |
| Кедр | 300 000 | 50 % | A | B |
| Ель | 100 000 | 80 % | B (80 is not below 80) | B |
| Сосна | 60 000 | 90 % | B | C (90 is not below 90) |
| Туя | 40 000 | 96 % | C | C |

Бук bought only in May 2025 (outside the window): not classified, counted apart. Вяз has
only a lost deal: not a buyer at all. Each June client bought once in 12 months, so its CV
is √11 × 100 = 331.66 % → Z.

**July 2026**: Туя buys 1 000 000 in July. Window Aug 2025 – Jul 2026, total 2 000 000:
Туя 1 040 000 (before 0 → A), Пальма (52 % → A), Кедр (77 % → A), Ель (92 % → B),
Сосна (97 % → C). Changed since June: Туя CZ → AZ, Сосна BZ → CZ. Matrix against June:
AZ 3 (+1), BZ 1 (−1), CZ 1 (±0).

**XYZ, June 2026**: one deal a month for 12 months (Jul 2025 – Jun 2026); six months at
the high amount, six at the low one, so the mean is 100 000 and the population standard
deviation is the difference from it:

| client | high / low | CV | class |
|---|---|---|---|
| Икс | 109 990 / 90 010 | 9.99 % | X |
| Игрек-10 | 110 000 / 90 000 | 10.00 % | Y (10 is not below 10) |
| Игрек-25 | 125 000 / 75 000 | 25.00 % | Y (up to 25 inclusive) |
| Зет | 125 010 / 74 990 | 25.01 % | Z |

**Client KPIs of manager M (alpha.managers[1]) as of 30.06.2026**, retention window 90 days:

| client | M's won deals |
|---|---|
| К1 | 01.08.2025 100 000; 10.03.2026 200 000; 30.06.2026 50 000 (repeat) |
| К2 | 15.02.2026 80 000 |
| К3 | 20.03.2026 120 000; 05.05.2026 60 000 (repeat) |
| К4 | 01.05.2025 40 000 |
| К5 | a lost deal on 01.06.2026 only |

Another manager won К6 on 30.06.2026 (30 000) and К7 on 10.06.2026 (10 000): both are new
clients of June company-wide (first won deal in June). June's acquisition cost: 130 000.

- repeat customers on 30.06: К1 (a won repeat deal that day) → 1;
- repeat share, 365 days (01.07.2025 – 30.06.2026): К1 3 deals, К2 1, К3 2 → 2 of 3 = 66.7 %;
- retention: base (01.01, 01.04.2026] = 02.01 – 01.04: К1, К2, К3; bought again in
  02.04 – 30.06: К1, К3 → 2 of 3 = 66.7 %; churn 33.3 %;
- LTV: (100 + 200 + 50 + 80 + 120 + 60 + 40) thousand / 4 clients (К1–К4) = 162 500.00;
- CAC of June: 130 000 / 2 new clients = 65 000 → LTV : CAC = 162 500 / 65 000 = 2.50.
"""

import datetime
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

import pytest

from accounts import tenancy
from accounts.models import Company, User
from crm_sync import services as crm
from crm_sync.models import Client, Deal, PipelineStage
from tests.conftest import Cast

MSK = zoneinfo.ZoneInfo("Europe/Moscow")
JUNE, JULY = datetime.date(2026, 6, 1), datetime.date(2026, 7, 1)

ABC_JUNE = {"Пальма": 500000, "Кедр": 300000, "Ель": 100000, "Сосна": 60000, "Туя": 40000}
ABC_EXPECTED = {"Пальма": "A", "Кедр": "A", "Ель": "B", "Сосна": "B", "Туя": "C"}
ABC_EXPECTED_50_90 = {"Пальма": "A", "Кедр": "B", "Ель": "B", "Сосна": "C", "Туя": "C"}
XYZ = {
    "Икс": (109990, 90010, "9.99", "X"),
    "Игрек-10": (110000, 90000, "10.00", "Y"),
    "Игрек-25": (125000, 75000, "25.00", "Y"),
    "Зет": (125010, 74990, "25.01", "Z"),
}
KPI_DAY = datetime.date(2026, 6, 30)
# client: [(date, amount, repeat)] won by manager M
KPI_DEALS = {
    "К1": [
        ((2025, 8, 1), 100000, False),
        ((2026, 3, 10), 200000, False),
        ((2026, 6, 30), 50000, True),
    ],
    "К2": [((2026, 2, 15), 80000, False)],
    "К3": [((2026, 3, 20), 120000, False), ((2026, 5, 5), 60000, True)],
    "К4": [((2025, 5, 1), 40000, False)],
}  # fmt: skip
KPI_EXPECTED = {
    "repeat_customers": Decimal("1"),
    "repeat_customers_pct": Decimal("66.7"),
    "retention": Decimal("66.7"),
    "churn": Decimal("33.3"),
    "clv": Decimal("162500.00"),
    "ltv_cac": Decimal("2.50"),
}


def noon(year: int, month: int, day: int) -> datetime.datetime:
    return datetime.datetime(year, month, day, 12, tzinfo=MSK)


def won_deal(
    company: Company,
    client: Client,
    when: datetime.datetime,
    amount: int,
    manager: User | None = None,
    repeat: bool = False,
    status: str = Deal.Status.WON,
) -> Deal:
    """A closed deal written straight to the table (these tests read deals, not imports)."""
    kind = PipelineStage.Kind.WON if status == Deal.Status.WON else PipelineStage.Kind.LOST
    stage = PipelineStage.objects.filter(company=company, kind=kind).first()
    deal = Deal(
        company=company, external_id=f"t-{Deal.objects.count() + 1}", title=str(client),
        manager=manager, client=client, amount=Decimal(amount), stage=stage, status=status,
        created_at=when - datetime.timedelta(days=3), closed_at=when, is_repeat=repeat,
    )  # fmt: skip
    deal.save()
    return deal


def make_client(company: Company, name: str) -> Client:
    return crm.client_resolve(company=company, name=name)


@dataclass
class Clients:
    cast: Cast
    by_name: dict[str, Client]


@pytest.fixture
def abc_clients(alpha: Cast) -> Clients:
    company, manager = alpha.company, alpha.managers[1]
    with tenancy.tenant_context(company):
        clients = {name: make_client(company, name) for name in [*ABC_JUNE, "Бук", "Вяз"]}
        for name, amount in ABC_JUNE.items():
            won_deal(company, clients[name], noon(2026, 6, 10), amount, manager)
        won_deal(company, clients["Бук"], noon(2025, 5, 20), 70000, manager)
        won_deal(company, clients["Вяз"], noon(2026, 6, 5), 90000, manager, status="lost")
    return Clients(alpha, clients)


@pytest.fixture
def xyz_clients(alpha: Cast) -> Clients:
    company, manager = alpha.company, alpha.managers[1]
    with tenancy.tenant_context(company):
        clients = {name: make_client(company, name) for name in XYZ}
        for name, (high, low, _cv, _class) in XYZ.items():
            for n in range(12):
                year, month = (2025, 7 + n) if n < 6 else (2026, n - 5)
                won_deal(
                    company, clients[name], noon(year, month, 15), high if n % 2 else low, manager
                )
    return Clients(alpha, clients)


@pytest.fixture
def kpi_clients(alpha: Cast) -> Clients:
    company, manager, other = alpha.company, alpha.managers[1], alpha.managers[2]
    with tenancy.tenant_context(company):
        clients = {
            name: make_client(company, name) for name in ["К1", "К2", "К3", "К4", "К5", "К6", "К7"]
        }
        for name, deals in KPI_DEALS.items():
            for moment, amount, repeat in deals:
                won_deal(company, clients[name], noon(*moment), amount, manager, repeat)
        won_deal(company, clients["К5"], noon(2026, 6, 1), 20000, manager, status="lost")
        won_deal(company, clients["К6"], noon(2026, 6, 30), 30000, other)
        won_deal(company, clients["К7"], noon(2026, 6, 10), 10000, other)
    return Clients(alpha, clients)
