"""Deals and calls for a demo company, so the funnel page is alive on the first run.

Closers and farmers work deals through the pipeline over the whole history (farmers' are
repeat sales); hunters have call records for the last two weeks and for today so far, and
today's figures prefill their end-of-day report. One client has stopped answering: three
missed calls in a row sent the deal to the retargeting list.
"""

import datetime
import random
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from accounts.models import Company, User
from crm_sync import services
from crm_sync.models import Call, Client, Deal, PipelineStage, Source, StageVisit
from kpi.calendar import calendar_for

CHANNELS = [
    ("Сайт", 5),
    ("Рекомендация", 3),
    ("Холодный звонок", 3),
    ("Реклама в Яндексе", 2),
    ("Выставка", 1),
]
LOSS_REASONS = ["Дорого", "Выбрали конкурента", "Нет бюджета", "Не дозвонились", "Отложили"]
CALL_DAYS = 14


def demo_deals_and_calls(
    *,
    company: Company,
    managers: list[tuple[User, float]],
    today: datetime.date,
    history_days: int,
    rng: random.Random,
) -> None:
    """`managers`: each manager with their skill (the share of the plan they tend to make)."""
    calendar = calendar_for(company=company)
    now = _now(company, today)
    stages = list(PipelineStage.objects.filter(company=company))
    open_stages = [s for s in stages if s.kind == PipelineStage.Kind.OPEN]
    won = next(s for s in stages if s.kind == PipelineStage.Kind.WON)
    lost = next(s for s in stages if s.kind == PipelineStage.Kind.LOST)
    clients = Client.objects.bulk_create(
        Client(company=company, name=f"ООО «Клиент {n:03d}»", phone=f"7900{n:07d}")
        for n in range(1, 161)
    )
    start = today - datetime.timedelta(days=history_days)
    days = calendar.working_days(start, today)
    deals, paths = [], []
    for manager, skill in managers:
        kind = manager.sales_role.kind if manager.sales_role else ""
        if kind not in ("closer", "farmer"):
            continue
        for day in days:
            for _n in range(_count(1.6 if kind == "closer" else 0.9, rng)):
                deal, path = _deal(
                    company, manager, skill, kind == "farmer", day, now, rng, clients,
                    open_stages, won, lost,
                )  # fmt: skip
                deals.append(deal)
                paths.append(path)
    for number, deal in enumerate(deals, start=1):
        deal.external_id = f"demo-{number}"
    Deal.objects.bulk_create(deals)
    StageVisit.objects.bulk_create(
        StageVisit(company=company, deal=deal, stage=stage, entered_at=entered, left_at=left)
        for deal, path in zip(deals, paths, strict=True)
        for stage, entered, left in path
    )
    recent = calendar.working_days(today - datetime.timedelta(days=CALL_DAYS), today)
    _calls(company, managers, recent, rng, clients, now)
    _stopped_answering(company, managers, clients[0], open_stages[1], now)
    _regular_client(company, managers, won, now)
    _steady_clients(company, managers, won, now, rng)


def _now(company: Company, today: datetime.date) -> datetime.datetime:
    """Now, or late afternoon of `today` when the demo is built for another day."""
    if today == company.today():
        return timezone.now()
    return datetime.datetime.combine(today, datetime.time(17), tzinfo=company.zone)


def _count(mean: float, rng: random.Random) -> int:
    whole = int(mean)
    return whole + (1 if rng.random() < mean - whole else 0)


def _moment(company: Company, day: datetime.date, rng: random.Random) -> datetime.datetime:
    """A moment of the working hours of `day` on the company's clock."""
    at = datetime.time(rng.randint(9, 18), rng.randint(0, 59))
    return datetime.datetime.combine(day, at, tzinfo=company.zone)


def _deal(company, manager, skill, repeat, day, now, rng, clients, open_stages, won, lost):  # type: ignore[no-untyped-def]
    """One deal's way through the pipeline from `day`: won, lost, or still open now."""
    created = _moment(company, day, rng)
    today = now.date()
    amount = Decimal(round(rng.lognormvariate(11.1, 0.5), -2))
    channel = rng.choices([c for c, _w in CHANNELS], weights=[w for _c, w in CHANNELS])[0]
    deal = Deal(
        company=company, source=Source.MANUAL, title=f"Сделка от {day:%d.%m}", manager=manager,
        client=rng.choice(clients), channel=channel, amount=amount, is_repeat=repeat,
        created_at=created, stage=open_stages[0],
    )  # fmt: skip
    path, moment = [], created
    advance = min(0.9, 0.55 + 0.3 * skill + (0.1 if repeat else 0))
    for index, stage in enumerate(open_stages):
        leave = moment + datetime.timedelta(days=rng.uniform(0.5, 6 if index else 2))
        if leave > now:  # still here today
            path.append((stage, moment, None))
            deal.stage = stage
            if index >= 2:
                deal.expected_payment_on = today + datetime.timedelta(days=rng.randint(10, 50))
            return deal, path
        path.append((stage, moment, leave))
        moment = leave
        if rng.random() > advance:
            deal.stage, deal.status, deal.closed_at = lost, Deal.Status.LOST, moment
            deal.loss_reason = rng.choice(LOSS_REASONS)
            path.append((lost, moment, None))
            return deal, path
    deal.stage, deal.status, deal.closed_at = won, Deal.Status.WON, moment
    path.append((won, moment, None))
    return deal, path


