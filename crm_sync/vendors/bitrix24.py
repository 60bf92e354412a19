"""Bitrix24: REST through an inbound webhook (https://<portal>/rest/<user>/<secret>/
<method>.json), its deals and telephony calls as deals and calls, and its outbound
webhook's events (a deal event names only the deal's id; a call's end carries the call).

Closing stages need no mapping: the success and failure stages (STAGE_SEMANTIC_ID S / F,
or a STAGE_ID ending in WON / LOSE) land on the company's first won or lost stage.
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
from crm_sync.models import Call, Client, CRMConnection, PipelineStage, Source
from crm_sync.services import CallData, DealData
from crm_sync.vendors.base import Inbound, Lookup, Record, Skip, Stream, iso
from crm_sync.vendors.http import CRMError, CRMHttp
from crm_sync.vendors.reference import Reference, split_money

DEAL_FIELDS = [
    "ID", "TITLE", "STAGE_ID", "STAGE_SEMANTIC_ID", "CATEGORY_ID", "OPPORTUNITY",
    "ASSIGNED_BY_ID", "CONTACT_ID", "SOURCE_ID", "DATE_CREATE", "DATE_MODIFY", "CLOSED",
    "CLOSEDATE", "IS_RETURN_CUSTOMER", "COMPANY_ID", "CURRENCY_ID", "UF_*",
]  # fmt: skip
# Deal fields that can hold its amount (crm.deal.fields `type`), besides OPPORTUNITY.
AMOUNT_FIELD_TYPES = ("money", "double")
LIMITED = {"QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT"}
# Bitrix24 lists a call once it ends, by its start time: a long call can show up after
# shorter ones that began later, so the calls cursor looks back this far.
CALLS_OVERLAP = datetime.timedelta(hours=2)


# --- HTTP ---------------------------------------------------------------------------------


def _limited(response: httpx.Response) -> bool:
    try:
        return response.json().get("error") in LIMITED
    except ValueError:
        return False


class Bitrix24Client:
    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        requests_per_second: float = 2,
        **http: Any,
    ) -> None:
        self.token = token
        self.http = CRMHttp(
            base_url=base_url.rstrip("/") + "/", requests_per_second=requests_per_second, **http
        )

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, params: dict[str, Any]) -> dict:
        response = self.http.request(
            "POST", f"{self.token}/{method}.json", json=params, is_limited=_limited
        )
        try:
            body = response.json()
        except ValueError as error:
            raise CRMError(
                _("Битрикс24 ответил HTTP %(status)s на %(method)s.")
                % {"status": response.status_code, "method": method}
            ) from error
        if "error" in body:
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

    def deals_updated(self, *, since: str | None) -> Iterator[list[dict]]:
        params: dict[str, Any] = {
            "order": {"DATE_MODIFY": "ASC", "ID": "ASC"},
            "select": DEAL_FIELDS,
            "filter": {">=DATE_MODIFY": since} if since else {},
        }
        return self._pages("crm.deal.list", params)

    def deals_by_id(self, ids: list[str]) -> list[dict]:
        params = {"select": DEAL_FIELDS, "filter": {"@ID": ids}}
        return [deal for page in self._pages("crm.deal.list", params) for deal in page]

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
        params: dict[str, Any] = {
            "SORT": "CALL_START_DATE",
            "ORDER": "ASC",
            "FILTER": {">=CALL_START_DATE": since} if since else {},
        }
        return self._pages("voximplant.statistic.get", params)

    def users(self) -> list[dict]:
        return [user for page in self._pages("user.get", {}) for user in page]


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
    return DealData(
        external_id=str(deal["ID"]),
        stage=lookup.stage(deal["STAGE_ID"], closing=closing),
        created_at=iso(deal.get("DATE_CREATE")),  # type: ignore[arg-type]
        moved_at=iso(deal.get("DATE_MODIFY")),
        title=deal.get("TITLE") or "",
        manager=lookup.manager(deal.get("ASSIGNED_BY_ID")),
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
    return CallData(
        external_id=str(call["CALL_ID"]),
        direction=direction,
        started_at=iso(call["CALL_START_DATE"]),  # type: ignore[arg-type]
        duration=duration,
        answered=str(call.get("CALL_FAILED_CODE")) == "200" and duration > 0,
        manager=lookup.manager(call.get("PORTAL_USER_ID") or call.get("ACCOUNT_USER_ID")),
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

    def streams(self, client: Bitrix24Client) -> list[Stream]:
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
                pages=lambda since: client.deals_updated(since=since),
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

    def fetch_deals(self, client: Bitrix24Client, ids: list[str]) -> list[dict]:
        return client.deals_by_id(ids)

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
        """A finished call is stored at once; a deal event names the deal to fetch."""
        event = str(payload.get("event", "")).upper()
        data = payload.get("data", {})
        if event in ("ONCRMDEALADD", "ONCRMDEALUPDATE"):
            deal_id = str(data.get("FIELDS", {}).get("ID", ""))
            return Inbound(deal_ids=[deal_id] if deal_id.isdigit() else [])
        if event == "ONCRMDEALDELETE":
            deal_id = str(data.get("FIELDS", {}).get("ID", ""))
            return Inbound(deleted_deal_ids=[deal_id] if deal_id.isdigit() else [])
        if event == "ONVOXIMPLANTCALLEND":
            return Inbound(records=[Record(
                is_deal=False, record_id=data.get("CALL_ID"),
                data=lambda lookup: call_data(lookup, data),
            )])  # fmt: skip
        return Inbound()


VENDOR = Bitrix24()
