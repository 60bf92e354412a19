"""amoCRM / Kommo: REST API v4 (long-lived token, `Authorization: Bearer`), its leads and
call notes as deals and calls, and its webhooks (form-encoded leads and notes).

Closing statuses need no mapping: 142 (won) and 143 (lost) land on the company's first won
or lost stage.
"""

import json
import secrets
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from crm_sync.models import Call, Client, CRMConnection, PipelineStage, Source
from crm_sync.services import CallData, DealData
from crm_sync.vendors.base import (
    CRMPipeline,
    CRMStatus,
    CRMUser,
    Inbound,
    Lookup,
    Record,
    StageEvent,
    Stream,
    moment,
)
from crm_sync.vendors.http import CRMError, CRMHttp, CRMTokenRefused
from crm_sync.vendors.reference import Reference

PAGE_SIZE = 250
EVENTS_PAGE_SIZE = 100  # /api/v4/events gives at most 100 a page
CALL_NOTE_TYPES = ("call_in", "call_out")
# The pull's cursor key of each entity whose call notes are read ("calls": the contacts',
# the key it had before leads and companies were read too).
NOTE_STREAMS = {"calls": "contacts", "lead_calls": "leads", "company_calls": "companies"}
# The two system statuses every amoCRM pipeline ends in.
WON_STATUS, LOST_STATUS = 142, 143
# What a lead page brings besides the lead: its contacts (and companies), the loss reason's
# name and the lead's source (amocrm.ru/developers/content/crm_platform/leads-api, «with»).
LEAD_WITH = "contacts,loss_reason,source_id,source"
# Custom field types that can hold a deal's amount (leads/custom_fields `type`).
AMOUNT_FIELD_TYPES = ("monetary", "numeric", "price")


# --- HTTP ---------------------------------------------------------------------------------


def _in_pipelines(pipelines: list[str] | None) -> list[tuple[str, Any]]:
    """Only the leads of these pipelines (None: of every one): `filter[pipeline_id][]`, a
    multiple filter, «int|array» (amocrm.ru/developers/content/crm_platform/filters-api;
    kommo.com/developers/content/api_v4/api-filtration)."""
    return [("filter[pipeline_id][]", pipeline) for pipeline in pipelines or ()]


