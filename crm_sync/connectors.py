"""The CRMs' webhooks and REST pages turned into deals and calls, whatever the vendor.

What a vendor sends, and how it maps to `DealData` / `CallData`, is its own module's
(`crm_sync.vendors`, one per `CRMConnection.Vendor`, behind the `Vendor` protocol); this
module does the rest the same way for each: the pull, its cursor and paging, the
transactions, storing, and the errors kept on the connection.

Both ways in end in `deal_upsert` / `call_upsert` keyed by the CRM's own id, so a record
seen by a webhook and again by a pull is stored once.

The pull keeps, per stream (deals, calls), a cursor in `CRMConnection.cursor`:
`{"since": <the CRM's modified time of the last stored record>, "seen": [ids at that time]}`.
It asks the CRM for records modified at or after `since`, skips the `seen` ones, and moves
the cursor only once a page is stored (one transaction per page), so a crash re-reads at most
one page and nothing is skipped. Deals whose stage is not mapped yet wait in
`cursor["retry"]` and are fetched again by id on the next pull.

Pipelines: only the deals of the pipelines the admin chose (`CRMConnection.pipelines`) are
asked of the CRM, by the pull and by a webhook's fetch; a pipeline added to the choice is
read from the start on a cursor of its own (`_backfill`).

Managers: the CRM's responsible user is matched to our user by e-mail. The pull refreshes
`cursor["users"]` (CRM user id → e-mail) from the CRM's user list; webhooks use that map.

Stages: `PipelineStage.external_id` holds the CRM status id (amoCRM status_id, Bitrix24
STAGE_ID). The CRMs' closing statuses need no mapping: each vendor names its won and lost
ones, which land on the company's first won/lost stage.
"""

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import crypto, tenancy
from accounts.audit import audit_record
from accounts.models import AuditEvent, Company, User
from crm_sync import catalog, coordination, history, oauth, services, vendors
from crm_sync.models import (
    Client,
    CRMConnection,
    CRMStageLink,
    CRMUserLink,
    Deal,
    Lead,
    PipelineStage,
)
from crm_sync.vendors.base import Ignored, LeadVendor, Skip, Stream, Vendor
from crm_sync.vendors.http import CRMError, CRMTokenRefused, CRMUnavailable
from crm_sync.vendors.reference import Reference

MAX_ERRORS = 20
MAX_RETRY_IDS = 500
FETCH_IDS = 50
# The cursor of the deals of pipelines added to the admin's choice, read from the start.
BACKFILL = "backfill"
# A lead's id among the ids a webhook names to fetch (the rest are deals'): CRM ids are
# numbered apart per kind.
LEAD = "lead:"
RECOUNT_DAYS = 200  # manager days computed again between two extensions of the lock


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    ignored: int = 0  # deals of pipelines the admin did not choose
    deleted: int = 0
    errors: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


# --- Mapping ------------------------------------------------------------------------------


