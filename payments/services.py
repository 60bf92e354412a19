"""Writes of payments and receivables: upserts from a 1C file or OData, the link of a payer
to a client and a deal, the admin's fix of that link, and the KPI figures they supply.

A payment is linked when written: the client by the admin's link for its ИНН or name
(`PayerLink`), else the one client of the same name (legal form and quotes aside); the deal
by the number the file gives (a deal's number in the CRM, or the number of the contract),
among the client's deals first. Its manager is the deal's, else that of the client's latest
deal: revenue by payments counts for whoever sold.

KPI figures (`KPI.Source.ACCOUNTING`, stored as ImportedFigure of source "accounting", so
the figure of record rule of reports/figures.py applies unchanged): a KPI summed in money
gets the manager's payments of the day; a last-value KPI in money (receivables) gets what
the manager's clients owe on a balance's date (debts only: a prepayment is no debt). A KPI
switched to 1C, or away from it, has its figures rebuilt (`figures_rebuild`, queued by
payments/receivers.py when kpi.hooks says the source changed).
"""

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from accounts.models import Company, User
from accounts.permissions import require_configure
from crm_sync.models import Client, Deal
from crm_sync.services import Outcome
from kpi.models import KPI
from kpi.values import ceiling_check
from payments.models import Balance, PayerLink, Payment
from reports import services as report_services
from reports.models import ImportedFigure, ReportValue

_LEGAL_FORMS = r"\b(ооо|оао|зао|пао|ао|ип|нко|ано|ук|тд|llc|ltd)\b"


def name_key(name: str) -> str:
    """A payer's or client's name as compared: case, quotes, legal form and ё aside."""
    text = name.lower().replace("ё", "е")
    text = re.sub(r"[«»\"'“”„]", " ", text)
    text = re.sub(r"общество с ограниченной ответственностью|индивидуальный предприниматель",
                  " ", text)  # fmt: skip
    text = re.sub(_LEGAL_FORMS, " ", text)
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def payer_keys(*, inn: str, name: str) -> list[str]:
    keys = [f"inn:{inn}"] if inn else []
    if name_key(name):
        keys.append(f"name:{name_key(name)}")
    return keys


def inn_clean(raw: str) -> str:
    """An ИНН is 10 digits (an organisation) or 12 (a person); anything else is not one."""
    digits = re.sub(r"\D", "", raw or "")
    if digits and len(digits) not in (10, 12):
        raise ValidationError(_("ИНН «%(inn)s» — не 10 и не 12 цифр.") % {"inn": raw[:30]})
    return digits


def payer_client(*, company: Company, inn: str, name: str) -> Client | None:
    keys = payer_keys(inn=inn, name=name)
    links = dict(
        PayerLink.objects.filter(company=company, key__in=keys).values_list("key", "client_id")
    )
    for key in keys:
        if key in links:
            return Client.objects.get(company=company, pk=links[key])
    wanted = name_key(name)
    if not wanted:
        return None
    # Clients of the same first word only: a company's base is read once per payer, not whole.
    first = wanted.split()[0]
    same = [
        client
        for client in Client.objects.filter(company=company, name__icontains=first)
        if name_key(client.name) == wanted
    ]
    return same[0] if len(same) == 1 else None


def _contract_numbers(text: str) -> list[str]:
    return re.findall(r"№\s*([\w/-]+)", text or "")


def deal_match(*, company: Company, client: Client | None, refs: Iterable[str]) -> Deal | None:
    """The deal a payment names (its number in the CRM, or the contract's number), the
    client's own deals first; two deals of that number say nothing."""
    wanted = {ref.strip() for ref in refs if ref and ref.strip()}
    deals = Deal.objects.filter(company=company).filter(
        Q(external_id__in=wanted) | Q(title__in=wanted)
    )
    if client is not None and deals.filter(client=client).exists():
        deals = deals.filter(client=client)
    found = list(deals[:2]) if wanted else []
    if not found and client is not None:
        # Nothing named: the client's one deal that awaits a payment, if it has only one.
        found = list(
            Deal.objects.filter(
                company=company, client=client, expected_payment_on__isnull=False
            ).exclude(status__in=(Deal.Status.LOST, Deal.Status.RETARGETING))[:2]
        )
    return found[0] if len(found) == 1 else None


def manager_of(*, client: Client | None, deal: Deal | None) -> User | None:
    if deal is not None and deal.manager_id:
        return deal.manager
    if client is None:
        return None
    latest = (
        Deal.objects.filter(company=client.company, client=client, manager__isnull=False)
        .select_related("manager")
        .order_by("-created_at")
        .first()
    )
    return latest.manager if latest else None


@dataclass
class PaymentData:
    external_id: str
    paid_on: datetime.date
    amount: Decimal
    payer_name: str = ""
    payer_inn: str = ""
    contract: str = ""
    deal_ref: str = ""
    purpose: str = ""


