"""A known March 2026 for the funnel tests, with every figure computed by hand.

Manager B (alpha.managers[1], moved to the closer role) has six deals; every move happens
at 12:00 Moscow time, so stage times are whole days. Stages s0–s4 are open, W won, L lost.

| deal | channel | amount | created | path (date of each move) | closed in March |
|---|---|---|---|---|---|
| D1 | Сайт | 100 000 | 02.03 | s0 → s1 05.03 → s2 10.03 → W 12.03 | won, 10 days |
| D2 | Сайт | 50 000 | 03.03 | s0 → s1 04.03 → L 09.03 «Дорого» | lost, 6 days |
| D3 | Рекомендация, repeat | 200 000 | 20.02 | s0 → s1 25.02 → W 20.03 | won, 28 days |
| D4 | Сайт | 80 000 | 15.03 | s0 → s2 18.03 | open on s2 |
| D5 | Рекомендация | 30 000 | 25.03 | s0 | open on s0 |
| D6 | Холодный звонок | 10 000 | 05.03 | s0 → L 06.03 «Нет бюджета» | lost, 1 day |

March: created 5 (D1, D2, D4, D5, D6); won 2, lost 2 → conversion 50 %; won 300 000,
average won 150 000; deal length (10 + 6 + 28 + 1) / 4 = 11.25 days; time to win 19,
to loss 3.5. Open at the end: D4 (s2) and D5 (s0), 2 deals worth 110 000.
Velocity = 150 000 × 2 × 0.5 / 11.25 = 13 333.33 a day.

Stages, for the visits that ended in March:
- s0: D1 (→ s1, 3 d), D2 (→ s1, 1 d), D4 (→ s2, 3 d), D6 (→ L, 1 d): 3 of 4 on, 75 %, 2 days.
- s1: D1 (→ s2, 5 d), D2 (→ L, 5 d), D3 (→ W, 23 d): 2 of 3, 66.7 %, 11 days.
- s2: D1 (→ W, 2 d): 1 of 1, 100 %, 2 days.

Revenue plan of B's role for March: 400 000; B reported 100 000 on one day, so 300 000 is
left and the coverage is 110 000 / 300 000 = 0.37 (low: healthy is 3–4×).
"""

import datetime
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

import pytest

from accounts import tenancy
from accounts.models import SalesRole, User
from crm_sync import services as crm
from crm_sync.models import PipelineStage
from kpi import services as kpi_services
from kpi.models import KPI
from reports import services as report_services
from rollups import services as rollup_services
from tests.conftest import Cast

MSK = zoneinfo.ZoneInfo("Europe/Moscow")
START, END = datetime.date(2026, 3, 1), datetime.date(2026, 3, 31)


def noon(month: int, day: int) -> datetime.datetime:
    return datetime.datetime(2026, month, day, 12, tzinfo=MSK)


# deal: (channel, amount, repeat, created, [(stage index or "W"/"L", (month, day))], reason)
DEALS = {
    "D1": ("Сайт", 100000, False, (3, 2), [(1, (3, 5)), (2, (3, 10)), ("W", (3, 12))], ""),
    "D2": ("Сайт", 50000, False, (3, 3), [(1, (3, 4)), ("L", (3, 9))], "Дорого"),
    "D3": ("Рекомендация", 200000, True, (2, 20), [(1, (2, 25)), ("W", (3, 20))], ""),
    "D4": ("Сайт", 80000, False, (3, 15), [(2, (3, 18))], ""),
    "D5": ("Рекомендация", 30000, False, (3, 25), [], ""),
    "D6": ("Холодный звонок", 10000, False, (3, 5), [("L", (3, 6))], "Нет бюджета"),
}


@dataclass
class KnownFunnel:
    cast: Cast
    manager: User
    stages: list[PipelineStage]


def _stage(stages: list[PipelineStage], key: int | str) -> PipelineStage:
    if key == "W":
        return next(s for s in stages if s.kind == PipelineStage.Kind.WON)
    if key == "L":
        return next(s for s in stages if s.kind == PipelineStage.Kind.LOST)
    return [s for s in stages if s.kind == PipelineStage.Kind.OPEN][key]


@pytest.fixture
def known_funnel(alpha: Cast) -> KnownFunnel:
    return build_known_funnel(alpha)


def build_known_funnel(alpha: Cast) -> KnownFunnel:
    company, manager = alpha.company, alpha.managers[1]
    with tenancy.tenant_context(company):
        closer = SalesRole.objects.get(company=company, kind=SalesRole.Kind.CLOSER)
        User.objects.filter(pk=manager.pk).update(sales_role=closer)
        manager.refresh_from_db()
        stages = list(PipelineStage.objects.filter(company=company))
        for number, (channel, amount, repeat, created, path, reason) in DEALS.items():
            data = crm.DealData(
                external_id=number, stage=_stage(stages, 0), created_at=noon(*created),
                title=number, manager=manager, channel=channel, amount=Decimal(amount),
                is_repeat=repeat,
            )  # fmt: skip
            crm.deal_upsert(company=company, source="file", data=data)
            for key, moment in path:
                data.stage, data.moved_at = _stage(stages, key), noon(*moment)
                data.loss_reason = reason if key == "L" else ""
                crm.deal_upsert(company=company, source="file", data=data)
        kpi_services.plan_set(
            company=company, kpi=KPI.objects.get(company=company, code="deals_sum"),
            start=START, value=Decimal(400000), sales_role=closer,
        )  # fmt: skip
        report_services.report_submit(
            company=company, manager=manager, day=datetime.date(2026, 3, 12),
            values={"meetings": "2", "deals_won": "1", "deals_sum": "100000"},
            actor=alpha.admin, confirmed=True, reason="тестовые данные",
        )  # fmt: skip
    rollup_services.rollup_run(company_id=company.pk)
    return KnownFunnel(alpha, manager, stages)
