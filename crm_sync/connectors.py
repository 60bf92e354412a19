"""amoCRM/Kommo and Bitrix24: their webhooks and REST pages turned into deals and calls.

Both ways in end in `deal_upsert` / `call_upsert` keyed by the CRM's own id, so a record
seen by a webhook and again by a pull is stored once.

The pull keeps, per stream (deals, calls), a cursor in `CRMConnection.cursor`:
`{"since": <the CRM's modified time of the last stored record>, "seen": [ids at that time]}`.
It asks the CRM for records modified at or after `since`, skips the `seen` ones, and moves
the cursor only once a page is stored (one transaction per page), so a crash re-reads at most
one page and nothing is skipped. Deals whose stage is not mapped yet wait in
`cursor["retry"]` and are fetched again by id on the next pull.

Managers: the CRM's responsible user is matched to our user by e-mail. The pull refreshes
`cursor["users"]` (CRM user id → e-mail) from the CRM's user list; webhooks use that map.

Stages: `PipelineStage.external_id` holds the CRM status id (amoCRM status_id, Bitrix24
STAGE_ID). The CRMs' closing statuses need no mapping: amoCRM 142/143 and Bitrix24's
success/failure stages land on the company's first won/lost stage.
"""

import datetime
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import tenancy
from accounts.models import Company, User
from crm_sync import crypto, services
from crm_sync.clients import amocrm, bitrix24
from crm_sync.clients.base import CRMError, CRMUnavailable
from crm_sync.models import Call, Client, CRMConnection, Deal, PipelineStage, Source

MAX_ERRORS = 20
MAX_RETRY_IDS = 500
# Bitrix24 lists a call once it ends, by its start time: a long call can show up after
# shorter ones that began later, so the calls cursor looks back this far.
BITRIX_CALLS_OVERLAP = datetime.timedelta(hours=2)

CRMClient = amocrm.AmoCRMClient | bitrix24.Bitrix24Client


class Skip(Exception):
    """This record cannot be stored yet (an unmapped stage); the reason goes to last_error."""


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


# --- Shared mapping -----------------------------------------------------------------------


def _moment(timestamp: Any) -> datetime.datetime | None:
    if timestamp in (None, "", 0, "0"):
        return None
    return datetime.datetime.fromtimestamp(int(timestamp), tz=datetime.UTC)


def _iso(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    moment = datetime.datetime.fromisoformat(text)
    return moment if moment.tzinfo else timezone.make_aware(moment)


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value or 0))
    except InvalidOperation:
        return Decimal(0)


class Mapping:
    """One company's stages and users, looked up once per page or webhook."""

    def __init__(self, *, company: Company, connection: CRMConnection) -> None:
        self.company = company
        self.source = (
            Source.AMOCRM if connection.vendor == CRMConnection.Vendor.AMOCRM else Source.BITRIX24
        )
        self.stages = list(PipelineStage.objects.filter(company=company))
        emails = {str(k): v.lower() for k, v in connection.cursor.get("users", {}).items() if v}
        by_email = {
            user.email.lower(): user
            for user in User.objects.filter(company=company, is_active=True).exclude(email="")
        }
        self.users = {crm_id: by_email.get(email) for crm_id, email in emails.items()}

    def manager(self, crm_user_id: Any) -> User | None:
        return self.users.get(str(crm_user_id)) if crm_user_id else None

    def stage(self, external_id: str, *, closing: str | None = None) -> PipelineStage:
        """The mapped stage; else, for a closing status, the first won or lost stage."""
        for stage in self.stages:
            if stage.external_id and stage.external_id == str(external_id):
                return stage
        for stage in self.stages:
            if closing and stage.kind == closing:
                return stage
        raise Skip(
            _("Этап CRM «%(stage)s» не сопоставлен с этапом воронки: укажите его код в CRM.")
            % {"stage": external_id}
        )

    def deal_upsert(self, data: services.DealData) -> str:
        """Fields the CRM did not send (a webhook's few) keep what the deal already has."""
        existing = Deal.objects.filter(
            company=self.company, source=self.source, external_id=data.external_id
        ).first()
        if existing is not None:
            data.client = data.client or existing.client
            data.manager = data.manager or existing.manager
            data.channel = data.channel or existing.channel
            data.loss_reason = data.loss_reason or existing.loss_reason
            data.is_repeat = data.is_repeat or existing.is_repeat
            data.expected_payment_on = data.expected_payment_on or existing.expected_payment_on
            data.created_at = existing.created_at if data.created_at is None else data.created_at
        if data.created_at is None:
            data.created_at = data.moved_at or timezone.now()
        _deal, outcome = services.deal_upsert(company=self.company, source=self.source, data=data)
        return outcome

    def call_upsert(self, data: services.CallData) -> str:
        _call, outcome = services.call_upsert(company=self.company, source=self.source, data=data)
        return outcome

    def client(self, *, external_id: Any, name: str = "", phone: str = "") -> Client | None:
        return services.client_resolve(
            company=self.company,
            name=name,
            phone=phone,
            source=self.source,
            external_id=str(external_id or ""),
        )


