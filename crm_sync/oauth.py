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

The admin's way in is the vendors' own: this installation's application (its client id and
secret from the environment, `settings.AMOCRM_CLIENT_ID`, `BITRIX24_CLIENT_ID`…) sends the
admin to the CRM to grant access, and the CRM sends them back to our callback with a code
(amocrm.ru/developers/content/api/auth «Авторизация в публичных интеграциях»: `code`,
`referer`, `state`; apidocs.bitrix24.ru «Полный протокол авторизации OAuth 2.0»: `code`,
`state`, `domain`, `member_id`, `scope`, `server_domain`). The `state` we send is signed,
names the admin's company, and its nonce waits in the admin's session until it is used
once; it expires after `STATE_MAX_AGE`. The host a callback names for the token exchange
(amoCRM's `referer`, Bitrix24's `server_domain`) must be one the settings allow: the
exchange carries our client secret.

A refresh the CRM refuses for good (revoked, or unused too long: amoCRM's refresh token
lives 3 months, Bitrix24's 180 days) marks the pair expired, so that no pull spends another
request on it and the connection page says «Подключение истекло — подключите заново».
"""

import datetime
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import crypto, tenancy
from accounts.audit import audit_record
from accounts.models import AuditEvent, Company
from crm_sync import services
from crm_sync.models import CRMConnection
from crm_sync.vendors.http import TIMEOUT, CRMError, CRMUnavailable

# Renewed this long before it runs out, so that no page of a pull meets an expired token.
EARLY = datetime.timedelta(minutes=5)
BITRIX24_TOKEN_URL = "https://oauth.bitrix.info/oauth/token/"
# How long a refresh token lives unused: amoCRM 3 months (oauth/step-by-step), Bitrix24
# 180 days (apidocs.bitrix24.ru «Автоматическое продление токенов OAuth 2.0»).
REFRESH_LIFETIME = {
    CRMConnection.Vendor.AMOCRM: datetime.timedelta(days=90),
    CRMConnection.Vendor.BITRIX24: datetime.timedelta(days=180),
}
# What the sync reads from a Bitrix24 portal (crm_sync.vendors.bitrix24.SCOPES).
BITRIX24_SCOPES = ("crm", "user", "telephony")
STATE_SALT = "crm_sync.oauth.state"
STATE_MAX_AGE = 600  # seconds: amoCRM's code lives 20 minutes, the admin needs a few
SESSION_KEY = "crm_oauth_states"
HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$")


class OAuthExpired(CRMError):
    """The CRM will not renew the pair: the admin connects again."""


class AuthorizationRefused(Exception):
    """A callback we do not take (forged, replayed, expired, another company's, an unknown
    host): nothing is stored; the message is the admin's."""


@dataclass(frozen=True)
class App:
    """This installation's OAuth application at a CRM, from the environment."""

    vendor: str
    client_id: str
    client_secret: str


def app_for(vendor: str) -> App | None:
    """The vendor's application, or None when the installation has none configured."""
    prefix = {CRMConnection.Vendor.AMOCRM: "AMOCRM", CRMConnection.Vendor.BITRIX24: "BITRIX24"}
    if vendor not in prefix:
        return None
    client_id = getattr(settings, f"{prefix[vendor]}_CLIENT_ID", "")
    client_secret = getattr(settings, f"{prefix[vendor]}_CLIENT_SECRET", "")
    return App(vendor, client_id, client_secret) if client_id and client_secret else None


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


def _client(connection: CRMConnection, data: dict[str, Any]) -> tuple[str, str]:
    """The pair was granted to the company's own integration (its keys kept with it), or to
    this installation's application (`"app": 1`, its keys read from the settings now)."""
    if data.get("app"):
        app = app_for(connection.vendor)
        if app is None:
            raise CRMError(
                _(
                    "Приложение %(crm)s не настроено на этом сервере (нет ID и секрета "
                    "клиента в настройках): обратитесь к администратору Salesdesk."
                )
                % {"crm": connection.get_vendor_display()}
            )
        return app.client_id, app.client_secret
    return data["client_id"], data["client_secret"]


def _grant(
    connection: CRMConnection, data: dict[str, Any], *, refused: str = "", **grant: str
) -> dict[str, Any]:
    """One call to the token endpoint: the new pair, with when it runs out; `refused`: what
    to tell when the CRM gives none."""
    client_id, client_secret = _client(connection, data)
    body = {"client_id": client_id, "client_secret": client_secret, **grant}
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
    if not isinstance(answer, dict):
        answer = {}
    if response.status_code == 403:
        # Both block the address of a client that keeps exceeding their limits; the pair
        # itself may be fine, so it is not marked expired.
        raise CRMError(
            _(
                "%(crm)s отказала в доступе к выдаче ключей (HTTP 403): IP-адрес сервера "
                "Salesdesk, похоже, заблокирован. Ключ при этом может быть верным; "
                "обратитесь в поддержку CRM."
            )
            % {"crm": connection.get_vendor_display()}
        )
    if answer.get("error") == "PAYMENT_REQUIRED":  # apidocs.bitrix24.ru «Коды ошибок»
        raise CRMError(
            _(
                "Битрикс24 не продлевает доступ: у приложения истёк пробный или оплаченный "
                "период. Продлите его оплату в Битрикс24."
            )
        )
    if response.status_code != 200 or "access_token" not in answer:
        raise OAuthExpired(refused or _expired_message(connection))
    now = timezone.now()
    expires = now + datetime.timedelta(seconds=int(answer.get("expires_in", 3600)))
    renewed = {
        **data,
        "access_token": answer["access_token"],
        "refresh_token": answer["refresh_token"],
        "expires_at": expires.isoformat(),
        "issued_at": now.isoformat(),
    }
    renewed.pop("expired_at", None)
    if answer.get("client_endpoint"):  # Bitrix24: where this portal's REST answers
        renewed["client_endpoint"] = answer["client_endpoint"]
    if answer.get("scope") and answer["scope"] != "app":  # Bitrix24: what the portal granted
        renewed["scope"] = answer["scope"]
    return renewed


def _expiring(data: dict[str, Any]) -> bool:
    expires = datetime.datetime.fromisoformat(data["expires_at"])
    return expires - EARLY <= timezone.now()


def access_token(connection: CRMConnection, *, stale: str = "") -> str:
    """The token to call the CRM with: a long-lived one as stored; an OAuth access token
    renewed when it runs out soon, or when the CRM refused `stale` (it expired early or was
    revoked and granted again). `OAuthExpired` once the CRM refused to renew the pair."""
    data = credentials(connection)
    if data is None:
        return crypto.decrypt(connection.credentials)
    if data.get("expired_at"):
        raise OAuthExpired(_expired_message(connection))
    if not _expiring(data) and data["access_token"] != stale:
        return data["access_token"]
    try:
        with tenancy.tenant_context(connection.company_id), transaction.atomic():
            # The row lock is the one place a refresh token is spent: whoever comes second
            # finds it renewed.
            locked = CRMConnection.objects.select_for_update().get(pk=connection.pk)
            data = credentials(locked)
            assert data is not None
            if data.get("expired_at"):
                raise OAuthExpired(_expired_message(connection))
            if _expiring(data) or data["access_token"] == stale:
                data = _grant(
                    locked, data, grant_type="refresh_token", refresh_token=data["refresh_token"]
                )
                _store(locked, data)
                locked.save(update_fields=["credentials"])
            connection.credentials = locked.credentials
    except OAuthExpired:
        _mark_expired(connection, refresh_token=data["refresh_token"])
        raise
    return data["access_token"]


def _expired_message(connection: CRMConnection) -> str:
    lifetime = (
        _("180 дней") if connection.vendor == CRMConnection.Vendor.BITRIX24 else _("3 месяцев")
    )
    return _(
        "%(crm)s не выдала новый ключ доступа: разрешение отозвано или не использовалось "
        "дольше %(lifetime)s. Подключите CRM заново."
    ) % {"crm": connection.get_vendor_display(), "lifetime": lifetime}


def _mark_expired(connection: CRMConnection, *, refresh_token: str) -> None:
    """Marks the pair whose refresh the CRM refused, unless another process renewed it."""
    with tenancy.tenant_context(connection.company_id), transaction.atomic():
        locked = CRMConnection.objects.select_for_update().get(pk=connection.pk)
        data = credentials(locked)
        if data is None or data.get("refresh_token") != refresh_token or data.get("expired_at"):
            return
        _store(locked, {**data, "expired_at": timezone.now().isoformat()})
        locked.save(update_fields=["credentials"])
        connection.credentials = locked.credentials


@dataclass
class Status:
    """What the connection page tells of an OAuth connection."""

    expired: bool
    missing_scopes: list[str] = field(default_factory=list)
    refresh_until: datetime.datetime | None = None  # if nothing renews it meanwhile


def status(connection: CRMConnection) -> Status | None:
    """None for a long-lived token (or one that no longer decrypts)."""
    try:
        data = credentials(connection)
    except ValueError:
        return None
    if data is None:
        return None
    missing = []
    if connection.vendor == CRMConnection.Vendor.BITRIX24 and data.get("scope"):
        granted = {part.strip() for part in str(data["scope"]).split(",")}
        missing = [scope for scope in BITRIX24_SCOPES if scope not in granted]
    until = None
    if data.get("issued_at") and connection.vendor in REFRESH_LIFETIME:
        issued = datetime.datetime.fromisoformat(data["issued_at"])
        until = issued + REFRESH_LIFETIME[connection.vendor]
    return Status(expired=bool(data.get("expired_at")), missing_scopes=missing, refresh_until=until)


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


# --- The admin's authorization ---------------------------------------------------------------


def state_issue(*, session: SessionBase, company: Company, vendor: str) -> str:
    """A `state` for one trip to the CRM: signed (so nobody makes one up), naming the
    company, with a nonce kept in this session until the callback spends it."""
    nonce = secrets.token_urlsafe(18)
    # A few at most: an admin may open the CRM in two tabs, not a hundred.
    session[SESSION_KEY] = [*session.get(SESSION_KEY, [])[-4:], nonce]
    payload = {"n": nonce, "c": str(company.code), "v": vendor}
    return signing.dumps(payload, salt=STATE_SALT, compress=True)


def state_take(*, session: SessionBase, state: str, company: Company, vendor: str) -> None:
    """Checks a callback's `state` and spends it; `AuthorizationRefused` says why not."""
    try:
        payload = signing.loads(state, salt=STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.SignatureExpired:
        raise AuthorizationRefused(
            _(
                "Ссылка авторизации устарела (она действует 10 минут): доступ не сохранён. "
                "Нажмите «Подключить» ещё раз."
            )
        ) from None
    except signing.BadSignature:
        payload = None
    if not isinstance(payload, dict) or payload.get("v") != vendor or "n" not in payload:
        raise AuthorizationRefused(
            _(
                "Ответ CRM не прошёл проверку: параметр state подделан или повреждён. Доступ "
                "не сохранён; начните подключение заново на этой странице."
            )
        )
    if payload.get("c") != str(company.code):
        raise AuthorizationRefused(
            _("Эта авторизация начата для другой компании: доступ не сохранён.")
        )
    pending = session.get(SESSION_KEY, [])
    nonce = str(payload["n"])
    # The session says "issued here and not used yet"; the cache makes spending it atomic
    # when the same callback arrives twice at once.
    if nonce not in pending or not cache.add(f"crm_sync:oauth-state:{nonce}", 1, STATE_MAX_AGE):
        raise AuthorizationRefused(
            _(
                "Эта ссылка авторизации уже использована или начата в другом сеансе входа: "
                "доступ не сохранён. Начните подключение заново на этой странице."
            )
        )
    session[SESSION_KEY] = [n for n in pending if n != nonce]


def authorize_url(*, vendor: str, state: str, portal: str = "") -> str:
    """Where the admin grants access: amoCRM's page that lists their accounts (the button's
    `mode=post_message` opens our callback in the same window), or the Bitrix24 portal's
    own /oauth/authorize/ (`portal`: its origin, https://company.bitrix24.ru)."""
    app = app_for(vendor)
    assert app is not None
    if vendor == CRMConnection.Vendor.AMOCRM:
        query = {"client_id": app.client_id, "state": state, "mode": "post_message"}
        return f"{settings.AMOCRM_OAUTH_URL}?{urlencode(query)}"
    query = {"client_id": app.client_id, "state": state}
    return f"{portal.rstrip('/')}/oauth/authorize/?{urlencode(query)}"


def _amocrm_account(referer: str) -> str:
    """The account's origin a callback's `referer` names, if it is an amoCRM/Kommo account:
    the code is exchanged there, with our client secret."""
    host = referer.strip().lower()
    allowed = [domain.lower() for domain in settings.AMOCRM_ACCOUNT_DOMAINS]
    if not HOST.match(host) or not any(
        host == domain or host.endswith("." + domain) for domain in allowed
    ):
        raise AuthorizationRefused(
            _("amoCRM вернула неизвестный адрес аккаунта «%(host)s»: доступ не сохранён.")
            % {"host": referer[:100]}
        )
    scheme = urlsplit(settings.AMOCRM_OAUTH_URL).scheme or "https"
    return f"{scheme}://{host}"


def _bitrix24_server(server_domain: str) -> str:
    """The authorization server a callback's `server_domain` names, if it is one of
    Bitrix24's (oauth.bitrix.info, oauth.bitrix24.tech)."""
    for server in settings.BITRIX24_OAUTH_SERVERS:
        if urlsplit(server).netloc.lower() == server_domain.strip().lower():
            return server.rstrip("/")
    raise AuthorizationRefused(
        _("Битрикс24 вернул неизвестный сервер авторизации «%(host)s»: доступ не сохранён.")
        % {"host": server_domain[:100]}
    )


def origin(url: str) -> str:
    """https://portal.example from any address on it."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass
class Authorized:
    connection: CRMConnection
    created: bool
    missing_scopes: list[str]


def connection_authorize(
    *,
    company: Company,
    vendor: str,
    code: str,
    redirect_uri: str,
    referer: str = "",
    server_domain: str = "",
    scope: str = "",
) -> Authorized:
    """Trades the code a callback brought for this installation's application's first pair
    and keeps it on the company's connection of that CRM (made now if there is none). A
    connection to another account or portal is left as it is: `AuthorizationRefused`."""
    app = app_for(vendor)
    if app is None:
        raise AuthorizationRefused(
            _("Подключение через %(crm)s не настроено на этом сервере.")
            % {"crm": CRMConnection.Vendor(vendor).label}
        )
    existing = CRMConnection.objects.filter(company=company, vendor=vendor).first()
    data: dict[str, Any] = {"app": 1}
    if vendor == CRMConnection.Vendor.AMOCRM:
        base_url = _amocrm_account(referer)
        data.update(redirect_uri=redirect_uri, token_url=f"{base_url}/oauth2/access_token")
        _same_portal(existing, base_url)
    else:
        data["token_url"] = f"{_bitrix24_server(server_domain)}/oauth/token/"
    probe = existing or CRMConnection(company=company, vendor=vendor)
    refused = _(
        "%(crm)s не приняла код авторизации (он действует недолго и один раз): доступ не "
        "сохранён. Нажмите «Подключить» ещё раз."
    ) % {"crm": probe.get_vendor_display()}
    data = _grant(probe, data, refused=refused, grant_type="authorization_code", code=code)
    if vendor == CRMConnection.Vendor.BITRIX24:
        base_url = origin(data.get("client_endpoint", ""))
        if not data.get("client_endpoint"):
            raise AuthorizationRefused(refused)
        _same_portal(existing, base_url)
        if scope:  # what the portal granted, as the redirect listed it
            data["scope"] = scope
    with transaction.atomic():
        if existing is None:
            connection = services.connection_save(company=company, vendor=vendor, base_url=base_url)
        else:
            connection = CRMConnection.objects.select_for_update().get(pk=existing.pk)
            connection.base_url = base_url
            audit_record(
                company=company,
                action=AuditEvent.Action.CRM_SAVED,
                target=f"{connection.get_vendor_display()} {base_url} (OAuth 2.0)",
            )
        _store(connection, data)
        connection.last_error = ""  # it was about the old key
        connection.save(update_fields=["credentials", "base_url", "last_error"])
    missing = status(connection).missing_scopes  # type: ignore[union-attr]
    return Authorized(connection=connection, created=existing is None, missing_scopes=missing)


def _same_portal(existing: CRMConnection | None, base_url: str) -> None:
    """Another account's or portal's ids would mix with the stored ones: not silently."""
    if existing is None:
        return
    new, old = urlsplit(base_url).netloc.lower(), urlsplit(existing.base_url).netloc.lower()
    if new != old:
        raise AuthorizationRefused(
            _(
                "Вы разрешили доступ к %(new)s, а подключение работает с %(old)s: доступ не "
                "сохранён. Чтобы сменить портал, сначала измените его адрес в настройках "
                "подключения."
            )
            % {"new": new, "old": old}
        )
