"""The HTTP layer the CRM clients share: a request pace, "slow down" told apart, timeouts.

amoCRM answers 429 above 7 requests a second; Bitrix24 answers 503 with the error
QUERY_LIMIT_EXCEEDED above 2. Such an answer, a 5xx or a dropped connection is raised at
once as `CRMUnavailable`, with the wait the CRM asked for (`Retry-After`) when it named one:
the Celery task is the one back-off layer (crm_sync.tasks), so no request sleeps inside a
task that is itself retried, and the connection's lock is not held through a wait. The
pull's cursor is saved after every page, so a retry goes on where the pull stopped.
"""

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from django.utils.translation import gettext as _

TIMEOUT = httpx.Timeout(20.0, connect=5.0)
# Longest `Retry-After` taken as told: a CRM asking for more is asked again after this.
MAX_RETRY_AFTER = 900.0


class CRMError(Exception):
    """The CRM refused the request for good (bad token, bad portal address)."""


class CRMTokenRefused(CRMError):
    """The CRM did not take the access token: expired or revoked. An OAuth connection
    renews it once (crm_sync.oauth); a long-lived one needs the admin."""


class CRMUnavailable(CRMError):
    """The CRM is down or limiting us: worth trying later, after `retry_after` seconds when
    the CRM said how long (None: the task's own back-off)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Pace:
    """At most one request every `interval` seconds from this client."""

    def __init__(self, interval: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = interval
        self.sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            if self._next > now:
                self.sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


def retry_after(response: httpx.Response) -> float | None:
    """The seconds a `Retry-After` header asks for (a number of seconds; the HTTP-date form
    is not used by either CRM)."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER) if value else None
    except ValueError:
        return None


class CRMHttp:
    """One vendor session: `request` paces, tells "later" from an answer, decodes nothing."""

    def __init__(
        self,
        *,
        base_url: str,
        headers: dict[str, str] | None = None,
        requests_per_second: float,
    ) -> None:
        self.client = httpx.Client(base_url=base_url, headers=headers or {}, timeout=TIMEOUT)
        self.pace = Pace(1 / requests_per_second)

    def close(self) -> None:
        self.client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        is_limited: Callable[[httpx.Response], bool] = lambda r: False,
        **kwargs: Any,
    ) -> httpx.Response:
        self.pace.wait()
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.TransportError as error:
            raise CRMUnavailable(_("CRM недоступна: %(error)s") % {"error": error}) from error
        if response.status_code == 429 or is_limited(response):
            raise CRMUnavailable(
                _("CRM просит снизить частоту запросов (HTTP %(status)s): повторим позже.")
                % {"status": response.status_code},
                retry_after=retry_after(response),
            )
        if response.status_code >= 500:
            raise CRMUnavailable(
                _("CRM ответила HTTP %(status)s: повторим позже.")
                % {"status": response.status_code},
                retry_after=retry_after(response),
            )
        return response
