"""Bitrix24: REST through an inbound webhook (https://<portal>/rest/<user>/<secret>/
<method>.json), its deals and telephony calls as deals and calls, and its outbound
webhook's events (a deal event names only the deal's id; a call's end carries the call).

Closing stages need no mapping: the success and failure stages (STAGE_SEMANTIC_ID S / F,
or a STAGE_ID ending in WON / LOSE) land on the company's first won or lost stage.

Leads (`LeadVendor`): in its classic mode Bitrix24 keeps leads apart from deals
(`crm.lead.list`, ONCRMLEAD* events); a converted lead has STATUS_ID CONVERTED (semantic S)
and its deal names it in LEAD_ID.
"""

import datetime
import secrets
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.utils.translation import gettext as _

from accounts import crypto
from crm_sync.models import Call, Client, CRMConnection, Lead, PipelineStage, Source
from crm_sync.services import CallData, DealData, LeadData
from crm_sync.vendors.base import (
    CRMPipeline,
    CRMStatus,
    CRMUser,
    Inbound,
    Lookup,
    Record,
    Skip,
    StageEvent,
    Stream,
    iso,
)
from crm_sync.vendors.http import CRMError, CRMHttp, CRMTokenRefused, CRMUnavailable
from crm_sync.vendors.reference import Reference, split_money

DEAL_FIELDS = [
    "ID", "TITLE", "STAGE_ID", "STAGE_SEMANTIC_ID", "CATEGORY_ID", "OPPORTUNITY",
    "ASSIGNED_BY_ID", "CONTACT_ID", "SOURCE_ID", "DATE_CREATE", "DATE_MODIFY", "CLOSED",
    "CLOSEDATE", "IS_RETURN_CUSTOMER", "COMPANY_ID", "CURRENCY_ID", "UF_*",
]  # fmt: skip
# apidocs.bitrix24.ru, «Получить список лидов crm.lead.list» (fields: crm.lead.fields).
LEAD_FIELDS = ["ID", "TITLE", "STATUS_ID", "STATUS_SEMANTIC_ID", "ASSIGNED_BY_ID", "SOURCE_ID",
               "DATE_CREATE", "DATE_MODIFY", "DATE_CLOSED"]  # fmt: skip
# crm.settings.mode.get: 1 classic (with leads), 2 «Простая CRM», without leads.
SIMPLE_MODE = 2
HISTORY_FIELDS = ["ID", "TYPE_ID", "OWNER_ID", "CREATED_TIME", "CATEGORY_ID", "STAGE_ID",
                  "STAGE_SEMANTIC_ID"]  # fmt: skip
# Deal fields that can hold its amount (crm.deal.fields `type`), besides OPPORTUNITY.
AMOUNT_FIELD_TYPES = ("money", "double")
LIMITED = {"QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT"}
PAGE_SIZE = 50  # rows a list method answers with, fixed by Bitrix24
# Bitrix24 lists a call once it ends, by its start time: a long call can show up after
# shorter ones that began later, so the calls cursor looks back this far.
CALLS_OVERLAP = datetime.timedelta(hours=2)


# --- HTTP ---------------------------------------------------------------------------------


def _limited(response: httpx.Response) -> bool:
    try:
        return response.json().get("error") in LIMITED
    except ValueError:
        return False


# What the sync reads: deals and contacts, users, calls (apidocs.bitrix24.ru, «Права
# доступа (scope)»).
SCOPES = "crm, user, telephony"


def _refusal(error: str, status: int) -> None:
    """An error that is the admin's to fix, told in their words (apidocs.bitrix24.ru,
    «Ошибки», and «OAuth 2.0 протокол авторизации» for expired_token)."""
    if error in ("expired_token", "invalid_token", "NO_AUTH_FOUND", "INVALID_CREDENTIALS"):
        if error == "expired_token":
            raise CRMTokenRefused(_("Ключ доступа Битрикс24 истёк."))
        raise CRMTokenRefused(
            _(
                "Битрикс24 не принимает ключ доступа: вебхук удалён, код неверен или "
                "приложение удалено с портала. Вставьте адрес вебхука заново."
            )
        )
    if error == "insufficient_scope":
        raise CRMError(
            _(
                "У вебхука или приложения Битрикс24 нет нужных прав. Отметьте в его "
                "настройках права: %(scopes)s."
            )
            % {"scopes": SCOPES}
        )
    if status == 403 or error in ("ACCESS_DENIED", "ERROR_ACCESS_DENIED"):
        raise CRMError(
            _(
                "Битрикс24 отказал в доступе (HTTP %(status)s): адрес сервера Salesdesk не "
                "входит в разрешённые IP-адреса портала, или у пользователя вебхука нет прав "
                "на CRM. Ключ при этом может быть верным."
            )
            % {"status": status}
        )