def _store(result: SyncResult, label: str, record_id: Any, store: Callable[[], str]) -> bool:
    """Store one record in its own savepoint; False: skipped, the reason noted."""
    try:
        with transaction.atomic():
            result.count(store())
        return True
    except (Skip, ValidationError, ValueError, KeyError, TypeError) as error:
        message = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        result.skipped += 1
        if len(result.errors) < MAX_ERRORS:
            result.errors.append(f"{label} {record_id}: {message}")
        return False


# --- amoCRM ------------------------------------------------------------------------------

AMO_CLOSING = {
    amocrm.WON_STATUS: PipelineStage.Kind.WON,
    amocrm.LOST_STATUS: PipelineStage.Kind.LOST,
}
# Call notes in webhooks carry the old numeric note types.
AMO_WEBHOOK_CALL_TYPES = {"10": Call.Direction.INCOMING, "11": Call.Direction.OUTGOING}
AMO_API_CALL_TYPES = {"call_in": Call.Direction.INCOMING, "call_out": Call.Direction.OUTGOING}
AMO_ANSWERED, AMO_NOT_ANSWERED = {4}, {5, 6, 7}


def _amo_answered(call_status: Any, duration: int) -> bool:
    status = int(call_status) if str(call_status or "").isdigit() else None
    if status in AMO_ANSWERED or status in AMO_NOT_ANSWERED:
        return status in AMO_ANSWERED
    return duration > 0


def amo_lead(mapping: Mapping, lead: dict, contacts: dict[str, dict]) -> services.DealData:
    """A lead as API v4 or a webhook gives it (webhooks: strings, date_create/last_modified)."""
    status_id = int(lead["status_id"])
    main = next(
        (c for c in lead.get("_embedded", {}).get("contacts", []) if c.get("is_main")), None
    )
    client = None
    if main is not None:
        contact = contacts.get(str(main["id"]), {})
        client = mapping.client(
            external_id=main["id"],
            name=contact.get("name", ""),
            phone=amocrm.contact_phone(contact),
        )
    loss = lead.get("_embedded", {}).get("loss_reason") or []
    return services.DealData(
        external_id=str(lead["id"]),
        stage=mapping.stage(str(status_id), closing=AMO_CLOSING.get(status_id)),
        created_at=_moment(lead.get("created_at") or lead.get("date_create")),  # type: ignore[arg-type]
        moved_at=_moment(lead.get("updated_at") or lead.get("last_modified")),
        closed_at=_moment(lead.get("closed_at")),
        title=lead.get("name") or "",
        manager=mapping.manager(lead.get("responsible_user_id")),
        client=client,
        amount=_amount(lead.get("price")),
        loss_reason=loss[0].get("name", "") if loss else "",
    )


def amo_call(mapping: Mapping, note: dict, direction: str) -> services.CallData:
    params = note.get("params") or {}
    duration = int(params.get("duration") or 0)
    phone = str(params.get("phone") or "")
    return services.CallData(
        external_id=str(note["id"]),
        direction=direction,
        started_at=_moment(note["created_at"]),  # type: ignore[arg-type]
        duration=duration,
        answered=_amo_answered(params.get("call_status"), duration),
        manager=mapping.manager(note.get("responsible_user_id") or note.get("created_by")),
        client=mapping.client(external_id=note.get("entity_id"), phone=phone),
        phone=phone,
    )


