"""A known March 2026 for the quality tests, every figure computed by hand.

The company's first default checklist, «Выявление потребностей», has five points with the
weights 1, 3, 2, 2, 2 (10 in all). The company ties 30 % of salary to quality.

| call | manager | when (Moscow) | client's deal | scored by: points done → score |
|---|---|---|---|---|
| A | M1 | 10.03 10:00, 120 s | K1: 01.03 → won 20.03 | Q1: 0,1,2,3 → 80 %; Q2: 0,1 → 40 % |
| B | M1 | 11.03 11:00, 90 s | K2: 05.03 → lost 15.03 | Q1: 0,4 → 3/10 = 30 % |
| E | M2 | 11.03 09:00, 200 s | K3: 02.03, still open | Q1: all → 100 % |

Month average of M1: call A counts once at (80 + 40) / 2 = 60, so (60 + 30) / 2 = 45 % (red);
soft part 30 × 45 % = 13.5 % of salary, 16.5 % lost, 83.5 % of the full salary paid.
M2: 100 %, the whole soft part, 100 % of salary.

Points against results (A won, B lost, E open so left out); a point is counted per score:
- point 0: done in A·Q1, A·Q2, B → 2 won of 3 = 66.67 %; never missed;
- point 1: done in A·Q1, A·Q2 → 100 %; missed in B → 0 %; +100;
- points 2 and 3: done in A·Q1 → 100 %; missed in A·Q2 (won) and B (lost) → 50 %; +50;
- point 4: done in B → 0 %; missed in A·Q1, A·Q2 → 100 %; −100.
Controllers on call A: spread 80 − 40 = 40; points 0, 1 and 4 marked alike: 3 of 5 = 60 %.
"""

import datetime
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

from accounts import tenancy
from accounts.models import User
from crm_sync import services as crm
from crm_sync.models import Call, PipelineStage
from quality import services
from quality.models import CallScore, CallType, ChecklistItem
from tests.conftest import Cast
from tests.factories import UserFactory

MSK = zoneinfo.ZoneInfo("Europe/Moscow")
MARCH = datetime.date(2026, 3, 1)


def moment(day: int, hour: int, month: int = 3) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, tzinfo=MSK)


@dataclass
class KnownQuality:
    cast: Cast
    call_type: CallType
    items: list[ChecklistItem]
    second_controller: User
    calls: dict[str, Call]
    scores: dict[str, CallScore]

    @property
    def m1(self) -> User:
        return self.cast.managers[0]

    @property
    def m2(self) -> User:
        return self.cast.managers[1]


def build_known_quality(cast: Cast) -> KnownQuality:
    company = cast.company
    q2 = UserFactory(company=company, username=f"{cast.admin.username}.q2", role=User.Role.QUALITY)
    with tenancy.tenant_context(company):
        call_type = CallType.objects.get(company=company, name="Выявление потребностей")
        items = list(call_type.items.all())
        assert [i.weight for i in items] == [1, 3, 2, 2, 2]
        stages = {s.kind: s for s in PipelineStage.objects.filter(company=company)}
        m1, m2 = cast.managers[0], cast.managers[1]
        clients = {
            name: crm.client_resolve(company=company, name=name, phone=phone)
            for name, phone in (("K1", "79001110001"), ("K2", "79001110002"), ("K3", "79001110003"))
        }
        deals = [
            ("k1", "K1", m1, moment(1, 12), PipelineStage.Kind.WON, moment(20, 12)),
            ("k2", "K2", m1, moment(5, 12), PipelineStage.Kind.LOST, moment(15, 12)),
            ("k3", "K3", m2, moment(2, 12), PipelineStage.Kind.OPEN, None),
        ]
        for external_id, client, manager, created, kind, closed in deals:
            crm.deal_upsert(company=company, source="file", data=crm.DealData(
                external_id=external_id, stage=stages[kind], created_at=created, closed_at=closed,
                moved_at=closed,
                manager=manager, client=clients[client], amount=Decimal(10000),
            ))  # fmt: skip
        calls = {}
        for name, manager, client, started, duration in (
            ("A", m1, "K1", moment(10, 10), 120),
            ("B", m1, "K2", moment(11, 11), 90),
            ("E", m2, "K3", moment(11, 9), 200),
        ):
            call, _outcome = crm.call_upsert(company=company, source="telephony", data=crm.CallData(
                external_id=f"q-{name}", direction="out", started_at=started, duration=duration,
                answered=True, manager=manager, client=clients[client],
            ))  # fmt: skip
            calls[name] = call
        services.settings_save(company=company, soft_salary_share=Decimal(30), days_back=3)

        def score(call: str, controller: User, done: list[int]) -> CallScore:
            return services.call_score_save(
                company=company, call=calls[call], call_type=call_type, controller=controller,
                done_items={items[i].pk for i in done}, comment=f"Разбор звонка {call}",
            )  # fmt: skip

        scores = {
            "A1": score("A", cast.quality, [0, 1, 2, 3]),
            "A2": score("A", q2, [0, 1]),
            "B1": score("B", cast.quality, [0, 4]),
            "E1": score("E", cast.quality, [0, 1, 2, 3, 4]),
        }
    return KnownQuality(cast, call_type, items, q2, calls, scores)