class Mapping:
    """One company's stages and users, looked up once per page or webhook: the `Lookup`
    the vendors map payloads with, and the upserts that store what they map."""

    def __init__(self, *, company: Company, connection: CRMConnection) -> None:
        self.company = company
        self.source = vendors.vendor_for(connection.vendor).source
        self.stages = list(PipelineStage.objects.filter(company=company))
        emails = {str(k): v.lower() for k, v in connection.cursor.get("users", {}).items() if v}
        by_email = {
            user.email.lower(): user
            for user in User.objects.filter(company=company, is_active=True).exclude(email="")
        }
        self.users = {crm_id: by_email.get(email) for crm_id, email in emails.items()}
        # The admin's matches (crm_sync.mapping) come before the e-mail.
        for link in CRMUserLink.objects.filter(connection=connection, user__isnull=False):
            if link.user.is_active:
                self.users[link.crm_user_id] = link.user
        self.pipelines = {str(pipeline) for pipeline in connection.pipelines}
        self.links = {
            (link.pipeline_id, link.status_id): link
            for link in CRMStageLink.objects.filter(connection=connection).select_related("stage")
        }
        self.reference = Reference(
            currency=company.currency,
            amount_field=connection.amount_field,
            catalog=connection.catalog,
        )

    def manager(self, crm_user_id: Any) -> User | None:
        return self.users.get(str(crm_user_id)) if crm_user_id else None

    def stage(
        self, external_id: str, *, closing: str | None = None, pipeline: Any = None
    ) -> PipelineStage:
        """The stage the admin mapped the pipeline's status to; else the one with its code;
        else, for a closing status, the first won or lost stage."""
        if pipeline is not None and self.pipelines:
            if str(pipeline) not in self.pipelines:
                raise Ignored(_("воронка CRM %(pipeline)s не выбрана") % {"pipeline": pipeline})
            link = self.links.get((str(pipeline), str(external_id)))
            if link is not None and link.stage is not None:
                return link.stage
            if link is not None and not closing:
                raise Skip(
                    _("Этап CRM «%(stage)s» не сопоставлен с этапом воронки.")
                    % {"stage": link.name or external_id}
                )
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
            data.crm_user_id = data.crm_user_id or existing.crm_user_id
            if existing.stage_id == data.stage.pk and existing.closed_at:
                # The stage history's moment of closing (crm_sync.history) is truer than
                # a date-only field the CRM sends again with every change.
                data.closed_at = existing.closed_at
            data.expected_payment_on = data.expected_payment_on or existing.expected_payment_on
            data.created_at = existing.created_at if data.created_at is None else data.created_at
        if data.created_at is None:
            data.created_at = data.moved_at or timezone.now()
        _deal, outcome = services.deal_upsert(company=self.company, source=self.source, data=data)
        return outcome

    def deal_delete(self, external_id: str) -> str:
        found = services.deal_delete(
            company=self.company, source=self.source, external_id=external_id
        )
        return "deleted" if found else "unchanged"

    def call_upsert(self, data: services.CallData) -> str:
        _call, outcome = services.call_upsert(company=self.company, source=self.source, data=data)
        return outcome

    def lead_upsert(self, data: services.LeadData) -> str:
        _lead, outcome = services.lead_upsert(company=self.company, source=self.source, data=data)
        return outcome

    def lead_delete(self, external_id: str) -> str:
        found = services.lead_delete(
            company=self.company, source=self.source, external_id=external_id
        )
        return "deleted" if found else "unchanged"

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
    except Ignored:
        result.ignored += 1
        return True
    except (Skip, ValidationError, ValueError, KeyError, TypeError) as error:
        message = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        result.skipped += 1
        if len(result.errors) < MAX_ERRORS:
            result.errors.append(f"{label} {record_id}: {message}")
        return False


# --- Webhooks ------------------------------------------------------------------------------


def webhook_verify(*, connection: CRMConnection, payload: dict, secret: str = "") -> bool:
    return vendors.vendor_for(connection.vendor).verify_webhook(
        connection=connection, payload=payload, secret=secret
    )


def webhook_apply(*, connection: CRMConnection, payload: dict) -> list[str]:
    """Stores what the event carries; returns the ids of deals to fetch (events that name a
    deal without its fields), and of leads as `LEAD` + id. Leads are fetched only for a
    connection that counts them; a deleted one goes whatever the connection counts."""
    vendor = vendors.vendor_for(connection.vendor)
    inbound = vendor.webhook(payload)
    if not connection.counts_leads:
        inbound.lead_ids = []
    if inbound.records or inbound.deleted_deal_ids or inbound.deleted_lead_ids:
        mapping = Mapping(company=connection.company, connection=connection)
        result = SyncResult()
        for record in inbound.records:
            _store(result, record.label, record.record_id, lambda record=record: (
                mapping.deal_upsert(record.data(mapping))  # type: ignore[arg-type]
                if record.is_deal
                else mapping.call_upsert(record.data(mapping))  # type: ignore[arg-type]
            ))  # fmt: skip
        for deal_id in inbound.deleted_deal_ids:
            _store(result, _("Удалённая сделка"), deal_id, lambda d=deal_id: mapping.deal_delete(d))
        for lead_id in inbound.deleted_lead_ids:
            _store(result, _("Удалённый лид"), lead_id, lambda i=lead_id: mapping.lead_delete(i))
        _note_errors(connection, result)
    return inbound.deal_ids + [LEAD + lead_id for lead_id in inbound.lead_ids]