def amocrm_verify(*, connection: CRMConnection, secret: str, payload: dict) -> bool:
    """amoCRM signs nothing: the secret in our URL, and the account it names, must match."""
    subdomain = str(payload.get("account", {}).get("subdomain", ""))
    host = urlsplit(connection.base_url).hostname or ""
    return (
        secrets.compare_digest(secret.encode(), connection.webhook_secret.encode())
        and bool(subdomain)
        and host.split(".")[0] == subdomain.lower()
    )


def amocrm_webhook_apply(*, connection: CRMConnection, payload: dict) -> SyncResult:
    """Leads added, edited or moved, and call notes, as amoCRM posts them."""
    mapping = Mapping(company=connection.company, connection=connection)
    result = SyncResult()
    leads = payload.get("leads", {})
    for event in ("add", "update", "status"):
        for lead in leads.get(event, {}).values():
            _store(result, _("Сделка"), lead.get("id"), lambda lead=lead: mapping.deal_upsert(
                amo_lead(mapping, lead, {})
            ))  # fmt: skip
    for item in payload.get("contacts", {}).get("note", {}).values():
        note = item.get("note", {})
        direction = AMO_WEBHOOK_CALL_TYPES.get(str(note.get("note_type")))
        if direction is None:
            continue
        _store(result, _("Звонок"), note.get("id"), lambda note=note, d=direction: (
            mapping.call_upsert(amo_call(mapping, _amo_webhook_note(note), d))
        ))  # fmt: skip
    _note_errors(connection, result)
    return result


def _amo_webhook_note(note: dict) -> dict:
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
        },
    }


# --- Bitrix24 ----------------------------------------------------------------------------

BITRIX_CLOSING = {"S": PipelineStage.Kind.WON, "F": PipelineStage.Kind.LOST}
# CALL_TYPE: 1 outgoing, 2 incoming, 3 incoming redirected, 4 callback.
BITRIX_DIRECTIONS = {
    "1": Call.Direction.OUTGOING,
    "2": Call.Direction.INCOMING,
    "3": Call.Direction.INCOMING,
    "4": Call.Direction.OUTGOING,
}


def _bitrix_closing(deal: dict) -> str | None:
    semantic = deal.get("STAGE_SEMANTIC_ID")
    if semantic in BITRIX_CLOSING:
        return BITRIX_CLOSING[semantic]
    stage = str(deal.get("STAGE_ID", "")).rpartition(":")[2]
    return {"WON": PipelineStage.Kind.WON, "LOSE": PipelineStage.Kind.LOST}.get(stage)


def bitrix_deal(mapping: Mapping, deal: dict, contacts: dict[str, dict]) -> services.DealData:
    client = None
    if deal.get("CONTACT_ID"):
        contact = contacts.get(str(deal["CONTACT_ID"]), {})
        client = mapping.client(
            external_id=deal["CONTACT_ID"],
            name=bitrix24.contact_name(contact),
            phone=bitrix24.contact_phone(contact),
        )
    return services.DealData(
        external_id=str(deal["ID"]),
        stage=mapping.stage(deal["STAGE_ID"], closing=_bitrix_closing(deal)),
        created_at=_iso(deal.get("DATE_CREATE")),  # type: ignore[arg-type]
        moved_at=_iso(deal.get("DATE_MODIFY")),
        title=deal.get("TITLE") or "",
        manager=mapping.manager(deal.get("ASSIGNED_BY_ID")),
        client=client,
        channel=deal.get("SOURCE_ID") or "",
        amount=_amount(deal.get("OPPORTUNITY")),
        is_repeat=deal.get("IS_RETURN_CUSTOMER") == "Y",
    )


def bitrix_call(mapping: Mapping, call: dict) -> services.CallData:
    direction = BITRIX_DIRECTIONS.get(str(call.get("CALL_TYPE")))
    if direction is None:
        raise Skip(_("неизвестный тип звонка %(type)s") % {"type": call.get("CALL_TYPE")})
    phone = str(call.get("PHONE_NUMBER") or "")
    client_id = call.get("CRM_ENTITY_ID") if call.get("CRM_ENTITY_TYPE") == "CONTACT" else ""
    duration = int(call.get("CALL_DURATION") or 0)
    return services.CallData(
        external_id=str(call["CALL_ID"]),
        direction=direction,
        started_at=_iso(call["CALL_START_DATE"]),  # type: ignore[arg-type]
        duration=duration,
        answered=str(call.get("CALL_FAILED_CODE")) == "200" and duration > 0,
        manager=mapping.manager(call.get("PORTAL_USER_ID") or call.get("ACCOUNT_USER_ID")),
        client=mapping.client(external_id=client_id, phone=phone),
        phone=phone,
    )


