"""Outgoing webhooks: subscriptions, `emit` (the one place an event is queued) and sending.

An event is written as one delivery row per subscribed address inside the transaction of
the action itself (filing a report, closing a month…): it is sent only if the action is
committed, and never lost if it is. After the commit a task sends them.

Order: each subscription numbers its events (`sequence`, in the body) and sends them one at a
time, oldest first; an event waits while an earlier one of the same subscription is being
retried. An event given up on (failed after every attempt) no longer holds the later ones.
"""

import datetime
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Company, User
from accounts.permissions import require_configure
from salesdesk.statements import Statement
from webhooks import safety
from webhooks.models import Delivery, Event, Subscription

# Seconds to wait after the 1st, 2nd … failed attempt; after the last, the delivery fails.
BACKOFF = (60, 300, 1800, 7200, 43200)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
EXCERPT = 300
USER_AGENT = "Salesdesk-Webhooks/1"
# The advisory locks' first key: the senders of webhooks (the second is the subscription).
LOCK_SPACE = 2501


# --- Subscriptions ------------------------------------------------------------------------


def _check_events(events: list[str]) -> list[str]:
    unknown = [e for e in events if e not in Event.values]
    if unknown or not events:
        raise ValidationError({"events": _("Выберите хотя бы одно событие из списка.")})
    return sorted(set(events))


def _check_url(url: str) -> str:
    try:
        # A name not resolving yet is saved (the receiver may not be online); every attempt
        # checks it again.
        safety.check(url, unresolved_ok=True)
    except safety.UnsafeAddress as error:
        raise ValidationError({"url": str(error)}) from None
    return url


def subscription_create(
    *,
    company: Company,
    actor: User,
    url: str,
    events: list[str],
    description: str = "",
    active: bool = True,
) -> Subscription:
    """A new subscription; its `secret` is readable on the returned object (show it once)."""
    require_configure(actor)
    return Subscription.objects.create(
        company=company,
        url=_check_url(url),
        events=_check_events(events),
        description=description,
        secret=secrets.token_hex(32),
        active=active,
        created_by=actor,
    )


def subscription_update(*, subscription: Subscription, actor: User, **fields: Any) -> Subscription:
    require_configure(actor)
    if "url" in fields:
        subscription.url = _check_url(fields["url"])
    if "events" in fields:
        subscription.events = _check_events(fields["events"])
    for name in ("description", "active"):
        if name in fields:
            setattr(subscription, name, fields[name])
    subscription.save()
    if subscription.active:
        # Deliveries that waited while it was off go now.
        _send_after_commit(subscription)
    return subscription


def subscription_delete(*, subscription: Subscription, actor: User) -> None:
    """Deletes it and its delivery log: nothing more is sent there."""
    require_configure(actor)
    subscription.delete()


# --- Emitting -------------------------------------------------------------------------------


# Every report, deal and call asks (most companies have none): compiled once.
_ACTIVE = Statement(lambda company: Subscription.objects.filter(company=company, active=True))


def emit(
    *,
    company: Company,
    event: str,
    payload: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
    key: str = "",
) -> None:
    """Queues `event` with `payload` (plain JSON) to every active subscription to it.

    Call it inside the action's transaction; the sending starts after the commit. `key`
    names the event's occurrence (a won deal and the moment it was won): the same key is
    queued to a subscription once, however many times the action is saved again. A payload
    that costs queries to build may be passed as a function: it is called once, and only
    when a subscription wants the event (most companies have none).
    """
    event = Event(event).value
    subscriptions = _ACTIVE(company=company.pk)
    event_id = uuid.uuid4()
    built: Mapping[str, Any] | None = None
    for subscription in subscriptions:
        if event not in subscription.events:
            continue
        if built is None:
            built = payload() if callable(payload) else payload
        try:
            with transaction.atomic():
                if (
                    key
                    and Delivery.objects.filter(
                        subscription=subscription, event=event, key=key
                    ).exists()
                ):
                    continue
                # The row lock of this update orders the company's concurrent events.
                Subscription.objects.filter(pk=subscription.pk).update(
                    last_sequence=F("last_sequence") + 1
                )
                subscription.refresh_from_db(fields=["last_sequence"])
                Delivery.objects.create(
                    company=company,
                    subscription=subscription,
                    event_id=event_id,
                    event=event,
                    key=key,
                    sequence=subscription.last_sequence,
                    payload=dict(built),
                    next_attempt_at=timezone.now(),
                )
        except IntegrityError:
            continue  # the same key queued at the same moment by another transaction
        _send_after_commit(subscription)