class AmoCRMClient:
    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        requests_per_second: float = 7,
        page_size: int = PAGE_SIZE,
        **http: Any,
    ) -> None:
        self.page_size = page_size
        self.http = CRMHttp(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            requests_per_second=requests_per_second,
            **http,
        )

    def close(self) -> None:
        self.http.close()

    def _get(self, path: str, params: list[tuple[str, Any]]) -> dict:
        response = self.http.request("GET", path, params=params)
        if response.status_code == 204:  # amoCRM's "nothing matches"
            return {}
        if response.status_code == 401:
            raise CRMTokenRefused(
                _(
                    "amoCRM не принимает ключ доступа (HTTP 401): он истёк или отозван. "
                    "Подключите amoCRM заново или вставьте новый ключ."
                )
            )
        if response.status_code == 403:
            # amoCRM blocks the IP address of a client that keeps exceeding its limits, and
            # answers 403 to a user without the rights (amocrm.ru/developers/content/api/
            # recommendations, «Ограничения и рекомендации»).
            raise CRMError(
                _(
                    "amoCRM отказала в доступе (HTTP 403): либо IP-адрес сервера заблокирован "
                    "за превышение лимита запросов, либо у пользователя ключа нет прав. "
                    "Ключ при этом может быть верным; обратитесь в поддержку amoCRM."
                )
            )
        if response.status_code != 200:
            raise CRMError(
                _("amoCRM ответила HTTP %(status)s на %(path)s.")
                % {"status": response.status_code, "path": path}
            )
        return response.json()

    def _pages(self, path: str, key: str, params: list[tuple[str, Any]]) -> Iterator[list[dict]]:
        """Follows `_links.next` by page number: its href names the real portal, not ours.

        Only for a set that cannot move while it is read (records by id)."""
        page = 1
        while True:
            body = self._get(path, [*params, ("limit", self.page_size), ("page", page)])
            items = body.get("_embedded", {}).get(key, [])
            if items:
                yield items
            if not items or "next" not in body.get("_links", {}):
                return
            page += 1

    def _updated_since(
        self, path: str, key: str, params: list[tuple[str, Any]], since: int | None
    ) -> Iterator[list[dict]]:
        """Records changed at or after `since`, oldest change first, by keyset: each request
        starts at the last change time read (`filter[updated_at][from]`), page 1, and drops
        the records already read at that very second.

        Page numbers over `order[updated_at]` would skip: a record of a read page that
        changes moves to the end, and every later record moves one place up, the first of
        the next page onto the page already read. Here a record that changes is read again
        later, and no other moves. Only when a whole page shares one second (a mass edit)
        does it page within that second, by number, ordered by id."""
        page, group, seen = 1, False, set[int]()
        while True:
            query = [*params, ("limit", self.page_size)]
            if group:
                query += [("page", page), ("order[id]", "asc"), ("filter[updated_at][from]", since),
                          ("filter[updated_at][to]", since)]  # fmt: skip
            else:
                query += [("page", 1), ("order[updated_at]", "asc")]
                if since is not None:
                    query.append(("filter[updated_at][from]", since))
            body = self._get(path, query)
            items = body.get("_embedded", {}).get(key, [])
            fresh = [i for i in items if not (i["updated_at"] == since and i["id"] in seen)]
            if fresh:
                yield fresh
            more = bool(items) and "next" in body.get("_links", {})
            if group:
                seen |= {i["id"] for i in items}
                if more:
                    page += 1
                else:  # the second is read through: on past it
                    group, since, seen = False, int(since) + 1, set()  # type: ignore[arg-type]
                continue
            if not more:
                return
            last = max(int(i["updated_at"]) for i in items)
            if since is None or last > since:
                since, seen = last, {i["id"] for i in items if i["updated_at"] == last}
            else:
                group, page = True, 1
                seen |= {i["id"] for i in items}

    def leads_updated(
        self, *, since: int | None, pipelines: list[str] | None = None
    ) -> Iterator[list[dict]]:
        params = [("with", LEAD_WITH), *_in_pipelines(pipelines)]
        return self._updated_since("/api/v4/leads", "leads", params, since)

    def leads_deleted(self, *, since: int | None) -> Iterator[list[dict]]:
        """Leads deleted and still restorable: `id`, `updated_at` and `is_deleted` only."""
        return self._updated_since("/api/v4/leads", "leads", [("with", "only_deleted")], since)

    def leads_by_id(self, ids: list[str], *, pipelines: list[str] | None = None) -> list[dict]:
        params: list[tuple[str, Any]] = [("with", LEAD_WITH), *_in_pipelines(pipelines)]
        params += [("filter[id][]", lead_id) for lead_id in ids]
        return [lead for page in self._pages("/api/v4/leads", "leads", params) for lead in page]

    def contacts_by_id(self, ids: list[str]) -> list[dict]:
        if not ids:
            return []
        params = [("filter[id][]", contact_id) for contact_id in ids]
        pages = self._pages("/api/v4/contacts", "contacts", params)
        return [contact for page in pages for contact in page]

    def companies_by_id(self, ids: list[str]) -> list[dict]:
        if not ids:
            return []
        params = [("filter[id][]", company_id) for company_id in ids]
        pages = self._pages("/api/v4/companies", "companies", params)
        return [company for page in pages for company in page]

    def account(self) -> dict:
        return self._get("/api/v4/account", [])

    def lead_fields(self) -> list[dict]:
        pages = self._pages("/api/v4/leads/custom_fields", "custom_fields", [])
        return [item for page in pages for item in page]

    def call_notes_updated(
        self, *, since: int | None, entity: str = "contacts"
    ) -> Iterator[list[dict]]:
        """Call notes on contacts, leads or companies: telephony integrations put them on
        whichever the call was matched to. Each note is tagged with its entity."""
        params: list[tuple[str, Any]] = [("filter[note_type][]", kind) for kind in CALL_NOTE_TYPES]
        for page in self._updated_since(f"/api/v4/{entity}/notes", "notes", params, since):
            yield [{**note, "_entity": entity} for note in page]

    def users(self) -> list[dict]:
        return [user for page in self._pages("/api/v4/users", "users", []) for user in page]

    def pipelines(self) -> list[dict]:
        """Every lead pipeline with its statuses embedded (one page: at most 50 pipelines)."""
        return self._get("/api/v4/leads/pipelines", []).get("_embedded", {}).get("pipelines", [])

    def status_events(
        self, *, since: int | None = None, lead_ids: list[str] | None = None
    ) -> Iterator[list[dict]]:
        """Leads' status changes from the events list, page by page."""
        params: list[tuple[str, Any]] = [("filter[type]", "lead_status_changed")]
        if since is not None:
            params.append(("filter[created_at][from]", since))
        if lead_ids:
            params.append(("filter[entity][]", "lead"))
            params += [("filter[entity_id][]", lead_id) for lead_id in lead_ids]
        page = 1
        while True:
            body = self._get(
                "/api/v4/events", [*params, ("limit", EVENTS_PAGE_SIZE), ("page", page)]
            )
            items = body.get("_embedded", {}).get("events", [])
            if items:
                yield items
            if not items or "next" not in body.get("_links", {}):
                return
            page += 1


