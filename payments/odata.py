"""Pulling payments and receivables from 1C:Enterprise through its standard OData interface.

1C publishes an infobase's data at <publication>/odata/standard.odata/ (1C:Enterprise 8.3
developer guide, «Стандартный интерфейс OData»; 1C:Fresh, «Работа с данными приложения через
стандартный интерфейс OData»): HTTP basic auth as a 1C user, `$format=json`, `$filter`
(`Date ge datetime'2026-11-01T00:00:00'`), `$select`, `$orderby`, paging by `$top`/`$skip`,
and an accumulation register's balances as its virtual table
`AccumulationRegister_<name>/Balance(Period=datetime'…')`, a resource `X` read as `XBalance`.
Reference fields come as `<name>_Key` GUIDs: the counterparties (`Catalog_Контрагенты`:
`Description`, `ИНН`) are read first to name the payers.

The pull reads documents «Поступление на расчётный счёт» from the start of last month, or a
week before the last pull if that is earlier (the months an accountant still edits come
again; the upsert keeps one payment per `Ref_Key`), and the
balance of settlements with counterparties as of today. The entity names are the
connection's own, as configurations differ (БП: РасчетыСКонтрагентами; УТ/КА:
РасчетыСКлиентами).

A payment is a document of `ВидОперации` «Оплата от покупателя» that is posted and not
marked for deletion: every document object of the standard interface carries `Posted` and
`DeletionMark` (the guide's «Стандартные реквизиты»). So the window is read whole, not
filtered by them: a document taken before and since unposted, marked for deletion or turned
into another operation drops its payment. One that is gone altogether is not in the list: a
stored payment of the window whose `Ref_Key` did not come is asked for by its key,
`Document_…(guid'…')`, and dropped when 1C answers 404 (deleted); if it comes (its date moved
before the window) it is taken as it now is. Each drop refreshes its manager's day.
"""

import datetime
import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import httpx
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import crypto, tenancy
from accounts.models import Company, User
from accounts.permissions import require_configure
from kpi.periods import shift_months
from payments import services
from payments.models import ODataConnection, Payment, Source

logger = logging.getLogger(__name__)

PAGE = 500
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
# 1C's ВидОперации of a payment from a client: БП's, then УТ's and КА's.
CLIENT_PAYMENTS = {"ОплатаПокупателя", "ПоступлениеОплатыОтКлиента"}
# Edits in 1C to the last days' documents come again with the next pull, however long ago
# it was.
OVERLAP = datetime.timedelta(days=7)


class ODataError(Exception):
    """1C refused or could not be reached; the message is for the admin."""


@dataclass
class PullResult:
    payments: int = 0
    balances: int = 0
    # Payments taken before that 1C no longer has as payments (unposted, deleted).
    dropped: int = 0
    error: str = ""


def connection_save(
    *,
    company: Company,
    actor: User,
    instance: ODataConnection | None,
    base_url: str,
    username: str,
    password: str,
    pull_from: datetime.date,
    payments_entity: str,
    balances_entity: str,
    active: bool,
) -> ODataConnection:
    require_configure(actor)
    connection = instance or ODataConnection(company=company)
    if not password and not connection.password:
        raise ValidationError({"password": _("Укажите пароль пользователя 1С.")})
    connection.base_url = base_url.rstrip("/")
    connection.username = username
    if password:
        connection.password = crypto.encrypt(password)
    connection.pull_from = pull_from
    connection.payments_entity = payments_entity
    connection.balances_entity = balances_entity
    connection.active = active
    connection.save()
    return connection