# --- Pulling -----------------------------------------------------------------------------


def _connect(connection: CRMConnection, *, stale: str = "", **http: Any) -> tuple[Vendor[Any], Any]:
    """A session with the CRM; `stale`: the access token it just refused, to renew."""
    vendor = vendors.vendor_for(connection.vendor)
    token = oauth.access_token(connection, stale=stale)
    return vendor, vendor.connect(base_url=oauth.endpoint(connection), token=token, **http)


def _record_store(
    vendor: Vendor[Any], mapping: Mapping, stream: Stream, record: dict, contacts: dict
) -> str:
    if stream.deletions:
        return mapping.deal_delete(stream.record_id(record))
    if stream.is_lead:
        return mapping.lead_upsert(vendor.lead_from_payload(mapping, record))  # type: ignore[attr-defined]
    if stream.is_deal:
        return mapping.deal_upsert(vendor.deal_from_payload(mapping, record, contacts))
    return mapping.call_upsert(vendor.call_from_payload(mapping, record))


def _store_page(
    *,
    vendor: Vendor[Any],
    company_id: int,
    connection_id: int,
    stream: Stream,
    records: list[dict],
    contacts: dict[str, dict],
    result: SyncResult,
    advance: bool,
    key: str = "",
    asked: list[str] | None = None,
) -> None:
    """One page in one transaction, with the cursor moved past it (when `advance`): the
    stream's own, or the one `key` names. `asked`: the deal ids the page was fetched by;
    those the CRM did not give (deleted, or now in a pipeline not chosen) are not asked for
    again."""
    key = key or stream.key
    with tenancy.tenant_context(company_id):
        connection = CRMConnection.objects.select_for_update().get(pk=connection_id)
        mapping = Mapping(company=connection.company, connection=connection)
        cursor = connection.cursor
        state = cursor.get(key, {})
        since, seen = state.get("since"), set(state.get("seen", []))
        retry = set(cursor.get("retry", {}).get(stream.key, []))
        if stream.is_deal and asked:
            retry -= set(asked) - {stream.record_id(record) for record in records}
        backfilled = []
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
                    lambda r=record: _record_store(vendor, mapping, stream, r, contacts),
                )
                if stream.is_deal:
                    (retry.discard if stored else retry.add)(record_id)
                    if stored and key == BACKFILL:
                        backfilled.append(record_id)
                if not advance:
                    continue
                if since is None or stream.order(modified) > stream.order(since):
                    since, seen = modified, {record_id}
                elif modified == since:
                    seen.add(record_id)
        if advance:
            cursor[key] = {**state, "since": since, "seen": sorted(seen)}
            progress = cursor.setdefault("progress", {})
            progress.update(stream=stream.key, reached=since)
            progress["pages"] = progress.get("pages", 0) + 1
            progress["fetched"] = progress.get("fetched", 0) + len(records)
        if stream.is_deal:
            cursor.setdefault("retry", {})[stream.key] = sorted(retry)[:MAX_RETRY_IDS]
        if backfilled:  # their stage history is read whole (crm_sync.history)
            pending = cursor.setdefault("history", {}).setdefault("deals", [])
            pending += [deal_id for deal_id in backfilled if deal_id not in pending]
        connection.save(update_fields=["cursor"])


def _connection(company_id: int, code: Any) -> CRMConnection:
    with tenancy.tenant_context(company_id):
        return CRMConnection.objects.select_related("company").get(company_id=company_id, code=code)


