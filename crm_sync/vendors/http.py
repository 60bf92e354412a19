"""The HTTP layer the CRM clients share: a request pace, back-off on "slow down", timeouts.

amoCRM answers 429 above 7 requests a second; Bitrix24 answers 503 with the error
QUERY_LIMIT_EXCEEDED above 2. Both are told apart from real failures here, waited out a
bounded number of times, and then reported as `CRMUnavailable`, which the Celery task
retries later with its own back-off.
"""

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from django.utils.translation import gettext as _

TIMEOUT = httpx.Timeout(20.0, connect=5.0)


class CRMError(Exception):
    """The CRM refused the request for good (bad token, bad portal address)."""


class CRMUnavailable(CRMError):
    """The CRM is down or still limiting us after every retry: worth trying later."""


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


class CRMHttp:
    """One vendor session: `request` paces, retries what is worth retrying, decodes JSON."""

    def __init__(
        self,
        *,
        base_url: str,
        headers: dict[str, str] | None = None,
        requests_per_second: float,
        attempts: int = 5,
        backoff: float = 1.0,
    ) -> None:
        self.client = httpx.Client(base_url=base_url, headers=headers or {}, timeout=TIMEOUT)
        self.pace = Pace(1 / requests_per_second)
        self.attempts = attempts
        self.backoff = backoff

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
        for attempt in range(self.attempts):
            self.pace.wait()
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.TransportError as error:
                if attempt == self.attempts - 1:
                    raise CRMUnavailable(
                        _("CRM недоступна: %(error)s") % {"error": error}
                    ) from error
                time.sleep(self._delay(attempt, None))
                continue
            limited = response.status_code == 429 or is_limited(response)
            if not limited and response.status_code < 500:
                return response
            if attempt < self.attempts - 1:
                time.sleep(self._delay(attempt, response))
        raise CRMUnavailable(
            _("CRM ответила HTTP %(status)s и после %(attempts)s попыток.")
            % {"status": response.status_code, "attempts": self.attempts}
        )

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        retry_after = response.headers.get("Retry-After", "") if response is not None else ""
        if retry_after.isdigit():
            return min(float(retry_after), 60.0)
        return self.backoff * 2**attempt