def bitrix24_verify(*, connection: CRMConnection, payload: dict) -> bool:
    """Bitrix24 sends its outbound webhook's application token with every event."""
    auth = payload.get("auth", {})
    token = str(auth.get("application_token", ""))
    domain = str(auth.get("domain", "")).lower()
    host = urlsplit(connection.base_url).netloc.lower()
    return (
        bool(token)
        and secrets.compare_digest(token.encode(), crypto.decrypt(connection.event_token).encode())
        and (not domain or domain == host)
    )


def bitrix24_webhook_apply(*, connection: CRMConnection, payload: dict) -> list[str]:
    """Stores a finished call at once; returns the ids of deals to fetch (events carry only ids)."""
    event = str(payload.get("event", "")).upper()
    data = payload.get("data", {})
    if event in ("ONCRMDEALADD", "ONCRMDEALUPDATE"):
        deal_id = str(data.get("FIELDS", {}).get("ID", ""))
        return [deal_id] if deal_id.isdigit() else []
    if event == "ONVOXIMPLANTCALLEND":
        mapping = Mapping(company=connection.company, connection=connection)
        result = SyncResult()
        _store(result, _("Звонок"), data.get("CALL_ID"), lambda: mapping.call_upsert(
            bitrix_call(mapping, data)
        ))  # fmt: skip
        _note_errors(connection, result)
    return []


# --- Pulling -----------------------------------------------------------------------------


def client_for(connection: CRMConnection, **http: Any) -> CRMClient:
    token = services.connection_token(connection)
    if connection.vendor == CRMConnection.Vendor.AMOCRM:
        return amocrm.AmoCRMClient(base_url=connection.base_url, token=token, **http)
    return bitrix24.Bitrix24Client(base_url=connection.base_url, token=token, **http)


@dataclass
class Stream:
    """One kind of record pulled page by page, each page stored with its cursor."""

    key: str
    label: str
    pages: Callable[[Any], Iterable[list[dict]]]
    modified: Callable[[dict], Any]  # the cursor value: a timestamp or an ISO date
    record_id: Callable[[dict], str]
    store: Callable[[Mapping, dict, dict[str, dict]], str]
    contacts: Callable[[list[dict]], dict[str, dict]] = lambda records: {}
    order: Callable[[Any], Any] = lambda value: value
    is_deal: bool = False


def _streams(connection: CRMConnection, client: CRMClient) -> list[Stream]:
    if isinstance(client, amocrm.AmoCRMClient):

        def amo_contacts(leads: list[dict]) -> dict[str, dict]:
            ids = {
                str(c["id"])
                for lead in leads
                for c in lead.get("_embedded", {}).get("contacts", [])
                if c.get("is_main")
            }
            return {str(c["id"]): c for c in client.contacts_by_id(sorted(ids))}

        return [
            Stream(
                key="deals", label=_("Сделка"), is_deal=True,
                pages=lambda since: client.leads_updated(since=since),
                modified=lambda lead: int(lead["updated_at"]),
                record_id=lambda lead: str(lead["id"]),
                store=lambda m, lead, contacts: m.deal_upsert(amo_lead(m, lead, contacts)),
                contacts=amo_contacts,
            ),
            Stream(
                key="calls", label=_("Звонок"),
                pages=lambda since: client.call_notes_updated(since=since),
                modified=lambda note: int(note["updated_at"]),
                record_id=lambda note: str(note["id"]),
                store=lambda m, note, _c: m.call_upsert(
                    amo_call(m, note, AMO_API_CALL_TYPES[note["note_type"]])
                ),
            ),
        ]  # fmt: skip

    def bitrix_contacts(deals: list[dict]) -> dict[str, dict]:
        ids = {str(deal["CONTACT_ID"]) for deal in deals if deal.get("CONTACT_ID")}
        return {str(c["ID"]): c for c in client.contacts_by_id(sorted(ids))}

    def calls_since(since: str | None) -> Iterable[list[dict]]:
        start = _iso(since)
        return client.calls_since(
            since=(start - BITRIX_CALLS_OVERLAP).isoformat() if start else None
        )

    return [
        Stream(
            key="deals", label=_("Сделка"), is_deal=True,
            pages=lambda since: client.deals_updated(since=since),
            modified=lambda deal: deal["DATE_MODIFY"],
            record_id=lambda deal: str(deal["ID"]),
            store=lambda m, deal, contacts: m.deal_upsert(bitrix_deal(m, deal, contacts)),
            contacts=bitrix_contacts, order=_iso,
        ),
        Stream(
            key="calls", label=_("Звонок"),
            pages=calls_since,
            modified=lambda call: call["CALL_START_DATE"],
            record_id=lambda call: str(call["CALL_ID"]),
            store=lambda m, call, _c: m.call_upsert(bitrix_call(m, call)),
            order=_iso,
        ),
    ]  # fmt: skip