def connection_pull(*, company_id: int, code: Any, **http: Any) -> SyncResult:
    """Everything the CRM changed since the last pull: users, then deals, then calls.

    The HTTP calls run outside any transaction; each page is stored in its own, with the
    cursor and the progress shown on the connection page, so a pull that stops (a crash,
    the CRM limiting us) goes on from the last page stored. It holds the connection's lock
    (`ConnectionBusy` when another pull or fetch has it). An OAuth access token the CRM
    refuses is renewed once and the pull goes on. `CRMUnavailable` (down, still
    rate-limited) propagates for the task to retry later.
    """
    connection = _connection(company_id, code)
    result = SyncResult()
    with coordination.connection_lock(connection.pk) as keep:
        try:
            try:
                _pull(connection, result, keep, **http)
            except CRMTokenRefused:
                if oauth.credentials(connection) is None:
                    raise
                stale = oauth.access_token(connection)
                _pull(connection, result, keep, stale=stale, **http)
        except CRMUnavailable as error:
            _finish(company_id, connection.pk, error=str(error))
            raise
        except CRMError as error:
            _finish(company_id, connection.pk, error=str(error))
            result.errors.append(str(error))
            return result
    _finish(company_id, connection.pk, error="\n".join(result.errors), pulled=True)
    return result


def _pull(
    connection: CRMConnection,
    result: SyncResult,
    keep: Callable[[], object],
    *,
    stale: str = "",
    **http: Any,
) -> None:
    company_id = connection.company_id
    vendor, client = _connect(connection, stale=stale, **http)
    try:
        users = vendor.users(client)
        with tenancy.tenant_context(company_id):
            locked = CRMConnection.objects.select_for_update().get(pk=connection.pk)
            locked.cursor["users"] = users
            locked.cursor["progress"] = {"running": True, "started_at": _now(), "fetched": 0}
            chosen, added = _pipelines_plan(locked)
            locked.save(update_fields=["cursor"])
            connection.cursor = locked.cursor
        if catalog.catalog_stale(connection.catalog):
            _catalog_refresh(vendor, client, company_id, connection.pk)
        streams = vendor.streams(client, pipelines=chosen)
        if (leads := _lead_stream(vendor, client, connection)) is not None:
            streams.insert(1, leads)  # after the deals, before the calls
        for stream in streams:
            retry = connection.cursor.get("retry", {}).get(stream.key, [])
            for ids in _chunks(retry):
                if stream is leads:
                    records = vendor.fetch_leads(client, ids)  # type: ignore[attr-defined]
                else:
                    records = vendor.fetch_deals(client, ids, pipelines=chosen)
                _store_page(
                    vendor=vendor, company_id=company_id, connection_id=connection.pk,
                    stream=stream, records=records, contacts=stream.contacts(records),
                    result=result, advance=False, asked=ids,
                )  # fmt: skip
            since = connection.cursor.get(stream.key, {}).get("since")
            for records in stream.pages(since):
                _store_page(
                    vendor=vendor, company_id=company_id, connection_id=connection.pk,
                    stream=stream, records=records, contacts=stream.contacts(records),
                    result=result, advance=True,
                )  # fmt: skip
                keep()
        if added:
            _backfill(vendor, client, connection, added, result, keep)
        history.history_pull(
            vendor=vendor, client=client, company_id=company_id, connection_id=connection.pk
        )
        _leads_recount(vendor, company_id, connection.pk, keep)
    finally:
        client.close()


def _pipelines_plan(connection: CRMConnection) -> tuple[list[str] | None, list[str]]:
    """The pipelines whose deals the pull asks the CRM for (None: every one), and those of
    them added to the admin's choice since deals were last read, to read from the start.

    `cursor["pipelines_read"]` holds the pipelines the deals cursor has read from the start;
    none yet means all of them (a first pull reads every chosen one from the start; before
    any choice, every pipeline was read). The caller saves the cursor."""
    cursor = connection.cursor
    chosen = sorted({str(pipeline) for pipeline in connection.pipelines})
    read = cursor.get("pipelines_read")
    if not chosen:
        if read is not None:  # every pipeline counts again: those not chosen were never read
            deals_reread(connection)
        cursor.pop("pipelines_read", None)
        cursor.pop(BACKFILL, None)
        return None, []
    read = chosen if read is None else [pipeline for pipeline in read if pipeline in chosen]
    cursor["pipelines_read"] = read
    added = [pipeline for pipeline in chosen if pipeline not in read]
    if cursor.get(BACKFILL, {}).get("pipelines") != added:  # another choice: from the start
        cursor.pop(BACKFILL, None)
        if added:
            cursor[BACKFILL] = {"pipelines": added}
    return chosen, added