def _in_categories(pipelines: list[str] | None) -> dict[str, Any]:
    """Only the deals of these pipelines (None: of every one): `@CATEGORY_ID`, the IN
    filter (apidocs.bitrix24.ru/api-reference/crm/deals/crm-deal-list.html, «@ — IN»)."""
    return {"@CATEGORY_ID": list(pipelines)} if pipelines else {}


def _order(name: str, *fields: str) -> dict[str, Any]:
    """crm.*.list takes `order` by several fields; voximplant.statistic.get one `SORT`
    field and its `ORDER` (ties are then in the portal's order, and read by id)."""
    if name == "SORT":
        return {"SORT": fields[0], "ORDER": "ASC"}
    return {name: dict.fromkeys(fields, "ASC")}


class Bitrix24Client:
    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        requests_per_second: float = 2,
        page_size: int = PAGE_SIZE,
        **http: Any,
    ) -> None:
        self.token = token
        self.page_size = page_size
        # An application's `client_endpoint` is https://<portal>/rest/; an inbound
        # webhook's address names its user, https://<portal>/rest/<user>.
        self.oauth = base_url.rstrip("/").endswith("/rest")
        self.http = CRMHttp(
            base_url=base_url.rstrip("/") + "/", requests_per_second=requests_per_second, **http
        )

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, params: dict[str, Any]) -> dict:
        if self.oauth:  # an application: the access token goes with each call
            path, params = f"{method}.json", {**params, "auth": self.token}
        else:  # an inbound webhook: its code is part of the address
            path = f"{self.token}/{method}.json"
        response = self.http.request("POST", path, json=params, is_limited=_limited)
        try:
            body = response.json()
        except ValueError as error:
            _refusal("", response.status_code)  # an IP block answers with a page, not JSON
            raise CRMError(
                _("Битрикс24 ответил HTTP %(status)s на %(method)s.")
                % {"status": response.status_code, "method": method}
            ) from error
        if "error" in body:
            _refusal(str(body["error"]), response.status_code)
            detail = body.get("error_description", "")
            raise CRMError(
                _("Битрикс24 отказал в %(method)s: %(error)s %(detail)s")
                % {"method": method, "error": body["error"], "detail": detail}
            )
        return body

    def _pages(self, method: str, params: dict[str, Any]) -> Iterator[list[dict]]:
        """List methods give 50 rows a call; `next` is the offset of the following ones."""
        start = 0
        while True:
            body = self.call(method, {**params, "start": start})
            if body.get("result"):
                yield body["result"]
            if "next" not in body:
                return
            start = body["next"]

    def _changed_since(
        self,
        method: str,
        *,
        field: str,
        since: str | None,
        params: dict[str, Any],
        names: tuple[str, str] = ("filter", "order"),
        fast: bool = True,
        where_also: dict[str, Any] | None = None,
    ) -> Iterator[list[dict]]:
        """Records whose `field` is at or after `since`, oldest first, by keyset: each request
        starts at the last `field` value read and drops the records already read at it.

        An offset (`start=N`) over a moving sort key skips: a record of a read page that
        changes moves to the end, and the first of the next page moves onto the page
        already read. Ties (a whole page at one moment, a mass edit) are read by id,
        `>ID` ordered by ID. `fast` asks without a count (`start=-1`), the way Bitrix24
        documents for big lists (apidocs.bitrix24.ru, «Как выбрать все элементы списка»,
        the fast method with `>ID` and start -1); a method that does not know it pages by
        its `next`. `where_also`: conditions every request adds to its filter."""
        where, order = names
        seen: set[str] = set()
        after: str | None = None  # reading the tie at `since` by id, past this one
        past = False  # the tie at `since` is read through: strictly after it
        while True:
            if after is not None:
                bounds = {f">={field}": since, f"<={field}": since, ">ID": after}
                query = {**params, where: {**(where_also or {}), **bounds}, **_order(order, "ID")}
            else:
                bounds = {(">" if past else ">=") + field: since} if since else {}
                query = {
                    **params,
                    where: {**(where_also or {}), **bounds},
                    **_order(order, field, "ID"),
                }
            if fast:
                query["start"] = -1
            body = self.call(method, query)
            items = body.get("result") or []
            moment = iso(since)
            fresh = [i for i in items if iso(i[field]) != moment or str(i["ID"]) not in seen]
            if fresh:
                yield fresh
            more = len(items) >= self.page_size if fast else "next" in body
            if after is not None:
                seen |= {str(i["ID"]) for i in items}
                if more:
                    after = str(max(int(i["ID"]) for i in items))
                else:
                    after, past = None, True
                continue
            if not more:
                return
            last = max(items, key=lambda i: iso(i[field]))[field]  # type: ignore[arg-type,return-value]
            if moment is None or iso(last) > moment:  # type: ignore[operator]
                since, past = last, False
                seen = {str(i["ID"]) for i in items if iso(i[field]) == iso(last)}
            else:
                seen |= {str(i["ID"]) for i in items}
                after = str(max(int(i["ID"]) for i in items))

    def deals_updated(
        self, *, since: str | None, pipelines: list[str] | None = None
    ) -> Iterator[list[dict]]:
        params = {"select": DEAL_FIELDS}
        return self._changed_since(
            "crm.deal.list", field="DATE_MODIFY", since=since, params=params,
            where_also=_in_categories(pipelines),
        )  # fmt: skip

    def deals_by_id(self, ids: list[str], *, pipelines: list[str] | None = None) -> list[dict]:
        params = {"select": DEAL_FIELDS, "filter": {"@ID": ids, **_in_categories(pipelines)}}
        return [deal for page in self._pages("crm.deal.list", params) for deal in page]

    def leads_updated(self, *, since: str | None) -> Iterator[list[dict]]:
        params = {"select": LEAD_FIELDS}
        return self._changed_since("crm.lead.list", field="DATE_MODIFY", since=since, params=params)

    def leads_by_id(self, ids: list[str]) -> list[dict]:
        params = {"select": LEAD_FIELDS, "filter": {"@ID": ids}}
        return [lead for page in self._pages("crm.lead.list", params) for lead in page]

    def crm_mode(self) -> int:
        return int(self.call("crm.settings.mode.get", {}).get("result") or 0)

    def contacts_by_id(self, ids: list[str]) -> list[dict]:
        if not ids:
            return []
        params = {"select": ["ID", "NAME", "LAST_NAME", "PHONE"], "filter": {"@ID": ids}}
        return [item for page in self._pages("crm.contact.list", params) for item in page]

    def companies_by_id(self, ids: list[str]) -> list[dict]:
        if not ids:
            return []
        params = {"select": ["ID", "TITLE", "PHONE"], "filter": {"@ID": ids}}
        return [item for page in self._pages("crm.company.list", params) for item in page]

    def statuses(self) -> list[dict]:
        """Every reference list at once (sources, the stages of every category …)."""
        return [item for page in self._pages("crm.status.list", {}) for item in page]

    def currencies(self) -> list[dict]:
        return self.call("crm.currency.list", {}).get("result", [])

    def deal_fields(self) -> dict[str, dict]:
        return self.call("crm.deal.fields", {}).get("result", {})

    def calls_since(self, *, since: str | None) -> Iterator[list[dict]]:
        """voximplant.statistic.get names its parameters in capitals and sorts by one field."""
        return self._changed_since(
            "voximplant.statistic.get", field="CALL_START_DATE", since=since, params={},
            names=("FILTER", "SORT"), fast=False,
        )  # fmt: skip

    def users(self) -> list[dict]:
        return [user for page in self._pages("user.get", {}) for user in page]

    def categories(self) -> list[dict]:
        """The deal pipelines ("directions"), the default one (id 0) among them."""
        found, start = [], 0
        while True:
            body = self.call("crm.category.list", {"entityTypeId": 2, "start": start})
            found += body.get("result", {}).get("categories", [])
            if "next" not in body:
                return found
            start = body["next"]

    def stages(self, category_id: str) -> list[dict]:
        """One pipeline's stages: DEAL_STAGE for the default one, DEAL_STAGE_<id> else."""
        entity = "DEAL_STAGE" if str(category_id) == "0" else f"DEAL_STAGE_{category_id}"
        params = {"order": {"SORT": "ASC"}, "filter": {"ENTITY_ID": entity}}
        return [stage for page in self._pages("crm.status.list", params) for stage in page]

    def stage_history(
        self, *, after_id: int | None = None, deal_ids: list[str] | None = None
    ) -> Iterator[list[dict]]:
        """Deals' stage history records by id, oldest first."""
        where: dict[str, Any] = {}
        if after_id is not None:
            where[">ID"] = after_id
        if deal_ids:
            where["@OWNER_ID"] = deal_ids
        params = {
            "entityTypeId": 2,
            "order": {"ID": "ASC"},
            "filter": where,
            "select": HISTORY_FIELDS,
        }
        start = 0
        while True:
            body = self.call("crm.stagehistory.list", {**params, "start": start})
            items = body.get("result", {}).get("items", [])
            if items:
                yield items
            if "next" not in body:
                return
            start = body["next"]


