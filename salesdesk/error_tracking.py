"""Error tracking through sentry-sdk (sentry.io, self-hosted Sentry and GlitchTip speak the
same protocol), on when SENTRY_DSN is set.

Events carry no personal data (the SDK's default: no user, no address, no cookies) and
`scrub` masks secrets wherever they may sit: a key or header named like one (password,
token, Authorization, Cookie, …) loses its value, and every string is passed through the log
filter's patterns (accounts.log_filters) and stripped of the installation's own secrets
(SECRET_KEY, the CRM keys, the database and mail passwords) — the same promise the logs keep.
"""

import re
from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

from accounts.log_filters import MASK, mask

SECRET_NAMES = re.compile(
    r"(?i)password|passwd|pwd|secret|token|api[_-]?key|apikey|credentials|authorization"
    r"|cookie|session|csrf|dsn|fernet|private[_-]?key|crm_credentials_key"
)


def _installation_secrets() -> list[str]:
    from django.conf import settings

    values = [settings.SECRET_KEY, settings.SENTRY_DSN]
    values += [key.strip() for key in settings.CRM_CREDENTIALS_KEY.split(",")]
    values += [str(settings.DATABASES["default"].get("PASSWORD") or "")]
    values += [str(mailer.get("OPTIONS", {}).get("password") or "") for mailer in
               settings.MAILERS.values()]  # fmt: skip
    # Short values would mask ordinary words.
    return sorted({value for value in values if len(value) >= 8}, key=len, reverse=True)


def _clean(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, dict):
        return {
            key: MASK
            if isinstance(key, str) and SECRET_NAMES.search(key) and item not in (None, "")
            else _clean(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        # Headers and cookies may come as [name, value] pairs.
        if (
            len(value) == 2
            and isinstance(value[0], str)
            and SECRET_NAMES.search(value[0])
            and value[1] not in (None, "")
        ):
            return [value[0], MASK]
        return [_clean(item, secrets) for item in value]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASK)
        return mask(value)
    return value


def scrub(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """sentry-sdk's before_send (and before_send_transaction): the event, secrets masked."""
    request = event.get("request")
    if isinstance(request, dict):
        # Whatever the SDK collected: cookies and the raw body never leave.
        request.pop("cookies", None)
        if request.get("data") and not isinstance(request["data"], dict):
            request["data"] = MASK
    return _clean(event, _installation_secrets())


def sentry_init(
    *, dsn: str, environment: str, traces_sample_rate: float = 0.0, **options: Any
) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # No personal data: send_default_pii (deprecated in 2.7x) and data_collection left
        # unset mean off, and keep the SDK's own EventScrubber on under `scrub`.
        traces_sample_rate=traces_sample_rate,
        before_send=scrub,
        before_send_transaction=scrub,
        **options,
    )
