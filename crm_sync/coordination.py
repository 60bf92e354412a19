"""What keeps one CRM connection's work in step across processes, in Redis: one lock per
connection, and the deals its webhooks named, waiting for one batched fetch.

The lock: a pull, a webhook batch and their retries never talk to one CRM at once, so
together they keep to the CRM's rate (amoCRM 7 requests a second, Bitrix24 2). The holder
extends it page by page; a worker that dies lets it expire.

The pending ids: a burst of Bitrix24 events (a mass edit sends one per deal) adds ids to a
set; the first of a window also schedules one delayed fetch, which takes the whole set.

Without Redis (the embedded profile runs every task in-process at once) the lock is the
process's own and webhooks fetch right away.
"""

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import redis
from django.conf import settings
from django.utils.translation import gettext as _

from crm_sync.vendors.http import CRMUnavailable

LOCK_SECONDS = 300  # without a page stored for this long, the holder is taken for dead
WEBHOOK_WINDOW = 10  # seconds a webhook's deal waits for the others of its burst
BUSY_RETRY = 15  # a batch finding the connection busy tries again after this


class ConnectionBusy(CRMUnavailable):
    """Another pull or fetch of this connection is running."""

    def __init__(self) -> None:
        super().__init__(
            _("Эта CRM уже загружается: повторим после окончания."), retry_after=BUSY_RETRY
        )


_local_locks: set[int] = set()
_local_pending: dict[int, set[str]] = {}
_local_guard = threading.Lock()


def _redis() -> redis.Redis | None:
    return redis.Redis.from_url(settings.REDIS_URL) if settings.REDIS_URL else None


def _key(kind: str, connection_id: int) -> str:
    return f"crm_sync:{kind}:{connection_id}"


@contextmanager
def connection_lock(connection_id: int) -> Iterator[Callable[[], object]]:
    """Held while the body runs, or `ConnectionBusy` at once; yields `keep()`, which the
    holder calls after each page so that a long first sync keeps it."""
    client = _redis()
    if client is None:
        with _local_guard:
            if connection_id in _local_locks:
                raise ConnectionBusy
            _local_locks.add(connection_id)
        try:
            yield lambda: None
        finally:
            _local_locks.discard(connection_id)
        return
    lock = client.lock(_key("lock", connection_id), timeout=LOCK_SECONDS, blocking=False)
    if not lock.acquire(token=uuid.uuid4().hex.encode()):
        raise ConnectionBusy
    try:
        yield lock.reacquire
    finally:
        # Expired and maybe taken by another: it is not ours to release.
        with contextlib.suppress(redis.exceptions.LockError):
            lock.release()


def pending_add(connection_id: int, ids: list[str]) -> bool:
    """Notes deals to fetch; True when no batch is scheduled yet for them (the caller
    schedules one, `WEBHOOK_WINDOW` seconds from now)."""
    client = _redis()
    if client is None:
        with _local_guard:
            _local_pending.setdefault(connection_id, set()).update(ids)
        return True
    with client.pipeline() as pipe:
        pipe.sadd(_key("pending", connection_id), *ids)
        # The flag outlives a lost task: after it, the next event schedules a batch again.
        pipe.set(_key("scheduled", connection_id), 1, nx=True, ex=WEBHOOK_WINDOW + LOCK_SECONDS)
        _added, scheduled = pipe.execute()
    return bool(scheduled)


def pending_take(connection_id: int) -> list[str]:
    """Every id waiting, removed from the set. The flag goes first, so an event after
    this schedules a batch of its own."""
    client = _redis()
    if client is None:
        with _local_guard:
            return sorted(_local_pending.pop(connection_id, set()), key=lambda i: (len(i), i))
    client.delete(_key("scheduled", connection_id))
    with client.pipeline() as pipe:  # MULTI: nothing added between the read and the delete
        pipe.smembers(_key("pending", connection_id))
        pipe.delete(_key("pending", connection_id))
        members, _deleted = pipe.execute()
    return sorted((m.decode() for m in members), key=lambda i: (len(i), i))


def pending_return(connection_id: int, ids: list[str]) -> None:
    """Puts back the ids of a batch that could not be fetched (the CRM down, busy)."""
    if ids:
        pending_add(connection_id, ids)