def _users(client: CRMClient) -> dict[str, str]:
    if isinstance(client, amocrm.AmoCRMClient):
        return {str(u["id"]): u.get("email") or "" for u in client.users()}
    return {str(u["ID"]): u.get("EMAIL") or "" for u in client.users()}


def _fetch_deals(client: CRMClient, ids: list[str]) -> list[dict]:
    if isinstance(client, amocrm.AmoCRMClient):
        return client.leads_by_id(ids)
    return client.deals_by_id(ids)


def _store_page(
    *,
    company_id: int,
    connection_id: int,
    stream: Stream,
    records: list[dict],
    contacts: dict[str, dict],
    result: SyncResult,
    advance: bool,
) -> None:
    """One page in one transaction, with the cursor moved past it (when `advance`)."""
    with tenancy.tenant_context(company_id):
        connection = CRMConnection.objects.select_for_update().get(pk=connection_id)
        mapping = Mapping(company=connection.company, connection=connection)
        cursor = connection.cursor
        state = cursor.get(stream.key, {})
        since, seen = state.get("since"), set(state.get("seen", []))
        retry = set(cursor.get("retry", {}).get(stream.key, []))
        # The page's records share manager days: their report figures are refreshed once.
        with services.figures_deferred(company=connection.company):
            for record in records:
                record_id, modified = stream.record_id(record), stream.modified(record)
                if advance and modified == since and record_id in seen:
                    continue
                stored = _store(
                    result,
                    stream.label,
                    record_id,
                    lambda r=record: stream.store(mapping, r, contacts),
                )
                if stream.is_deal:
                    (retry.discard if stored else retry.add)(record_id)
                if not advance:
                    continue
                if since is None or stream.order(modified) > stream.order(since):
                    since, seen = modified, {record_id}
                elif modified == since:
                    seen.add(record_id)
        if advance:
            cursor[stream.key] = {"since": since, "seen": sorted(seen)}
        if stream.is_deal:
            cursor.setdefault("retry", {})[stream.key] = sorted(retry)[:MAX_RETRY_IDS]
        connection.save(update_fields=["cursor"])


def _connection(company_id: int, code: Any) -> CRMConnection:
    with tenancy.tenant_context(company_id):
        return CRMConnection.objects.select_related("company").get(company_id=company_id, code=code)