def contact_phone(contact: dict) -> str:
    phones = contact.get("PHONE") or []
    return str(phones[0].get("VALUE", "")) if phones else ""


def contact_name(contact: dict) -> str:
    return " ".join(part for part in (contact.get("NAME"), contact.get("LAST_NAME")) if part)


# --- Payloads --------------------------------------------------------------------------------

CLOSING = {"S": PipelineStage.Kind.WON, "F": PipelineStage.Kind.LOST}
# CALL_TYPE: 1 outgoing, 2 incoming, 3 incoming redirected, 4 callback.
DIRECTIONS = {
    "1": Call.Direction.OUTGOING,
    "2": Call.Direction.INCOMING,
    "3": Call.Direction.INCOMING,
    "4": Call.Direction.OUTGOING,
}


def _closing(deal: dict) -> str | None:
    semantic = deal.get("STAGE_SEMANTIC_ID")
    if semantic in CLOSING:
        return CLOSING[semantic]
    stage = str(deal.get("STAGE_ID", "")).rpartition(":")[2]
    return {"WON": PipelineStage.Kind.WON, "LOSE": PipelineStage.Kind.LOST}.get(stage)


def deal_data(lookup: Lookup, deal: dict, contacts: dict[str, dict]) -> DealData:
    client = _deal_client(lookup, deal, contacts)
    closing = _closing(deal)
    reference = lookup.reference
    created_at = iso(deal.get("DATE_CREATE"))
    return DealData(
        external_id=str(deal["ID"]),
        stage=lookup.stage(deal["STAGE_ID"], closing=closing, pipeline=deal.get("CATEGORY_ID")),
        created_at=created_at,  # type: ignore[arg-type]
        moved_at=iso(deal.get("DATE_MODIFY")),
        closed_at=_closed_at(deal, created_at) if closing else None,
        title=deal.get("TITLE") or "",
        manager=lookup.manager(deal.get("ASSIGNED_BY_ID")),
        crm_user_id=str(deal.get("ASSIGNED_BY_ID") or ""),
        client=client,
        channel=(reference.name("sources", deal.get("SOURCE_ID")) or deal.get("SOURCE_ID") or "")[
            :100
        ],
        amount=deal_amount(reference, deal),
        # Bitrix24 has no loss reasons of their own: a category's failure stages are them.
        loss_reason=reference.name("stages", deal.get("STAGE_ID"))[:255]
        if closing == PipelineStage.Kind.LOST
        else "",
        is_repeat=deal.get("IS_RETURN_CUSTOMER") == "Y",
    )