def payment_upsert(*, company: Company, source: str, data: PaymentData) -> tuple[Payment, Outcome]:
    """Create or update the payment `source` knows as `data.external_id`, linked, and
    refresh the KPI figures of the days and managers it touches."""
    if data.amount <= 0:
        raise ValidationError(_("Сумма оплаты должна быть больше нуля."))
    amount = ceiling_check(Decimal(data.amount), KPI.Unit.MONEY).quantize(Decimal("0.01"))
    client = payer_client(company=company, inn=data.payer_inn, name=data.payer_name)
    refs = [data.deal_ref, data.contract, *_contract_numbers(data.contract)]
    deal = deal_match(company=company, client=client, refs=refs)
    client = client or (deal.client if deal else None)
    manager = manager_of(client=client, deal=deal)
    fields = {
        "paid_on": data.paid_on,
        "amount": amount,
        "payer_name": data.payer_name[:255],
        "payer_inn": data.payer_inn,
        "contract": data.contract[:255],
        "deal_ref": data.deal_ref[:100],
        "purpose": data.purpose,
        "client_id": client.pk if client else None,
        "deal_id": deal.pk if deal else None,
        "manager_id": manager.pk if manager else None,
    }
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update()
            .filter(company=company, source=source, external_id=data.external_id)
            .first()
        )
        touched: set[tuple[int | None, datetime.date]] = set()
        if payment is None:
            payment = Payment(company=company, source=source, external_id=data.external_id)
            outcome: Outcome = "created"
        else:
            touched.add((payment.manager_id, payment.paid_on))
            outcome = "unchanged"
        for name, value in fields.items():
            if getattr(payment, name) != value:
                setattr(payment, name, value)
                outcome = "updated" if outcome == "unchanged" else outcome
        if outcome == "unchanged":
            return payment, outcome
        payment.save()
        touched.add((payment.manager_id, payment.paid_on))
        figures_refresh(company=company, pairs=touched)
    return payment, outcome


def payment_drop(*, company: Company, source: str, external_id: str) -> bool:
    """The payment `source` knew as `external_id` is no payment any more (1C: unposted,
    marked for deletion or deleted): it goes, and the figures of its manager's day follow.
    Returns whether there was one."""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update()
            .filter(company=company, source=source, external_id=external_id)
            .first()
        )
        if payment is None:
            return False
        touched = {(payment.manager_id, payment.paid_on)}
        payment.delete()
        figures_refresh(company=company, pairs=touched)
    return True


@dataclass
class BalanceData:
    as_of: datetime.date
    payer_name: str
    amount: Decimal
    payer_inn: str = ""


def balance_upsert(*, company: Company, source: str, data: BalanceData) -> tuple[Balance, Outcome]:
    """A client's balance on a day (the same day and payer again: the new figure)."""
    if abs(data.amount) > 10**12:
        raise ValidationError(_("Сумма больше 10¹² — это не задолженность клиента."))
    client = payer_client(company=company, inn=data.payer_inn, name=data.payer_name)
    manager = manager_of(client=client, deal=None)
    fields = {
        "amount": Decimal(data.amount).quantize(Decimal("0.01")),
        "client_id": client.pk if client else None,
        "manager_id": manager.pk if manager else None,
        "source": source,
    }
    with transaction.atomic():
        balance, created = Balance.objects.select_for_update().get_or_create(
            company=company,
            as_of=data.as_of,
            payer_name=data.payer_name[:255],
            payer_inn=data.payer_inn,
            defaults=fields,
        )
        touched = {(balance.manager_id, balance.as_of)}
        outcome: Outcome = "created" if created else "unchanged"
        for name, value in fields.items():
            if getattr(balance, name) != value:
                setattr(balance, name, value)
                outcome = "updated"
        if outcome == "unchanged":
            return balance, outcome
        if outcome == "updated":
            balance.save()
        touched.add((balance.manager_id, balance.as_of))
        figures_refresh(company=company, pairs=touched)
    return balance, outcome


