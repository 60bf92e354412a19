"""What a CRM vendor supplies, and what `crm_sync.connectors` gives it in return.

A vendor (`amocrm`, `bitrix24`) knows its REST dialect and its payloads: how to page
through records changed since a cursor, what a deal or call looks like, how its webhooks
prove themselves and what they carry. It maps each payload to `DealData` / `CallData`,
resolving stages, managers and clients through a `Lookup` (the connectors' `Mapping` of the
company). Everything else, the cursor, transactions, storing, counting and errors, is the
connectors' and the same for every vendor.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from crm_sync.models import Client, CRMConnection, PipelineStage
from crm_sync.services import CallData, DealData, LeadData

if TYPE_CHECKING:
    from crm_sync.vendors.reference import Reference


class Skip(Exception):
    """This record cannot be stored yet (an unmapped stage); the reason goes to last_error."""


class Ignored(Skip):
    """This record is not ours to store (a deal of a pipeline the admin did not choose): no
    error, and not fetched again."""


class Lookup(Protocol):
    """One company's stages, users and clients, as a payload's ids name them, and what the
    CRM's codes and amounts mean (`reference`)."""

    reference: "Reference"

    def manager(self, crm_user_id: Any) -> User | None: ...

    def stage(
        self, external_id: str, *, closing: str | None = None, pipeline: Any = None
    ) -> PipelineStage:
        """The mapped stage; else, for a closing status, the first won or lost stage;
        else `Skip`. With the pipeline named, a deal of an unchosen pipeline is `Ignored`
        and its statuses are looked up among that pipeline's links."""
        ...

    def client(self, *, external_id: Any, name: str = "", phone: str = "") -> Client | None: ...


@dataclass
class Stream:
    """One kind of record pulled page by page, each page stored with its cursor."""

    key: str
    is_deal: bool
    pages: Callable[[Any], Iterable[list[dict]]]  # since the cursor value (None: everything)
    modified: Callable[[dict], Any]  # the cursor value: a timestamp or an ISO date
    record_id: Callable[[dict], str]
    # The contacts a page's deals name, by id, fetched once per page.
    contacts: Callable[[list[dict]], dict[str, dict]] = lambda records: {}
    order: Callable[[Any], Any] = lambda value: value  # cursor values, comparable
    # Deals the CRM deleted (their ids are `record_id`s): removed, not stored.
    deletions: bool = False
    is_lead: bool = False  # leads kept apart from deals (`LeadVendor.lead_stream`)

    @property
    def label(self) -> str:
        if self.deletions:
            return _("Удалённая сделка")
        if self.is_lead:
            return _("Лид")
        return _("Сделка") if self.is_deal else _("Звонок")


@dataclass
class Record:
    """One deal or call of a webhook; `data` maps it once the company's lookups are ready
    (a payload it cannot read raises, and the record is skipped with the reason)."""

    is_deal: bool
    record_id: Any
    data: Callable[[Lookup], DealData | CallData]

    @property
    def label(self) -> str:
        return _("Сделка") if self.is_deal else _("Звонок")


@dataclass
class Inbound:
    """What one webhook brings: records to store now, and the ids of deals to fetch (an
    event that names a deal without its fields)."""

    records: list[Record] = field(default_factory=list)
    deal_ids: list[str] = field(default_factory=list)
    deleted_deal_ids: list[str] = field(default_factory=list)
    # Leads (a `LeadVendor`'s): to fetch, and deleted.
    lead_ids: list[str] = field(default_factory=list)
    deleted_lead_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CRMStatus:
    """A status (amoCRM) or stage (Bitrix24) of one pipeline; `kind` a PipelineStage.Kind
    (won and lost from the CRM's own semantics, not the name)."""

    id: str
    name: str
    kind: str


@dataclass(frozen=True)
class CRMPipeline:
    """An amoCRM pipeline or a Bitrix24 deal category, its statuses in the CRM's order."""

    id: str
    name: str
    statuses: list[CRMStatus]
    is_main: bool = False


@dataclass(frozen=True)
class CRMUser:
    id: str
    name: str
    email: str = ""


@dataclass(frozen=True)
class StageEvent:
    """A deal reached a status at a moment (the CRM's stage history)."""

    deal_id: str
    pipeline_id: str
    status_id: str
    at: datetime.datetime
    kind: str | None = None  # the closing kind the CRM gives the status, if any
    # The status it left (amoCRM names it on each move; Bitrix24 has a creation record).
    before: tuple[str, str] | None = None  # (pipeline id, status id)
    cursor: Any = None  # where the next pull of the history starts (JSON)


