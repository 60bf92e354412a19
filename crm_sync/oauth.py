"""OAuth 2.0 as the CRMs intend it for a service that many companies connect: amoCRM's
(amocrm.ru/developers/content/oauth/step-by-step, «Пошаговый пример авторизации») and a
Bitrix24 application's (apidocs.bitrix24.ru, «OAuth 2.0 протокол авторизации», through
oauth.bitrix.info), beside the long-lived tokens a connection may still use.

Both issue an access token for a while (amoCRM 24 hours, Bitrix24 one hour) and a refresh
token that works once: each refresh returns a new pair, and the old refresh token is dead.
So a refresh happens under the connection row's lock, and the new pair is saved in that
same transaction: a second process that needed a refresh at the same moment waits for the
lock, finds the pair already renewed and uses it, instead of spending the dead refresh
token and losing the connection.

The pair is kept in `CRMConnection.credentials`, encrypted (accounts.crypto) like a plain
token, as JSON with `"oauth": 1`.
"""

import datetime
import json
from typing import Any

import httpx
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import crypto, tenancy
from crm_sync.models import CRMConnection
from crm_sync.vendors.http import TIMEOUT, CRMError, CRMUnavailable

# Renewed this long before it runs out, so that no page of a pull meets an expired token.
EARLY = datetime.timedelta(minutes=5)
BITRIX24_TOKEN_URL = "https://oauth.bitrix.info/oauth/token/"


def credentials(connection: CRMConnection) -> dict[str, Any] | None:
    """The OAuth pair and its client, or None for a long-lived token."""
    text = crypto.decrypt(connection.credentials) if connection.credentials else ""
    if not text.startswith("{"):
        return None
    data = json.loads(text)
    return data if data.get("oauth") else None


def _store(connection: CRMConnection, data: dict[str, Any]) -> None:
    connection.credentials = crypto.encrypt(json.dumps({**data, "oauth": 1}))


def _token_url(connection: CRMConnection, data: dict[str, Any]) -> str:
    if data.get("token_url"):
        return data["token_url"]
    if connection.vendor == CRMConnection.Vendor.AMOCRM:
        return connection.base_url.rstrip("/") + "/oauth2/access_token"
    return BITRIX24_TOKEN_URL


def _grant(
    connection: CRMConnection, data: dict[str, Any], *, refused: str = "", **grant: str
) -> dict[str, Any]:
    """One call to the token endpoint: the new pair, with when it runs out; `refused`: what
    to tell when the CRM gives none."""
    body = {"client_id": data["client_id"], "client_secret": data["client_secret"], **grant}
    try:
        if connection.vendor == CRMConnection.Vendor.AMOCRM:
            body["redirect_uri"] = data.get("redirect_uri", "")
            response = httpx.post(_token_url(connection, data), json=body, timeout=TIMEOUT)
        else:  # oauth.bitrix.info takes the grant as query parameters
            response = httpx.get(_token_url(connection, data), params=body, timeout=TIMEOUT)
    except httpx.TransportError as error:
        raise CRMUnavailable(_("CRM недоступна: %(error)s") % {"error": error}) from error
    if response.status_code >= 500 or response.status_code == 429:
        raise CRMUnavailable(
            _("CRM ответила HTTP %(status)s: повторим позже.") % {"status": response.status_code}
        )
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code != 200 or "access_token" not in answer:
        raise CRMError(
            refused
            or _(
                "%(crm)s не выдала новый ключ доступа: разрешение отозвано или не "
                "использовалось слишком долго (ключ обновления действует 3 месяца). "
                "Подключите CRM заново."
            )
            % {"crm": connection.get_vendor_display()}
        )
    expires = timezone.now() + datetime.timedelta(seconds=int(answer.get("expires_in", 3600)))
    renewed = {
        **data,
        "access_token": answer["access_token"],
        "refresh_token": answer["refresh_token"],
        "expires_at": expires.isoformat(),
    }
    if answer.get("client_endpoint"):  # Bitrix24: where this portal's REST answers
        renewed["client_endpoint"] = answer["client_endpoint"]
    return renewed


def _expiring(data: dict[str, Any]) -> bool:
    expires = datetime.datetime.fromisoformat(data["expires_at"])
    return expires - EARLY <= timezone.now()


def access_token(connection: CRMConnection, *, stale: str = "") -> str:
    """The token to call the CRM with: a long-lived one as stored; an OAuth access token
    renewed when it runs out soon, or when the CRM refused `stale` (it expired early or was
    revoked and granted again)."""
    data = credentials(connection)
    if data is None:
        return crypto.decrypt(connection.credentials)
    if not _expiring(data) and data["access_token"] != stale:
        return data["access_token"]
    with tenancy.tenant_context(connection.company_id), transaction.atomic():
        # The row lock is the one place a refresh token is spent: whoever comes second
        # finds it renewed.
        locked = CRMConnection.objects.select_for_update().get(pk=connection.pk)
        data = credentials(locked)
        assert data is not None
        if _expiring(data) or data["access_token"] == stale:
            data = _grant(
                locked, data, grant_type="refresh_token", refresh_token=data["refresh_token"]
            )
            _store(locked, data)
            locked.save(update_fields=["credentials"])
        connection.credentials = locked.credentials
    return data["access_token"]


def endpoint(connection: CRMConnection) -> str:
    """Where the CRM's REST answers: a Bitrix24 application's `client_endpoint`."""
    data = credentials(connection)
    return (data or {}).get("client_endpoint") or connection.base_url


def code_exchange(
    *,
    connection: CRMConnection,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str = "",
    token_url: str = "",
) -> CRMConnection:
    """Trades an authorization code (amoCRM: valid 20 minutes, shown in the integration's
    «Ключи и доступы»; Bitrix24: sent to the application's handler) for the first pair."""
    data = {
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": redirect_uri,
        "token_url": token_url,
    }
    refused = _(
        "CRM не приняла код авторизации: он действует 20 минут и только один раз, а ID "
        "интеграции, секретный ключ и Redirect URI должны совпадать с настройками интеграции."
    )
    data = _grant(connection, data, refused=refused, grant_type="authorization_code", code=code)
    _store(connection, data)
    connection.save(update_fields=["credentials"])
    return connection