def _backfill(
    vendor: Vendor[Any],
    client: Any,
    connection: CRMConnection,
    added: list[str],
    result: SyncResult,
    keep: Callable[[], object],
) -> None:
    """The deals of the pipelines just added to the choice, from the start, with their
    stage history (the next `history_pull`): they were never downloaded. Its own cursor, so
    a pull that stops goes on where it stopped; once through, the pipelines are read with
    the others."""
    company_id = connection.company_id
    stream = next(s for s in vendor.streams(client, pipelines=added) if s.is_deal)
    for records in stream.pages(connection.cursor.get(BACKFILL, {}).get("since")):
        _store_page(
            vendor=vendor, company_id=company_id, connection_id=connection.pk, stream=stream,
            records=records, contacts=stream.contacts(records), result=result, advance=True,
            key=BACKFILL,
        )  # fmt: skip
        keep()
    with tenancy.tenant_context(company_id):
        locked = CRMConnection.objects.select_for_update().get(pk=connection.pk)
        read = {*locked.cursor.get("pipelines_read", []), *added}
        locked.cursor["pipelines_read"] = sorted(read)
        locked.cursor.pop(BACKFILL, None)
        locked.save(update_fields=["cursor"])
        connection.cursor = locked.cursor


def _lead_stream(vendor: Vendor[Any], client: Any, connection: CRMConnection) -> Stream | None:
    """The leads, for a connection whose department works them on a CRM that keeps them
    apart; whether the portal keeps any now is asked each time and kept on the connection
    (`CRMConnection.counts_leads`)."""
    if not (connection.works_leads and isinstance(vendor, LeadVendor)):
        return None
    keeps = vendor.keeps_leads(client)
    with tenancy.tenant_context(connection.company_id):
        CRMConnection.objects.filter(pk=connection.pk).update(crm_has_leads=keeps)
    connection.crm_has_leads = keeps
    return vendor.lead_stream(client) if keeps else None


def _leads_recount(
    vendor: Vendor[Any], company_id: int, connection_id: int, keep: Callable[[], object]
) -> None:
    """When what the connection's leads are changed since its figures were computed (the
    admin's choice, the portal's mode), every manager day its deals and leads were created
    on is computed again (`services.lead_sources`), and marked done in the cursor."""
    with tenancy.tenant_context(company_id):
        connection = CRMConnection.objects.select_related("company").get(pk=connection_id)
        counted = connection.counts_leads
        if connection.cursor.get("leads_counted", False) == counted:
            return
        company = connection.company
        days: set[tuple[int, datetime.date]] = set()
        for model in (Deal, Lead):
            created = (
                model.objects.filter(company=company, source=vendor.source, manager__isnull=False)
                .values_list("manager_id", "created_at")
                .iterator()
            )
            days |= {(manager, company.local_time(at).date()) for manager, at in created}
        ordered = sorted(days)
        for start in range(0, len(ordered), RECOUNT_DAYS):
            services.day_figures_refresh_many(
                company=company, pairs=ordered[start : start + RECOUNT_DAYS]
            )
            keep()
        with transaction.atomic():
            locked = CRMConnection.objects.select_for_update().get(pk=connection_id)
            locked.cursor["leads_counted"] = counted
            locked.save(update_fields=["cursor"])


def deals_refresh(*, company_id: int, code: Any, ids: list[str], **http: Any) -> SyncResult:
    """Fetch and store these deals now, under the connection's lock."""
    connection = _connection(company_id, code)
    with coordination.connection_lock(connection.pk) as keep:
        return _refresh(connection, ids, keep, **http)


def pending_refresh(*, company_id: int, code: Any, **http: Any) -> SyncResult:
    """The deals the connection's webhooks named since the last batch (a Bitrix24 event
    names only the deal's id), fetched in one go under the connection's lock; given back
    for the next batch when the CRM cannot be asked now."""
    connection = _connection(company_id, code)
    with coordination.connection_lock(connection.pk) as keep:
        ids = coordination.pending_take(connection.pk)
        try:
            return _refresh(connection, ids, keep, **http)
        except CRMUnavailable:
            coordination.pending_return(connection.pk, ids)
            raise