class OneC:
    """A session with one published infobase."""

    def __init__(self, *, base_url: str, username: str, password: str) -> None:
        self.root = base_url.rstrip("/") + "/odata/standard.odata/"
        self.client = httpx.Client(auth=(username, password), timeout=TIMEOUT)

    def close(self) -> None:
        self.client.close()

    def get(self, resource: str, params: dict[str, str]) -> list[dict[str, Any]]:
        query = "&".join(f"{key}={quote(value, safe=',')}" for key, value in params.items())
        url = f"{self.root}{quote(resource, safe='/()=,')}?$format=json&{query}"
        try:
            response = self.client.get(url)
        except httpx.HTTPError as error:
            raise ODataError(
                _("1С не отвечает по адресу %(url)s: %(reason)s.")
                % {"url": self.root, "reason": type(error).__name__}
            ) from error
        if response.status_code in (401, 403):
            raise ODataError(_("1С не приняла логин или пароль (ответ %(code)s).")
                             % {"code": response.status_code})  # fmt: skip
        if response.status_code == 404:
            raise ODataError(
                _("В 1С нет «%(name)s»: проверьте, что он опубликован в составе OData.")
                % {"name": resource.split("/")[0]}
            )
        if response.status_code >= 400:
            raise ODataError(_("1С ответила ошибкой %(code)s.") % {"code": response.status_code})
        try:
            return list(response.json()["value"])
        except (ValueError, KeyError, TypeError) as error:
            raise ODataError(_("1С ответила не в формате OData JSON.")) from error

    def one(self, resource: str, key: str) -> dict[str, Any] | None:
        """An object by its key (`Ref_Key`); None when 1C has no such object (404)."""
        url = f"{self.root}{quote(resource, safe='')}(guid'{quote(key, safe='-')}')?$format=json"
        try:
            response = self.client.get(url)
        except httpx.HTTPError as error:
            raise ODataError(
                _("1С не отвечает по адресу %(url)s: %(reason)s.")
                % {"url": self.root, "reason": type(error).__name__}
            ) from error
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise ODataError(_("1С ответила ошибкой %(code)s.") % {"code": response.status_code})
        try:
            found = response.json()
        except ValueError as error:
            raise ODataError(_("1С ответила не в формате OData JSON.")) from error
        if not isinstance(found, dict) or "Ref_Key" not in found:
            raise ODataError(_("1С ответила не в формате OData JSON."))
        return found

    def pages(self, resource: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        skip = 0
        while True:
            rows = self.get(resource, {**params, "$top": str(PAGE), "$skip": str(skip)})
            yield from rows
            if len(rows) < PAGE:
                return
            skip += PAGE


def _moment(day: datetime.date, end: bool = False) -> str:
    return f"datetime'{day:%Y-%m-%d}T{'23:59:59' if end else '00:00:00'}'"


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def connection_pull(*, company_id: int, code: str) -> PullResult:
    """Pull the payments since the last pull and today's balances; the error, if any, is
    kept on the connection for the admin's page."""
    with tenancy.tenant_context(company_id):
        connection = ODataConnection.objects.select_related("company").get(code=code)
        company = connection.company
        try:
            password = crypto.decrypt(connection.password)
        except ValueError:
            password = ""
        today = company.today()
        since = connection.pull_from
        if connection.last_pull_at:
            last = company.local_time(connection.last_pull_at).date()
            # Accountants edit the months not yet closed: last month's documents come again
            # (and go, if unposted or deleted since), not only the last week's.
            since = max(since, min(last - OVERLAP, shift_months(today, -1)))
        # The payments this connection took in the window: each must come again, or go.
        taken = set(
            Payment.objects.filter(
                company=company, source=Source.ODATA, paid_on__gte=since
            ).values_list("external_id", flat=True)
        )
    result = PullResult()
    onec = OneC(base_url=connection.base_url, username=connection.username, password=password)
    gone: list[str] = []
    try:
        payers = {
            row["Ref_Key"]: (row.get("Description", ""), str(row.get("ИНН") or ""))
            for row in onec.pages("Catalog_Контрагенты", {"$select": "Ref_Key,Description,ИНН"})
        }
        # Unposted and deleted ones too: a payment taken before may have become one of them.
        documents = list(
            onec.pages(
                connection.payments_entity,
                {"$filter": f"Date ge {_moment(since)}", "$orderby": "Date"},
            )
        )
        listed = {document.get("Ref_Key") for document in documents}
        for key in sorted(taken - listed):
            document = onec.one(connection.payments_entity, key)
            if document is None:
                gone.append(key)
            else:
                documents.append(document)
        rows = onec.get(f"{connection.balances_entity}/Balance(Period={_moment(today, True)})", {})
    except ODataError as error:
        result.error = str(error)
    finally:
        onec.close()
    with tenancy.tenant_context(company_id):
        if not result.error:
            result.payments, result.dropped = _payments_write(company, documents, payers)
            for key in gone:
                result.dropped += services.payment_drop(
                    company=company, source=Source.ODATA, external_id=key
                )
            result.balances = _balances_write(company, rows, payers, today)
        ODataConnection.objects.filter(pk=connection.pk).update(
            last_pull_at=timezone.now(), last_error=result.error
        )
    if result.error:
        logger.warning("1C pull of company %s: %s", company_id, result.error)
    return result


def _payer(payers: dict, key: str | None) -> tuple[str, str]:
    name, inn = payers.get(key or "", ("", ""))
    try:
        inn = services.inn_clean(inn)
    except ValidationError:
        inn = ""
    return name, inn


def _is_payment(document: dict[str, Any]) -> bool:
    """A client's payment that counts: posted, not marked for deletion, of a payment kind
    (a document of no kind, as some configurations publish it, is taken as one)."""
    kind = document.get("ВидОперации")
    return (
        document.get("Posted") is True
        and document.get("DeletionMark") is not True
        and not (kind and kind not in CLIENT_PAYMENTS)
        and _amount(document.get("СуммаДокумента")) > 0
    )


def _payments_write(company: Company, documents: list[dict], payers: dict) -> tuple[int, int]:
    """(payments written, payments dropped) of the documents read."""
    written = dropped = 0
    for document in documents:
        if not _is_payment(document):
            # Not (or no longer) a payment: if it was taken before, it goes.
            dropped += services.payment_drop(
                company=company, source=Source.ODATA, external_id=document["Ref_Key"]
            )
            continue
        amount = _amount(document.get("СуммаДокумента"))
        name, inn = _payer(payers, document.get("Контрагент_Key"))
        data = services.PaymentData(
            external_id=document["Ref_Key"],
            paid_on=datetime.datetime.fromisoformat(document["Date"]).date(),
            amount=amount,
            payer_name=name,
            payer_inn=inn,
            # The document's own number names no deal: the deal comes from the client's one
            # deal awaiting payment (services.deal_match).
            purpose=str(document.get("НазначениеПлатежа") or ""),
        )
        try:
            with transaction.atomic():
                services.payment_upsert(company=company, source=Source.ODATA, data=data)
        except ValidationError as refusal:
            logger.warning("1C payment %s refused: %s", data.external_id, refusal.messages)
            continue
        written += 1
    return written, dropped


def _balances_write(company: Company, rows: list[dict], payers: dict, day: datetime.date) -> int:
    owed: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        key = row.get("Контрагент_Key") or row.get("Клиент_Key") or row.get("Партнер_Key")
        resource = next(
            (name for name in ("СуммаBalance", "СуммаВзаиморасчетовBalance") if name in row),
            next((name for name in row if name.endswith("Balance")), None),
        )
        if key and resource:
            owed[key] += _amount(row[resource])
    written = 0
    for key, amount in owed.items():
        name, inn = _payer(payers, key)
        data = services.BalanceData(as_of=day, payer_name=name or key, payer_inn=inn, amount=amount)
        try:
            with transaction.atomic():
                services.balance_upsert(company=company, source=Source.ODATA, data=data)
        except ValidationError:
            continue
        written += 1
    return written


def connections_due() -> list[tuple[int, str]]:
    """(company id, connection code) of every active 1C connection, across companies."""
    due = []
    for company_id in Company.objects.values_list("pk", flat=True):
        with tenancy.tenant_context(company_id):
            codes = ODataConnection.objects.filter(company_id=company_id, active=True)
            due += [(company_id, str(code)) for code in codes.values_list("code", flat=True)]
    return due