def _send_after_commit(subscription: Subscription) -> None:
    from webhooks import tasks

    company_id, subscription_id = subscription.company_id, subscription.pk
    transaction.on_commit(lambda: tasks.deliver.delay(company_id, subscription_id))


# --- Sending --------------------------------------------------------------------------------


def body_of(delivery: Delivery) -> bytes:
    """The JSON body sent for `delivery`: the same bytes on every attempt."""
    envelope = {
        "id": str(delivery.event_id),
        "event": delivery.event,
        "created": delivery.created.isoformat(),
        "sequence": delivery.sequence,
        "data": delivery.payload,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


def signature(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def _post(subscription: Subscription, delivery: Delivery) -> tuple[int | None, str]:
    """Sends one attempt: (the HTTP status or None, a short excerpt of the answer or error)."""
    try:
        target = safety.check(subscription.url)
    except safety.UnsafeAddress as error:
        return None, str(error)
    body = body_of(delivery)
    timestamp = str(int(timezone.now().timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Salesdesk-Event": delivery.event,
        "X-Salesdesk-Delivery": str(delivery.code),
        "X-Salesdesk-Timestamp": timestamp,
        "X-Salesdesk-Signature": signature(
            secret=subscription.secret, timestamp=timestamp, body=body
        ),
        "Host": urlsplit(subscription.url).netloc.rsplit("@", 1)[-1],
    }
    parts = urlsplit(subscription.url)
    ip = f"[{target.ip}]" if ":" in target.ip else target.ip
    # To the checked address itself; the name goes in Host and the TLS server name.
    pinned = urlunsplit((target.scheme, f"{ip}:{target.port}", parts.path or "/", parts.query, ""))
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
            request = client.build_request(
                "POST", pinned, content=body, headers=headers, extensions=extensions
            )
            response = client.send(request, stream=True)
            try:
                excerpt = b""
                for chunk in response.iter_raw():
                    excerpt += chunk
                    if len(excerpt) >= EXCERPT:
                        break
            finally:
                response.close()
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}: {error}"[:EXCERPT]
    return response.status_code, excerpt[:EXCERPT].decode("utf-8", "replace")


def _record(delivery: Delivery, status: int | None, excerpt: str, now: datetime.datetime) -> None:
    delivery.attempts += 1
    delivery.last_status = status
    delivery.last_error = excerpt[:EXCERPT]
    if status is not None and 200 <= status < 300:
        delivery.state = Delivery.State.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        delivery.last_error = ""
    elif delivery.attempts > len(BACKOFF):
        delivery.state = Delivery.State.FAILED
        delivery.next_attempt_at = None
    else:
        wait = BACKOFF[delivery.attempts - 1]
        delivery.next_attempt_at = now + datetime.timedelta(seconds=wait)
    delivery.save()


def _sender_lock(subscription_id: int) -> bool:
    """One sender per subscription at a time, which is what keeps the order: a lock held to
    the end of the transaction. Not the subscription's row lock: `emit` takes that one, and
    a report being filed must not wait for a slow receiver."""
    if connection.vendor != "postgresql":
        return True  # the embedded profile sends in-process, one at a time
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [LOCK_SPACE, subscription_id])
        return bool(cursor.fetchone()[0])


def send_next(*, subscription_id: int, now: datetime.datetime | None = None) -> str:
    """Sends the subscription's oldest waiting delivery, if it is due (call it in the company's
    tenant context). Returns "sent" (an attempt was made), "waiting" (the oldest one is not due
    yet, or another worker is sending) or "empty"."""
    now = now or timezone.now()
    with transaction.atomic():
        if not _sender_lock(subscription_id):
            return "waiting"  # another worker is sending this subscription's events
        subscription = Subscription.objects.filter(pk=subscription_id, active=True).first()
        if subscription is None:
            return "empty"
        delivery = (
            Delivery.objects.filter(subscription=subscription, state=Delivery.State.PENDING)
            .order_by("sequence")
            .first()
        )
        if delivery is None:
            return "empty"
        if delivery.next_attempt_at and delivery.next_attempt_at > now:
            return "waiting"
        status, excerpt = _post(subscription, delivery)
        _record(delivery, status, excerpt, now)
        return "sent"