def _refresh(
    connection: CRMConnection, ids: list[str], keep: Callable[[], object], **http: Any
) -> SyncResult:
    result = SyncResult()
    if not ids:
        return result
    lead_ids = [i.removeprefix(LEAD) for i in ids if i.startswith(LEAD)]
    deal_ids = [i for i in ids if not i.startswith(LEAD)]
    vendor, client = _connect(connection, **http)
    # The chosen pipelines' deals only: an event of another pipeline fetches nothing.
    chosen = sorted({str(pipeline) for pipeline in connection.pipelines}) or None
    try:
        if catalog.catalog_stale(connection.catalog):  # the deals' codes need the CRM's names
            _catalog_refresh(vendor, client, connection.company_id, connection.pk)
        stream = next(s for s in vendor.streams(client, pipelines=chosen) if s.is_deal)
        fetches = [(stream, partial(vendor.fetch_deals, pipelines=chosen), deal_ids)]
        if lead_ids and connection.counts_leads and isinstance(vendor, LeadVendor):
            fetches.append((vendor.lead_stream(client), vendor.fetch_leads, lead_ids))
        for stream, fetch, wanted in fetches:
            for chunk in _chunks(wanted):  # a page of ids a request
                records = fetch(client, chunk)
                _store_page(
                    vendor=vendor, company_id=connection.company_id,
                    connection_id=connection.pk, stream=stream, records=records,
                    contacts=stream.contacts(records), result=result, advance=False,
                    asked=chunk,
                )  # fmt: skip
                keep()
    finally:
        client.close()
    if result.errors:
        _finish(connection.company_id, connection.pk, error="\n".join(result.errors))
    return result


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    """Ids a request can name: a URL (amoCRM `filter[id][]`) stays short, a Bitrix24 list
    answers 50 rows."""
    for start in range(0, len(ids), FETCH_IDS):
        yield ids[start : start + FETCH_IDS]


def _now() -> str:
    return timezone.now().isoformat(timespec="seconds")


@dataclass
class Progress:
    """How far the running (or last) pull got, for the connection page."""

    running: bool
    fetched: int
    stream: str  # "deals", "calls" …: the stream being read
    reached: datetime.datetime | None  # the CRM's change time of the last record stored
    started_at: datetime.datetime | None


def connection_progress(connection: CRMConnection) -> Progress:
    progress = connection.cursor.get("progress", {})
    reached = progress.get("reached")
    if isinstance(reached, int | float):
        moment = datetime.datetime.fromtimestamp(reached, tz=datetime.UTC)
    else:
        moment = datetime.datetime.fromisoformat(reached) if reached else None
    started = progress.get("started_at")
    return Progress(
        running=bool(progress.get("running")),
        fetched=int(progress.get("fetched", 0)),
        stream=progress.get("stream", ""),
        reached=moment,
        started_at=datetime.datetime.fromisoformat(started) if started else None,
    )


def _catalog_refresh(vendor: Vendor[Any], client: Any, company_id: int, connection_id: int) -> None:
    stored = catalog.catalog_read(vendor, client)
    with tenancy.tenant_context(company_id):
        CRMConnection.objects.filter(pk=connection_id).update(catalog=stored)


def catalog_refresh(*, connection: CRMConnection, **http: Any) -> catalog.Catalog:
    """The admin's «Обновить списки из CRM»: every list of the cache asked now (`CRMError`
    when the CRM refuses; `ValueError` when the stored key no longer decrypts)."""
    vendor, client = _connect(connection, **http)
    try:
        _catalog_refresh(vendor, client, connection.company_id, connection.pk)
    finally:
        client.close()
    connection.refresh_from_db(fields=["catalog"])
    return catalog.catalog_of(connection.catalog)  # type: ignore[return-value]


