"""Payments and receivables from 1C for a demo company, consistent with its deals: the
accountant's statements of the last weeks and today's turnover sheet of account 62.

Every deal won in the last `WEEKS` weeks was invoiced when it was won, due ten days later
(`Deal.expected_payment_on`, what «Оплаты» sets against what came in); most clients pay
about then, some half in advance and the rest later, some are late and still owe. The
receivables sheet of today holds what each client owes for those deals, and one payer of the
statements is linked to no client, for «Плательщики без клиента» (it paid in advance: a
credit balance). The figures of the 1C KPIs follow (services.figures_rebuild).
"""

import datetime
import random
from collections import defaultdict
from decimal import Decimal

from accounts.models import Company
from crm_sync.models import Deal
from kpi.models import KPI
from payments import services
from payments.models import Balance, Payment, Source

WEEKS = 6
DUE_DAYS = 10
# A private entrepreneur who paid for somebody else's order: no client of the CRM.
STRANGER = ("ИП Гончаров Сергей Петрович", "500100732259", Decimal(35000))


def _bank_day(day: datetime.date) -> datetime.date:
    """Banks credit on weekdays: a payment of a Saturday or Sunday lands on Monday."""
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


def _inn(client_id: int) -> str:
    return f"77{client_id:08d}"  # ten digits: an organisation's ИНН


def demo_payments(*, company: Company, today: datetime.date, rng: random.Random) -> None:
    """Call inside the company's tenant context; the totals are the caller's to rebuild."""
    since = today - datetime.timedelta(weeks=WEEKS)
    deals = [
        deal
        for deal in Deal.objects.filter(
            company=company, status=Deal.Status.WON, closed_at__isnull=False
        ).select_related("client", "manager")
        if since <= company.local_time(deal.closed_at).date() <= today and deal.client_id
    ]
    deals.sort(key=lambda deal: (deal.closed_at, deal.pk))
    payments: list[Payment] = []

    def pay(deal: Deal, day: datetime.date, amount: Decimal) -> None:
        day = _bank_day(day)
        if day > today:
            return  # not yet
        number = len(payments) + 1
        payments.append(
            Payment(
                company=company,
                source=Source.FILE,
                external_id=f"{number:08d}/{day.year}",
                paid_on=day,
                amount=amount,
                payer_name=deal.client.name,
                payer_inn=_inn(deal.client_id),
                contract=f"Договор № {deal.external_id}",
                deal_ref=deal.external_id or "",
                purpose=f"Оплата по счёту № {number} по договору № {deal.external_id}, "
                "в т.ч. НДС 20%",
                # What services.payment_upsert links by the contract's number: the deal, its
                # client and its manager (bulk here, like the rest of the demo).
                client=deal.client,
                deal=deal,
                manager=deal.manager,
            )
        )

    for deal in deals:
        won_on = company.local_time(deal.closed_at).date()
        deal.expected_payment_on = won_on + datetime.timedelta(days=DUE_DAYS)
        chance = rng.random()
        if chance < 0.25:  # half in advance, the rest around the due date
            half = (deal.amount / 2).quantize(Decimal("0.01"))
            pay(deal, won_on + datetime.timedelta(days=1), half)
            pay(deal, deal.expected_payment_on + datetime.timedelta(days=rng.randint(-3, 3)),
                deal.amount - half)  # fmt: skip
        elif chance < 0.85:  # in full, a few days either side of the due date
            pay(deal, deal.expected_payment_on + datetime.timedelta(days=rng.randint(-6, 4)),
                deal.amount)  # fmt: skip
        # else: late, nothing paid yet
    Deal.objects.bulk_update(deals, ["expected_payment_on"])
    stranger_day = _bank_day(today - datetime.timedelta(days=9))
    payments.append(
        Payment(
            company=company,
            source=Source.FILE,
            external_id=f"{len(payments) + 1:08d}/{today.year}",
            paid_on=stranger_day,
            amount=STRANGER[2],
            payer_name=STRANGER[0],
            payer_inn=STRANGER[1],
            purpose="Оплата по счёту № 418, в т.ч. НДС 20%",
        )
    )
    Payment.objects.bulk_create(payments)

    # Today's turnover sheet of account 62: what each client owes for those deals.
    owed: dict[int, Decimal] = defaultdict(Decimal)
    clients = {}
    for deal in deals:
        owed[deal.client_id] += deal.amount
        clients[deal.client_id] = deal.client
    for payment in payments:
        if payment.client_id:
            owed[payment.client_id] -= payment.amount
    balances = [
        Balance(
            company=company,
            source=Source.FILE,
            as_of=today,
            payer_name=clients[client_id].name,
            payer_inn=_inn(client_id),
            amount=amount,
            client=clients[client_id],
            manager=services.manager_of(client=clients[client_id], deal=None),
        )
        for client_id, amount in owed.items()
        if amount
    ]
    balances.append(
        Balance(
            company=company,
            source=Source.FILE,
            as_of=today,
            payer_name=STRANGER[0],
            payer_inn=STRANGER[1],
            amount=Decimal(-5000),
        )
    )
    Balance.objects.bulk_create(balances)
    for kpi in KPI.objects.filter(company=company, source=KPI.Source.ACCOUNTING):
        services.figures_rebuild(kpi=kpi)