# A lead's STATUS_SEMANTIC_ID: P in the works, S converted (STATUS_ID CONVERTED), F junk.
LEAD_STATUS = {"P": Lead.Status.OPEN, "S": Lead.Status.CONVERTED, "F": Lead.Status.JUNK}


def lead_data(lookup: Lookup, lead: dict) -> LeadData:
    status_id = str(lead.get("STATUS_ID") or "")
    status = LEAD_STATUS.get(str(lead.get("STATUS_SEMANTIC_ID") or "")) or {
        "CONVERTED": Lead.Status.CONVERTED, "JUNK": Lead.Status.JUNK,
    }.get(status_id, Lead.Status.OPEN)  # fmt: skip
    created_at = iso(lead.get("DATE_CREATE"))
    if created_at is None:
        raise Skip(_("у лида нет даты создания"))
    source = lead.get("SOURCE_ID")
    return LeadData(
        external_id=str(lead["ID"]),
        created_at=created_at,
        status=status,
        status_id=status_id,
        title=lead.get("TITLE") or "",
        manager=lookup.manager(lead.get("ASSIGNED_BY_ID")),
        crm_user_id=str(lead.get("ASSIGNED_BY_ID") or ""),
        channel=lookup.reference.name("sources", source) or str(source or ""),
        closed_at=iso(lead.get("DATE_CLOSED")) if status != Lead.Status.OPEN else None,
    )