def contact_phone(contact: dict) -> str:
    for field in contact.get("custom_fields_values") or []:
        if field.get("field_code") == "PHONE" and field.get("values"):
            return str(field["values"][0].get("value", ""))
    return ""


# --- Payloads --------------------------------------------------------------------------------

CLOSING = {WON_STATUS: PipelineStage.Kind.WON, LOST_STATUS: PipelineStage.Kind.LOST}
# Call notes in webhooks carry the old numeric note types.
WEBHOOK_CALL_TYPES = {"10": Call.Direction.INCOMING, "11": Call.Direction.OUTGOING}
API_CALL_TYPES = {"call_in": Call.Direction.INCOMING, "call_out": Call.Direction.OUTGOING}
ANSWERED, NOT_ANSWERED = {4}, {5, 6, 7}


def _answered(call_status: Any, duration: int) -> bool:
    status = int(call_status) if str(call_status or "").isdigit() else None
    if status in ANSWERED or status in NOT_ANSWERED:
        return status in ANSWERED
    return duration > 0


def lead_data(lookup: Lookup, lead: dict, contacts: dict[str, dict]) -> DealData:
    """A lead as API v4 or a webhook gives it (webhooks: strings, date_create/last_modified)."""
    status_id = int(lead["status_id"])
    client = _lead_client(lookup, lead, contacts)
    loss = lead.get("_embedded", {}).get("loss_reason") or []
    return DealData(
        external_id=str(lead["id"]),
        stage=lookup.stage(
            str(status_id), closing=CLOSING.get(status_id), pipeline=lead.get("pipeline_id")
        ),
        created_at=moment(lead.get("created_at") or lead.get("date_create")),  # type: ignore[arg-type]
        moved_at=moment(lead.get("updated_at") or lead.get("last_modified")),
        closed_at=moment(lead.get("closed_at")),
        title=lead.get("name") or "",
        manager=lookup.manager(lead.get("responsible_user_id")),
        crm_user_id=str(lead.get("responsible_user_id") or ""),
        client=client,
        channel=lead_channel(lead),
        amount=lead_amount(lookup.reference, lead),
        loss_reason=loss[0].get("name", "") if loss else "",
    )


def company_key(company_id: Any) -> str:
    """A company's key among a page's contacts, and its client's external id: amoCRM's
    contacts and companies are numbered apart, so a bare id could name either."""
    return f"company:{company_id}"


def _lead_client(lookup: Lookup, lead: dict, contacts: dict[str, dict]) -> Client | None:
    """A B2B client is the lead's company; without one, its main contact."""
    embedded = lead.get("_embedded", {})
    companies = embedded.get("companies") or []
    if companies:
        key = company_key(companies[0]["id"])
        company = contacts.get(key, {})
        return lookup.client(
            external_id=key, name=company.get("name", ""), phone=contact_phone(company)
        )
    main = next((c for c in embedded.get("contacts", []) if c.get("is_main")), None)
    if main is None:
        return None
    contact = contacts.get(str(main["id"]), {})
    return lookup.client(
        external_id=main["id"], name=contact.get("name", ""), phone=contact_phone(contact)
    )


def lead_channel(lead: dict) -> str:
    """The lead's source by name (`with=source`), else its utm_source tracking field."""
    source = lead.get("source") or lead.get("_embedded", {}).get("source") or {}
    if source.get("name"):
        return str(source["name"])[:100]
    for field in lead.get("custom_fields_values") or []:
        if field.get("field_code") == "UTM_SOURCE" and field.get("values"):
            return str(field["values"][0].get("value", ""))[:100]
    return ""


def lead_amount(reference: Reference, lead: dict) -> Decimal:
    """`price`, or the money field the admin chose, in the account's currency (amoCRM keeps
    one per account)."""
    value: Any = lead.get("price")
    if reference.amount_field:
        value = next(
            (
                (field.get("values") or [{}])[0].get("value")
                for field in lead.get("custom_fields_values") or []
                if str(field.get("field_id")) == reference.amount_field
            ),
            None,
        )
    return reference.money(value, None)