class HttpClient(Protocol):
    def close(self) -> None: ...


ClientT = TypeVar("ClientT", bound=HttpClient)


@runtime_checkable
class Vendor(Protocol[ClientT]):
    """One CRM. `ClientT` is its HTTP client, which only the vendor itself calls."""

    kind: str  # CRMConnection.Vendor
    source: str  # crm_sync.models.Source its records are stored under

    def connect(self, *, base_url: str, token: str, **http: Any) -> ClientT:
        """A paced, retrying session with the portal; the caller closes it."""
        ...

    def users(self, client: ClientT) -> dict[str, str]:
        """The CRM's users: their id → e-mail (empty when the CRM has none)."""
        ...

    def streams(self, client: ClientT, *, pipelines: list[str] | None = None) -> list[Stream]:
        """Deals, then calls; the deals of these pipelines only (None: of every one), asked
        of the CRM in the request, so a pipeline not chosen is not downloaded."""
        ...

    def pipelines(self, client: ClientT) -> list[CRMPipeline]:
        """The CRM's deal pipelines with their statuses, for the admin to choose and map."""
        ...

    def user_list(self, client: ClientT) -> list[CRMUser]:
        """The CRM's users with names, for the admin to match to ours."""
        ...

    def stage_history(
        self, client: ClientT, *, since: Any = None, deal_ids: list[str] | None = None
    ) -> Iterable[list[StageEvent]]:
        """Pages of stage moves, oldest first: every one (since None), those from the
        cursor value `since` on (`StageEvent.cursor`), or those of these deals."""
        ...

    def catalog(self, client: ClientT) -> dict[str, Any]:
        """The CRM's reference lists a deal's codes are read with (`vendors.reference`): a
        part of the connection's one cache (`crm_sync.catalog`), so no key may be one of
        its own (pipelines, people, amount_fields, refreshed_at)."""
        ...

    def amount_fields(self, client: ClientT) -> list[tuple[str, str]]:
        """The deal fields that can hold its amount, besides the standard one: (id, name)."""
        ...

    def fetch_deals(
        self, client: ClientT, ids: list[str], *, pipelines: list[str] | None = None
    ) -> list[dict]:
        """These deals, those of the pipelines named (None: any) only."""
        ...

    def deal_from_payload(
        self, lookup: Lookup, payload: dict, contacts: dict[str, dict]
    ) -> DealData: ...

    def call_from_payload(self, lookup: Lookup, payload: dict) -> CallData: ...

    def verify_webhook(self, *, connection: CRMConnection, payload: dict, secret: str) -> bool:
        """Whether the request comes from this connection's portal; `secret` is the one in
        the webhook's URL (empty where the URL carries none)."""
        ...

    def webhook(self, payload: dict) -> Inbound: ...


@runtime_checkable
class LeadVendor(Protocol[ClientT]):
    """A CRM that keeps leads apart from deals (Bitrix24): a lead is worked first and
    converted into a deal, or thrown out. amoCRM is none: its leads are its deals.

    Its webhook names leads to fetch and leads deleted (`Inbound.lead_ids`,
    `deleted_lead_ids`); the connectors read them only for a connection that counts leads
    (`CRMConnection.counts_leads`)."""

    def keeps_leads(self, client: ClientT) -> bool:
        """Whether the portal works with leads now (a CRM mode without them: False)."""
        ...

    def lead_stream(self, client: ClientT) -> Stream:
        """Leads changed since a cursor value, like the deals."""
        ...

    def fetch_leads(self, client: ClientT, ids: list[str]) -> list[dict]: ...

    def lead_from_payload(self, lookup: Lookup, payload: dict) -> LeadData: ...


# --- Reading payloads -----------------------------------------------------------------------


def moment(timestamp: Any) -> datetime.datetime | None:
    """A Unix timestamp (number or string); none for 0 or empty."""
    if timestamp in (None, "", 0, "0"):
        return None
    return datetime.datetime.fromtimestamp(int(timestamp), tz=datetime.UTC)


def iso(text: str | None) -> datetime.datetime | None:
    """An ISO 8601 time; one without an offset is read in the current time zone."""
    if not text:
        return None
    value = datetime.datetime.fromisoformat(text)
    return value if value.tzinfo else timezone.make_aware(value)


def amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value or 0))
    except InvalidOperation:
        return Decimal(0)