def _finish(company_id: int, connection_id: int, *, error: str, pulled: bool = False) -> None:
    with tenancy.tenant_context(company_id), transaction.atomic():
        connection = CRMConnection.objects.select_for_update().get(pk=connection_id)
        connection.last_error = error[:4000]
        progress = connection.cursor.get("progress", {})
        if progress.get("running"):
            progress.update(running=False, finished_at=_now())
        if pulled:
            connection.last_pull_at = timezone.now()
        connection.save(update_fields=["last_error", "cursor", "last_pull_at"])


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
    oauth_client_id: str = "",
    oauth_client_secret: str = "",
    oauth_code: str = "",
    oauth_redirect_uri: str = "",
) -> CRMConnection:
    """Create or edit a connection; empty secrets keep the stored ones.

    Bitrix24 gives each outbound webhook an application token that it sends with every
    event: it is what the events prove, kept encrypted like the API token. An amoCRM
    authorization code is traded for an OAuth pair in place of the token; one the CRM
    refuses saves nothing.
    """
    with transaction.atomic():
        connection = _configure(
            company=company, vendor=vendor, base_url=base_url, token=token,
            application_token=application_token, active=active, connection=connection,
        )  # fmt: skip
        if oauth_code:
            try:
                oauth.code_exchange(
                    connection=connection, client_id=oauth_client_id.strip(),
                    client_secret=oauth_client_secret.strip(), code=oauth_code.strip(),
                    redirect_uri=oauth_redirect_uri,
                )  # fmt: skip
            except CRMError as error:
                raise ValidationError({"oauth_code": str(error)}) from error
    return connection


def _configure(
    *,
    company: Company,
    vendor: str,
    base_url: str,
    token: str,
    application_token: str,
    active: bool,
    connection: CRMConnection | None,
) -> CRMConnection:
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


def connection_amount_field_set(
    *, connection: CRMConnection, amount_field: str, amount_field_name: str = ""
) -> bool:
    """Read deal amounts from `amount_field` (empty: the standard field). Every deal was read
    from the old one: the next pull reads them all again. True: changed."""
    if connection.amount_field == amount_field:
        if amount_field_name and connection.amount_field_name != amount_field_name:
            connection.amount_field_name = amount_field_name  # renamed in the CRM
            connection.save(update_fields=["amount_field_name"])
        return False
    connection.amount_field = amount_field
    connection.amount_field_name = amount_field_name if amount_field else ""
    deals_reread(connection)
    connection.save(update_fields=["amount_field", "amount_field_name", "cursor"])
    audit_record(
        company=connection.company,
        action=AuditEvent.Action.CRM_SAVED,
        target=f"{connection.get_vendor_display()}: "
        + (_("сумма сделки из поля %(field)s") % {"field": amount_field} if amount_field
           else _("сумма сделки из стандартного поля")),
    )  # fmt: skip
    return True


def connection_leads_set(*, connection: CRMConnection, works_leads: bool) -> bool:
    """The department works leads before deals (or no longer): its «leads created» are then
    the CRM's leads, not its deals. The next pull reads the leads from the start (those
    changed while unread too) and computes again the days the connection's deals and leads
    were created on (`_leads_recount`). True: changed."""
    if works_leads and not isinstance(vendors.vendor_for(connection.vendor), LeadVendor):
        raise ValidationError(
            {"works_leads": _("В amoCRM лиды и есть сделки: созданные лиды считаются по ним.")}
        )
    if connection.works_leads == works_leads:
        return False
    connection.works_leads = works_leads
    if works_leads:
        connection.cursor.pop("leads", None)
    connection.save(update_fields=["works_leads", "cursor"])
    audit_record(
        company=connection.company,
        action=AuditEvent.Action.CRM_SAVED,
        target=f"{connection.get_vendor_display()}: "
        + (_("созданные лиды — по лидам CRM") if works_leads
           else _("созданные лиды — по сделкам")),
    )  # fmt: skip
    return True


def deals_reread(connection: CRMConnection) -> None:
    """The next pull reads every deal again, from the start (the caller saves `cursor`)."""
    connection.cursor.pop("deals", None)


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