def _calls(company, managers, days, rng, clients, now) -> None:  # type: ignore[no-untyped-def]
    """Hunters' call records for the recent working days; today's so far prefill the report."""
    calls = []
    hunters = [m for m, _skill in managers if m.sales_role and m.sales_role.kind == "hunter"]
    for manager in hunters:
        for day in days:
            for _n in range(rng.randint(45, 70) if day < days[-1] else rng.randint(20, 40)):
                started = _moment(company, day, rng)
                if started > now:
                    continue
                answered = rng.random() < 0.7
                client = rng.choice(clients[1:])
                calls.append(
                    Call(
                        company=company,
                        source=Source.TELEPHONY,
                        manager=manager,
                        external_id=f"pbx-{manager.pk}-{len(calls)}",
                        client=client,
                        phone=client.phone,
                        direction="in" if rng.random() < 0.15 else "out",
                        started_at=started,
                        answered=answered,
                        duration=rng.randint(5, 600) if answered else 0,
                    )
                )
    Call.objects.bulk_create(calls)
    if days:
        for manager in hunters:
            services.day_figures_refresh(company=company, manager=manager, day=days[-1])


def _regular_client(company, managers, won, now) -> None:  # type: ignore[no-untyped-def]
    """A big client of the first farmer who ordered every two weeks and then went quiet for
    five: an A client past its rhythm, so the farmer has a «Пора позвонить» alert."""
    farmer = next((m for m, _s in managers if m.sales_role and m.sales_role.kind == "farmer"), None)
    if farmer is None:
        return
    client = Client.objects.create(
        company=company, name="АО «Постоянный заказчик»", phone="79001234567"
    )
    for number in range(8):
        closed = now - datetime.timedelta(days=35 + 14 * number)
        deal = Deal.objects.create(
            company=company, source=Source.MANUAL, external_id=f"demo-regular-{number}",
            title=f"Поставка от {closed:%d.%m}", manager=farmer, client=client,
            channel="Рекомендация", amount=Decimal(320000), stage=won, status=Deal.Status.WON,
            is_repeat=number < 7, created_at=closed - datetime.timedelta(days=2),
            closed_at=closed,
        )  # fmt: skip
        StageVisit.objects.create(company=company, deal=deal, stage=won, entered_at=closed)


# Farmers' accounts that order every month: (monthly amount, spread). A spread of ±5 %
# keeps the coefficient of variation near 3 % (class X); ±20 % near 12 % (class Y).
STEADY_ACCOUNTS = [(Decimal(350000), 0.05), (Decimal(160000), 0.2), (Decimal(45000), 0.05)]


def _steady_clients(company, managers, won, now, rng) -> None:  # type: ignore[no-untyped-def]
    """A year of monthly orders from each farmer's steady accounts, so the ABC/XYZ matrix
    has its X and Y columns (the other demo clients buy now and then: class Z)."""
    farmers = [m for m, _s in managers if m.sales_role and m.sales_role.kind == "farmer"]
    this_month = now.date().replace(day=1)
    for f_number, farmer in enumerate(farmers):
        for a_number, (amount, spread) in enumerate(STEADY_ACCOUNTS):
            client = Client.objects.create(
                company=company, name=f"ООО «Сеть {f_number + 1}-{a_number + 1}»",
                phone=f"7901{f_number:03d}{a_number:04d}",
            )  # fmt: skip
            for back in range(1, 13):
                month = this_month - relativedelta(months=back)
                closed = datetime.datetime.combine(
                    month.replace(day=rng.randint(8, 14)), datetime.time(12), tzinfo=now.tzinfo
                )
                deal = Deal.objects.create(
                    company=company, source=Source.MANUAL, title=f"Поставка за {month:%m.%Y}",
                    external_id=f"demo-steady-{farmer.pk}-{a_number}-{back}", manager=farmer,
                    client=client, channel="Рекомендация", stage=won, status=Deal.Status.WON,
                    amount=(amount * Decimal(rng.uniform(1 - spread, 1 + spread))).quantize(
                        Decimal(100)
                    ),
                    is_repeat=back < 12, created_at=closed - datetime.timedelta(days=3),
                    closed_at=closed,
                )  # fmt: skip
                StageVisit.objects.create(company=company, deal=deal, stage=won, entered_at=closed)


def _stopped_answering(company, managers, client, stage, now) -> None:  # type: ignore[no-untyped-def]
    closer = next((m for m, _s in managers if m.sales_role and m.sales_role.kind == "closer"), None)
    if closer is None:
        return
    services.deal_upsert(company=company, source=Source.MANUAL, data=services.DealData(
        external_id="demo-silent", stage=stage, created_at=now - datetime.timedelta(days=9),
        title="Поставка оборудования", manager=closer, client=client, channel="Сайт",
        amount=Decimal(240000), moved_at=now - datetime.timedelta(days=6),
    ))  # fmt: skip
    for number in range(company.missed_calls_limit):
        services.call_upsert(company=company, source=Source.TELEPHONY, data=services.CallData(
            external_id=f"pbx-silent-{number}", direction="out", manager=closer, client=client,
            started_at=now - datetime.timedelta(days=3 - number, hours=2), answered=False,
            phone=client.phone,
        ))  # fmt: skip
