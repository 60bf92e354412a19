"""What a PBX vendor supplies to the receiver (`telephony.views.receive`).

A vendor module knows its documented webhook: how a request proves it comes from the
company's PBX (a signature with the secret the PBX issued, or only our URL's secret where
the vendor signs nothing), how to answer a URL check, what its events say about a call, and
what reply keeps the PBX sending. Each event becomes an `Event` of plain facts; storing,
refusing replays, merging a call's events and finding the manager are the receiver's, the
same for every vendor.
"""

import datetime
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.http import HttpRequest, HttpResponse


class BadPayload(ValueError):
    """The request is signed (or carries our secret) but is not an event we can read."""


@dataclass
class Event:
    """One event of one call. `facts` hold what it says, only the keys it knows:

    direction ("in"/"out"), started_at (aware datetime), duration (talk seconds),
    answered (bool), ended (bool: the call is over, so it can be counted), extension,
    sip_login, number (ours: whom the PBX names), phone (the client's), recording_url.
    """

    call_id: str
    event_id: str  # the same request twice has the same id: a replay
    occurred_at: datetime.datetime
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Secrets:
    """What the company's PBX issued to it (Mango's key and salt, Zadarma's key and secret)."""

    key: str
    secret: str


class Vendor(Protocol):
    code: str  # telephony.models.PBXConnection.Vendor
    # Whether the vendor signs its requests; if not, only the URL's secret proves them.
    signs: bool

    def handshake(self, request: HttpRequest) -> HttpResponse | None:
        """The answer to the vendor's URL check, or None for an ordinary event."""
        ...

    def verify(self, request: HttpRequest, secrets: Secrets) -> bool: ...

    def events(self, request: HttpRequest, *, path: str, zone: datetime.tzinfo) -> list[Event]:
        """The events of one request; `path` is what the vendor appended to our URL, `zone`
        the company's, for times the vendor sends without an offset."""
        ...

    def reply(self) -> HttpResponse:
        """What the vendor expects back from a request that was taken (or a replay)."""
        ...


def services_now() -> datetime.datetime:
    """The receiver's clock, for an event that names no time of its own."""
    from telephony import services  # the services import the vendors

    return services._now()


def digest(*parts: Any) -> str:
    """An event id from the parts that make it unique (its signed content)."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def unix(value: Any) -> datetime.datetime:
    try:
        return datetime.datetime.fromtimestamp(int(float(value)), tz=datetime.UTC)
    except (TypeError, ValueError, OverflowError, OSError) as error:
        raise BadPayload(f"not a Unix time: {value!r}") from error


def local(value: Any, zone: datetime.tzinfo) -> datetime.datetime:
    """ "2026-12-06 14:03:11" as the vendor's cabinet shows it: on the company's clock."""
    try:
        moment = datetime.datetime.fromisoformat(str(value).strip())
    except ValueError as error:
        raise BadPayload(f"not a time: {value!r}") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def whole(value: Any) -> int:
    try:
        return max(int(float(value or 0)), 0)
    except (TypeError, ValueError) as error:
        raise BadPayload(f"not a number: {value!r}") from error


def link(value: Any) -> str:
    text = str(value or "").strip()
    return text if text.startswith(("https://", "http://")) and len(text) <= 1000 else ""


def fields(request: HttpRequest) -> dict[str, str]:
    """A form post's fields, or a GET's query (Sipuni sends either)."""
    data = request.POST if request.method == "POST" else request.GET
    return {key: data.get(key, "") for key in data}