def _closed_at(deal: dict, created_at: datetime.datetime | None) -> datetime.datetime | None:
    """CLOSEDATE, the day the deal closed (a date: midnight), not when we first saw it
    closed; the stage history gives the moment (crm_sync.history). Not before creation."""
    closed = iso(deal.get("CLOSEDATE"))
    if closed is None:
        return None
    return max(closed, created_at) if created_at else closed


def history_event(item: dict) -> StageEvent:
    """A crm.stagehistory.list record: creation (TYPE_ID 1) or a move (2, 3; 5: a move to
    another pipeline)."""
    return StageEvent(
        deal_id=str(item["OWNER_ID"]),
        pipeline_id=str(item.get("CATEGORY_ID") or "0"),
        status_id=str(item["STAGE_ID"]),
        at=iso(item["CREATED_TIME"]),  # type: ignore[arg-type]
        kind=CLOSING.get(str(item.get("STAGE_SEMANTIC_ID") or "")),
        cursor=int(item["ID"]),
    )


def company_key(company_id: Any) -> str:
    """A company's key among a page's contacts, and its client's external id (contacts and
    companies are numbered apart)."""
    return f"company:{company_id}"


def _deal_client(lookup: Lookup, deal: dict, contacts: dict[str, dict]) -> Client | None:
    """A B2B client is the deal's company; without one (COMPANY_ID 0), its contact."""
    if str(deal.get("COMPANY_ID") or "0") != "0":
        key = company_key(deal["COMPANY_ID"])
        company = contacts.get(key, {})
        return lookup.client(
            external_id=key, name=company.get("TITLE") or "", phone=contact_phone(company)
        )
    if str(deal.get("CONTACT_ID") or "0") != "0":
        contact = contacts.get(str(deal["CONTACT_ID"]), {})
        return lookup.client(
            external_id=deal["CONTACT_ID"],
            name=contact_name(contact),
            phone=contact_phone(contact),
        )
    return None


def deal_amount(reference: Reference, deal: dict) -> Decimal:
    """OPPORTUNITY in CURRENCY_ID, or the field the admin chose: a money field carries its
    own currency ("1500|USD"), a number field the deal's."""
    if not reference.amount_field:
        return reference.money(deal.get("OPPORTUNITY"), deal.get("CURRENCY_ID"))
    value, currency = split_money(deal.get(reference.amount_field))
    return reference.money(value, currency or deal.get("CURRENCY_ID"))


def call_data(lookup: Lookup, call: dict) -> CallData:
    direction = DIRECTIONS.get(str(call.get("CALL_TYPE")))
    if direction is None:
        raise Skip(_("неизвестный тип звонка %(type)s") % {"type": call.get("CALL_TYPE")})
    phone = str(call.get("PHONE_NUMBER") or "")
    client_id = call.get("CRM_ENTITY_ID") if call.get("CRM_ENTITY_TYPE") == "CONTACT" else ""
    duration = int(call.get("CALL_DURATION") or 0)
    crm_user = call.get("PORTAL_USER_ID") or call.get("ACCOUNT_USER_ID")
    return CallData(
        external_id=str(call["CALL_ID"]),
        direction=direction,
        started_at=iso(call["CALL_START_DATE"]),  # type: ignore[arg-type]
        duration=duration,
        answered=str(call.get("CALL_FAILED_CODE")) == "200" and duration > 0,
        manager=lookup.manager(crm_user),
        crm_user_id=str(crm_user or ""),
        client=lookup.client(external_id=client_id, phone=phone),
        phone=phone,
    )