def call_data(lookup: Lookup, note: dict, direction: str, entity: str = "contacts") -> CallData:
    """A call note of a contact, lead or company. Notes of leads and companies are kept
    apart from contacts' by a prefix (each entity numbers its notes); the PBX's call id
    (`uniq`) makes a call noted twice, or also pushed by the PBX, one call."""
    params = note.get("params") or {}
    duration = int(params.get("duration") or 0)
    phone = str(params.get("phone") or "")
    crm_user = note.get("responsible_user_id") or note.get("created_by")
    on_contact = entity == "contacts"
    return CallData(
        external_id=str(note["id"]) if on_contact else f"{entity}:{note['id']}",
        direction=direction,
        started_at=moment(note["created_at"]),  # type: ignore[arg-type]
        duration=duration,
        answered=_answered(params.get("call_status"), duration),
        manager=lookup.manager(crm_user),
        crm_user_id=str(crm_user or ""),
        client=lookup.client(external_id=note.get("entity_id") if on_contact else "", phone=phone),
        phone=phone,
        pbx_call_id=str(params.get("uniq") or "")[:128],
        recording_url=_link(params.get("link")),
    )


def status_event(event: dict) -> StageEvent | None:
    """A `lead_status_changed` event: the lead's status after, and before, the move."""
    after = (event.get("value_after") or [{}])[0].get("lead_status")
    if not after:
        return None
    before = (event.get("value_before") or [{}])[0].get("lead_status")
    status_id = int(after["id"])
    return StageEvent(
        deal_id=str(event["entity_id"]),
        pipeline_id=str(after["pipeline_id"]),
        status_id=str(status_id),
        at=moment(event["created_at"]),  # type: ignore[arg-type]
        kind=CLOSING.get(status_id),
        before=(str(before["pipeline_id"]), str(before["id"])) if before else None,
        cursor=int(event["created_at"]),
    )


def _link(value: Any) -> str:
    link = str(value or "")
    return link if link.startswith(("https://", "http://")) and len(link) <= 1000 else ""


def _webhook_note(note: dict) -> dict:
    """A webhook's call note keeps its call in `text`, as JSON with upper-case keys."""
    text = json.loads(note.get("text") or "{}")
    return {
        "id": note["id"],
        "created_at": note.get("date_create") or note.get("created_at"),
        "entity_id": note.get("element_id"),
        "responsible_user_id": note.get("main_user_id"),
        "created_by": note.get("created_by"),
        "params": {
            "duration": text.get("DURATION"),
            "phone": text.get("PHONE"),
            "call_status": text.get("call_status"),
            "uniq": text.get("UNIQ"),
            "link": text.get("LINK"),
        },
    }


# --- The vendor ------------------------------------------------------------------------------