def payer_link_set(*, company: Company, actor: User, inn: str, name: str, client: Client) -> int:
    """The admin says which client a payer is: its payments and balances, past and future,
    go to that client (and its deals, its manager). Returns how many records moved."""
    require_configure(actor)
    if client.company_id != company.pk:
        raise ValidationError(_("Такого клиента нет."))
    keys = payer_keys(inn=inn, name=name)
    if not keys:
        raise ValidationError(_("У плательщика нет ни ИНН, ни названия."))
    with transaction.atomic():
        # The ИНН when there is one (it survives a renamed payer), else the name.
        key = keys[0]
        PayerLink.objects.update_or_create(
            company=company, key=key, defaults={"client": client, "created_by": actor}
        )
        same_payer = Q(payer_inn=inn) if inn else Q(payer_inn="", payer_name=name)
        touched: set[tuple[int | None, datetime.date]] = set()
        moved = 0
        for payment in Payment.objects.select_for_update().filter(same_payer, company=company):
            refs = [payment.deal_ref, payment.contract, *_contract_numbers(payment.contract)]
            deal = deal_match(company=company, client=client, refs=refs)
            manager = manager_of(client=client, deal=deal)
            touched |= {
                (payment.manager_id, payment.paid_on),
                (getattr(manager, "pk", None), payment.paid_on),
            }
            payment.client, payment.deal, payment.manager = client, deal, manager
            payment.save(update_fields=["client", "deal", "manager", "imported_at"])
            moved += 1
        manager = manager_of(client=client, deal=None)
        for balance in Balance.objects.select_for_update().filter(same_payer, company=company):
            touched |= {(balance.manager_id, balance.as_of),
                        (getattr(manager, "pk", None), balance.as_of)}  # fmt: skip
            balance.client, balance.manager = client, manager
            balance.save(update_fields=["client", "manager", "imported_at"])
            moved += 1
        figures_refresh(company=company, pairs=touched)
    return moved


# --- KPI figures ---------------------------------------------------------------------------


def _accounting_kpis(company: Company) -> list[KPI]:
    return list(
        KPI.objects.filter(company=company, source=KPI.Source.ACCOUNTING, unit=KPI.Unit.MONEY)
    )


def paid_on_day(*, company: Company, manager_id: int, day: datetime.date) -> Decimal:
    total = Payment.objects.filter(company=company, manager_id=manager_id, paid_on=day).aggregate(
        total=Sum("amount")
    )["total"]
    return total or Decimal(0)


def owed_on_day(*, company: Company, manager_id: int, day: datetime.date) -> Decimal | None:
    """What the manager's clients owe on a balance's date; None on a day with no balance."""
    balances = Balance.objects.filter(company=company, as_of=day)
    if not balances.exists():
        return None
    total = balances.filter(manager_id=manager_id, amount__gt=0).aggregate(total=Sum("amount"))
    return total["total"] or Decimal(0)


def figures_refresh(
    *,
    company: Company,
    pairs: Iterable[tuple[int | None, datetime.date]],
    kpis: list[KPI] | None = None,
) -> None:
    """Store the accounting figures of these manager days for the KPIs that take them (or
    only `kpis`)."""
    kpis = _accounting_kpis(company) if kpis is None else kpis
    pairs = {(manager_id, day) for manager_id, day in pairs if manager_id}
    if not kpis or not pairs:
        return
    managers = User.objects.in_bulk({manager_id for manager_id, _day in pairs})
    source = ReportValue.Source.ACCOUNTING
    for manager_id, day in sorted(pairs):
        manager = managers[manager_id]
        for kpi in kpis:
            if kpi.aggregation == KPI.Aggregation.SUM:
                value = paid_on_day(company=company, manager_id=manager_id, day=day)
            elif kpi.aggregation == KPI.Aggregation.LAST:
                value = owed_on_day(company=company, manager_id=manager_id, day=day)
            else:
                continue
            if value is None or (not value and kpi.aggregation == KPI.Aggregation.SUM):
                report_services.imported_figure_clear(
                    company=company, manager=manager, day=day, kpi=kpi, source=source
                )
            else:
                report_services.imported_figure_set(
                    company=company, manager=manager, day=day, kpi=kpi, source=source, value=value
                )


def has_money_from_1c(*, company: Company) -> bool:
    return (
        Payment.objects.filter(company=company).exists()
        or Balance.objects.filter(company=company).exists()
    )


def figures_rebuild(*, kpi: KPI) -> int:
    """A KPI switched to «бухгалтерия (1С)» gets the figures of every day 1C has payments or
    a balance of (and loses any it had of other days); one switched away loses them. Each
    figure is stored through reports' one entry, which marks the totals it moves. Returns
    how many manager days were written or dropped."""
    company = kpi.company
    source = ReportValue.Source.ACCOUNTING
    stored = ImportedFigure.objects.filter(company=company, kpi=kpi, source=source)
    if kpi.source != KPI.Source.ACCOUNTING:
        # They count no more (the figure of record reads the KPI's own source): dropped, so
        # that the report form does not offer 1C's figure of a KPI that no longer takes it.
        dropped, _rows = stored.delete()
        return dropped
    pairs = set(Payment.objects.filter(company=company).values_list("manager_id", "paid_on"))
    pairs |= set(Balance.objects.filter(company=company).values_list("manager_id", "as_of"))
    pairs = {(manager_id, day) for manager_id, day in pairs if manager_id}
    stale = set(stored.values_list("manager_id", "date")) - pairs
    figures_refresh(company=company, pairs=pairs | stale, kpis=[kpi])
    return len(pairs | stale)