# --- The vendor ------------------------------------------------------------------------------


class Bitrix24:
    kind = CRMConnection.Vendor.BITRIX24
    source = Source.BITRIX24

    def connect(self, *, base_url: str, token: str, **http: Any) -> Bitrix24Client:
        return Bitrix24Client(base_url=base_url, token=token, **http)

    def users(self, client: Bitrix24Client) -> dict[str, str]:
        return {str(u["ID"]): u.get("EMAIL") or "" for u in client.users()}

    def user_list(self, client: Bitrix24Client) -> list[CRMUser]:
        return [
            CRMUser(
                id=str(u["ID"]),
                name=" ".join(part for part in (u.get("NAME"), u.get("LAST_NAME")) if part),
                email=u.get("EMAIL") or "",
            )
            for u in client.users()
        ]

    def pipelines(self, client: Bitrix24Client) -> list[CRMPipeline]:
        found = []
        for category in client.categories():
            statuses = [
                CRMStatus(
                    id=str(stage["STATUS_ID"]),
                    name=stage.get("NAME") or "",
                    kind=CLOSING.get(str(stage.get("SEMANTICS") or ""), PipelineStage.Kind.OPEN),
                )
                for stage in client.stages(str(category["id"]))
            ]
            found.append(CRMPipeline(
                id=str(category["id"]), name=category.get("name") or "", statuses=statuses,
                is_main=category.get("isDefault") == "Y",
            ))  # fmt: skip
        return found

    def stage_history(
        self, client: Bitrix24Client, *, since: Any = None, deal_ids: list[str] | None = None
    ) -> Iterator[list[StageEvent]]:
        for page in client.stage_history(after_id=since, deal_ids=deal_ids):
            yield [history_event(item) for item in page]

    def streams(
        self, client: Bitrix24Client, *, pipelines: list[str] | None = None
    ) -> list[Stream]:
        def deal_contacts(deals: list[dict]) -> dict[str, dict]:
            ids = {str(deal["CONTACT_ID"]) for deal in deals if deal.get("CONTACT_ID")}
            found = {str(c["ID"]): c for c in client.contacts_by_id(sorted(ids))}
            companies = {
                str(deal["COMPANY_ID"])
                for deal in deals
                if str(deal.get("COMPANY_ID") or "0") != "0"
            }
            for company in client.companies_by_id(sorted(companies)):
                found[company_key(company["ID"])] = company
            return found

        def calls_since(since: str | None) -> Iterable[list[dict]]:
            start = iso(since)
            return client.calls_since(since=(start - CALLS_OVERLAP).isoformat() if start else None)

        return [
            Stream(
                key="deals", is_deal=True,
                pages=lambda since: client.deals_updated(since=since, pipelines=pipelines),
                modified=lambda deal: deal["DATE_MODIFY"],
                record_id=lambda deal: str(deal["ID"]),
                contacts=deal_contacts, order=iso,
            ),
            Stream(
                key="calls", is_deal=False,
                pages=calls_since,
                modified=lambda call: call["CALL_START_DATE"],
                record_id=lambda call: str(call["CALL_ID"]),
                order=iso,
            ),
        ]  # fmt: skip

    def fetch_deals(
        self, client: Bitrix24Client, ids: list[str], *, pipelines: list[str] | None = None
    ) -> list[dict]:
        return client.deals_by_id(ids, pipelines=pipelines)

    def keeps_leads(self, client: Bitrix24Client) -> bool:
        """A portal in «Простая CRM» has no leads (a new request is a deal at once)."""
        try:
            return client.crm_mode() != SIMPLE_MODE
        except (CRMTokenRefused, CRMUnavailable):
            raise
        except CRMError:  # a portal older than the modes (2019): leads were all there was
            return True

    def lead_stream(self, client: Bitrix24Client) -> Stream:
        return Stream(
            key="leads", is_deal=False, is_lead=True,
            pages=lambda since: client.leads_updated(since=since),
            modified=lambda lead: lead["DATE_MODIFY"],
            record_id=lambda lead: str(lead["ID"]),
            order=iso,
        )  # fmt: skip

    def fetch_leads(self, client: Bitrix24Client, ids: list[str]) -> list[dict]:
        return client.leads_by_id(ids)

    def lead_from_payload(self, lookup: Lookup, payload: dict) -> LeadData:
        return lead_data(lookup, payload)

    def catalog(self, client: Bitrix24Client) -> dict[str, Any]:
        """Source names, deal stage names (of every category) and currency rates."""
        sources, stages = {}, {}
        for status in client.statuses():
            entity = str(status.get("ENTITY_ID", ""))
            if entity == "SOURCE":
                sources[str(status["STATUS_ID"])] = str(status.get("NAME") or "")
            elif entity == "DEAL_STAGE" or entity.startswith("DEAL_STAGE_"):
                stages[str(status["STATUS_ID"])] = str(status.get("NAME") or "")
        rates = {}
        for currency in client.currencies():
            try:
                rate = Decimal(str(currency["AMOUNT"])) / Decimal(str(currency["AMOUNT_CNT"]))
            except (KeyError, InvalidOperation, ZeroDivisionError):
                continue
            rates[str(currency["CURRENCY"]).upper()] = str(rate)
        return {"sources": sources, "stages": stages, "rates": rates}

    def amount_fields(self, client: Bitrix24Client) -> list[tuple[str, str]]:
        return [
            (code, str(field.get("formLabel") or field.get("listLabel") or field.get("title")))
            for code, field in client.deal_fields().items()
            if code.startswith("UF_") and field.get("type") in AMOUNT_FIELD_TYPES
        ]

    def deal_from_payload(
        self, lookup: Lookup, payload: dict, contacts: dict[str, dict]
    ) -> DealData:
        return deal_data(lookup, payload, contacts)

    def call_from_payload(self, lookup: Lookup, payload: dict) -> CallData:
        return call_data(lookup, payload)

    def verify_webhook(self, *, connection: CRMConnection, payload: dict, secret: str) -> bool:
        """Bitrix24 sends its outbound webhook's application token with every event (the
        URL carries no secret)."""
        auth = payload.get("auth", {})
        token = str(auth.get("application_token", ""))
        domain = str(auth.get("domain", "")).lower()
        host = urlsplit(connection.base_url).netloc.lower()
        return (
            bool(token)
            and secrets.compare_digest(
                token.encode(), crypto.decrypt(connection.event_token).encode()
            )
            and (not domain or domain == host)
        )

    def webhook(self, payload: dict) -> Inbound:
        """A finished call is stored at once; a deal or lead event names the one to fetch
        (or deleted)."""
        event = str(payload.get("event", "")).upper()
        data = payload.get("data", {})
        if event in ("ONCRMDEALADD", "ONCRMDEALUPDATE"):
            deal_id = str(data.get("FIELDS", {}).get("ID", ""))
            return Inbound(deal_ids=[deal_id] if deal_id.isdigit() else [])
        if event == "ONCRMDEALDELETE":
            deal_id = str(data.get("FIELDS", {}).get("ID", ""))
            return Inbound(deleted_deal_ids=[deal_id] if deal_id.isdigit() else [])
        lead_id = str(data.get("FIELDS", {}).get("ID", ""))
        if event in ("ONCRMLEADADD", "ONCRMLEADUPDATE"):
            return Inbound(lead_ids=[lead_id] if lead_id.isdigit() else [])
        if event == "ONCRMLEADDELETE":
            return Inbound(deleted_lead_ids=[lead_id] if lead_id.isdigit() else [])
        if event == "ONVOXIMPLANTCALLEND":
            return Inbound(records=[Record(
                is_deal=False, record_id=data.get("CALL_ID"),
                data=lambda lookup: call_data(lookup, data),
            )])  # fmt: skip
        return Inbound()


VENDOR = Bitrix24()