class AmoCRM:
    kind = CRMConnection.Vendor.AMOCRM
    source = Source.AMOCRM

    def connect(self, *, base_url: str, token: str, **http: Any) -> AmoCRMClient:
        return AmoCRMClient(base_url=base_url, token=token, **http)

    def users(self, client: AmoCRMClient) -> dict[str, str]:
        return {str(u["id"]): u.get("email") or "" for u in client.users()}

    def user_list(self, client: AmoCRMClient) -> list[CRMUser]:
        return [
            CRMUser(id=str(u["id"]), name=u.get("name") or "", email=u.get("email") or "")
            for u in client.users()
        ]

    def pipelines(self, client: AmoCRMClient) -> list[CRMPipeline]:
        return [
            CRMPipeline(
                id=str(pipeline["id"]),
                name=pipeline.get("name") or "",
                is_main=bool(pipeline.get("is_main")),
                statuses=[
                    CRMStatus(
                        id=str(status["id"]),
                        name=status.get("name") or "",
                        kind=CLOSING.get(int(status["id"]), PipelineStage.Kind.OPEN),
                    )
                    for status in sorted(
                        pipeline.get("_embedded", {}).get("statuses", []),
                        key=lambda status: (status.get("sort", 0), status["id"]),
                    )
                ],
            )
            for pipeline in client.pipelines()
            if not pipeline.get("is_archive")
        ]

    def stage_history(
        self, client: AmoCRMClient, *, since: Any = None, deal_ids: list[str] | None = None
    ) -> Iterator[list[StageEvent]]:
        for page in client.status_events(since=since, lead_ids=deal_ids):
            events = [status_event(event) for event in page]
            yield [event for event in events if event is not None]

    def streams(self, client: AmoCRMClient, *, pipelines: list[str] | None = None) -> list[Stream]:
        def lead_contacts(leads: list[dict]) -> dict[str, dict]:
            ids = {
                str(c["id"])
                for lead in leads
                for c in lead.get("_embedded", {}).get("contacts", [])
                if c.get("is_main")
            }
            found = {str(c["id"]): c for c in client.contacts_by_id(sorted(ids))}
            companies = {
                str(c["id"])
                for lead in leads
                for c in lead.get("_embedded", {}).get("companies", [])
            }
            for company in client.companies_by_id(sorted(companies)):
                found[company_key(company["id"])] = company
            return found

        return [
            Stream(
                key="deals", is_deal=True,
                pages=lambda since: client.leads_updated(since=since, pipelines=pipelines),
                modified=lambda lead: int(lead["updated_at"]),
                record_id=lambda lead: str(lead["id"]),
                contacts=lead_contacts,
            ),
            Stream(
                key="deleted_deals", is_deal=False, deletions=True,
                pages=lambda since: client.leads_deleted(since=since),
                modified=lambda lead: int(lead["updated_at"]),
                record_id=lambda lead: str(lead["id"]),
            ),
            *(
                Stream(
                    key=key, is_deal=False,
                    pages=lambda since, e=entity: client.call_notes_updated(since=since, entity=e),
                    modified=lambda note: int(note["updated_at"]),
                    record_id=lambda note: str(note["id"]),
                )
                for key, entity in NOTE_STREAMS.items()
            ),
        ]  # fmt: skip

    def fetch_deals(
        self, client: AmoCRMClient, ids: list[str], *, pipelines: list[str] | None = None
    ) -> list[dict]:
        return client.leads_by_id(ids, pipelines=pipelines)

    def catalog(self, client: AmoCRMClient) -> dict[str, Any]:
        """The account's currency: amoCRM gives no rates, so it converts to itself only."""
        currency = str(client.account().get("currency") or "").upper()
        return {"currency": currency, "rates": {currency: "1"}} if currency else {}

    def amount_fields(self, client: AmoCRMClient) -> list[tuple[str, str]]:
        return [
            (str(field["id"]), str(field.get("name") or field["id"]))
            for field in client.lead_fields()
            if field.get("type") in AMOUNT_FIELD_TYPES
        ]

    def deal_from_payload(
        self, lookup: Lookup, payload: dict, contacts: dict[str, dict]
    ) -> DealData:
        return lead_data(lookup, payload, contacts)

    def call_from_payload(self, lookup: Lookup, payload: dict) -> CallData:
        """A call note as API v4 lists it (`note_type` call_in or call_out)."""
        direction = API_CALL_TYPES[payload["note_type"]]
        return call_data(lookup, payload, direction, payload.get("_entity", "contacts"))

    def verify_webhook(self, *, connection: CRMConnection, payload: dict, secret: str) -> bool:
        """amoCRM signs nothing: the secret in our URL, and the account it names, must match."""
        subdomain = str(payload.get("account", {}).get("subdomain", ""))
        host = urlsplit(connection.base_url).hostname or ""
        return (
            secrets.compare_digest(secret.encode(), connection.webhook_secret.encode())
            and bool(subdomain)
            and host.split(".")[0] == subdomain.lower()
        )

    def webhook(self, payload: dict) -> Inbound:
        """Leads added, edited, moved or deleted, and call notes, as amoCRM posts them."""
        inbound = Inbound()
        leads = payload.get("leads", {})
        for event in ("add", "update", "status"):
            for lead in leads.get(event, {}).values():
                inbound.records.append(Record(
                    is_deal=True, record_id=lead.get("id"),
                    data=lambda lookup, lead=lead: lead_data(lookup, lead, {}),
                ))  # fmt: skip
                # A webhook names a lead's loss reason, source and company by id only:
                # a lost lead is fetched again with them.
                if str(lead.get("status_id")) == str(LOST_STATUS):
                    inbound.deal_ids.append(str(lead.get("id")))
        for lead in leads.get("delete", {}).values():
            if str(lead.get("id", "")).isdigit():
                inbound.deleted_deal_ids.append(str(lead["id"]))
        for entity in NOTE_STREAMS.values():
            for item in payload.get(entity, {}).get("note", {}).values():
                note = item.get("note", {})
                direction = WEBHOOK_CALL_TYPES.get(str(note.get("note_type")))
                if direction is None:
                    continue
                inbound.records.append(Record(
                    is_deal=False, record_id=note.get("id"),
                    data=lambda lookup, note=note, d=direction, e=entity: call_data(
                        lookup, _webhook_note(note), d, e
                    ),
                ))  # fmt: skip
        return inbound


VENDOR = AmoCRM()