def connection_pull(*, company_id: int, code: Any, **http: Any) -> SyncResult:
    """Everything the CRM changed since the last pull: users, then deals, then calls.

    The HTTP calls run outside any transaction; each page is stored in its own.
    `CRMUnavailable` (down, still rate-limited) propagates for the task to retry later.
    """
    connection = _connection(company_id, code)
    result = SyncResult()
    client = client_for(connection, **http)
    try:
        users = _users(client)
        with tenancy.tenant_context(company_id):
            locked = CRMConnection.objects.select_for_update().get(pk=connection.pk)
            locked.cursor["users"] = users
            locked.save(update_fields=["cursor"])
            connection.cursor = locked.cursor
        for stream in _streams(connection, client):
            retry = connection.cursor.get("retry", {}).get(stream.key, [])
            if retry:
                records = _fetch_deals(client, retry)
                _store_page(
                    company_id=company_id, connection_id=connection.pk, stream=stream,
                    records=records, contacts=stream.contacts(records), result=result,
                    advance=False,
                )  # fmt: skip
            since = connection.cursor.get(stream.key, {}).get("since")
            for records in stream.pages(since):
                _store_page(
                    company_id=company_id, connection_id=connection.pk, stream=stream,
                    records=records, contacts=stream.contacts(records), result=result,
                    advance=True,
                )  # fmt: skip
    except CRMUnavailable as error:
        _finish(company_id, connection.pk, error=str(error))
        raise
    except CRMError as error:
        _finish(company_id, connection.pk, error=str(error))
        result.errors.append(str(error))
        return result
    finally:
        client.close()
    _finish(company_id, connection.pk, error="\n".join(result.errors), pulled=True)
    return result


def deals_refresh(*, company_id: int, code: Any, ids: list[str], **http: Any) -> SyncResult:
    """Fetch and store these deals now (a Bitrix24 event names only the deal's id)."""
    connection = _connection(company_id, code)
    result = SyncResult()
    client = client_for(connection, **http)
    try:
        records = _fetch_deals(client, ids)
        stream = next(s for s in _streams(connection, client) if s.is_deal)
        _store_page(
            company_id=company_id, connection_id=connection.pk, stream=stream,
            records=records, contacts=stream.contacts(records), result=result, advance=False,
        )  # fmt: skip
    finally:
        client.close()
    if result.errors:
        _finish(company_id, connection.pk, error="\n".join(result.errors))
    return result


def _finish(company_id: int, connection_id: int, *, error: str, pulled: bool = False) -> None:
    with tenancy.tenant_context(company_id):
        changes: dict[str, Any] = {"last_error": error[:4000]}
        if pulled:
            changes["last_pull_at"] = timezone.now()
        CRMConnection.objects.filter(pk=connection_id).update(**changes)


def _note_errors(connection: CRMConnection, result: SyncResult) -> None:
    if result.errors:
        CRMConnection.objects.filter(pk=connection.pk).update(
            last_error="\n".join(result.errors)[:4000]
        )


# --- Connections ---------------------------------------------------------------------------


def connection_configure(
    *,
    company: Company,
    vendor: str,
    base_url: str,
    token: str = "",
    application_token: str = "",
    active: bool = True,
    connection: CRMConnection | None = None,
) -> CRMConnection:
    """Create or edit a connection; empty secrets keep the stored ones.

    Bitrix24 gives each outbound webhook an application token that it sends with every
    event: it is what the events prove, kept encrypted like the API token.
    """
    if vendor == CRMConnection.Vendor.BITRIX24 and connection is None and not application_token:
        raise ValidationError(
            {"application_token": _("Вставьте токен приложения из исходящего вебхука Битрикс24.")}
        )
    connection = services.connection_save(
        company=company, vendor=vendor, base_url=base_url, token=token, connection=connection
    )
    changed = []
    if application_token and vendor == CRMConnection.Vendor.BITRIX24:
        connection.event_token = crypto.encrypt(application_token.strip())
        changed.append("event_token")
    if connection.active != active:
        connection.active = active
        changed.append("active")
    if changed:
        connection.save(update_fields=changed)
    return connection


def connections_due() -> list[tuple[int, str]]:
    """(company id, connection code) of every active connection, across companies."""
    due = []
    for company_id in Company.objects.values_list("pk", flat=True):
        with tenancy.tenant_context(company_id):
            codes = CRMConnection.objects.filter(company_id=company_id, active=True).values_list(
                "code", flat=True
            )
            due += [(company_id, str(code)) for code in codes]
    return due


def parse_form(items: Iterable[tuple[str, str]]) -> dict:
    """PHP-style form keys (`leads[status][0][id]`) as nested dicts; list indexes stay keys."""
    tree: dict = {}
    for key, value in items:
        head, _bracket, rest = key.partition("[")
        parts = [head, *rest.rstrip("]").split("][")] if rest else [head]
        node = tree
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):  # a scalar and a nested key share a path
                child = node[part] = {"": child}
            node = child
        node[parts[-1]] = value
    return tree
