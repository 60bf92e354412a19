"""The admin connects a CRM the way the vendors intend: «Подключить через amoCRM /
Битрикс24» → the CRM's consent → our callback, which takes only a state it issued to this
admin's session and company, once, for 10 minutes (crm_sync/oauth.py). Against the fake
CRM's consent pages and token endpoints (tests/crm_sync/fake_crm.py)."""

import re
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts import tenancy
from accounts.models import AuditEvent
from crm_sync import oauth
from crm_sync.models import CRMConnection
from tests.conftest import TenantClient
from tests.crm_sync.fake_crm import OAuthServer, map_stages
from tests.crm_sync.test_connectors_pull import deals, pull, reload
from tests.crm_sync.test_oauth import AMO_LEADS, age, stored

SITE = "http://testserver"
AMO_CALLBACK = f"{SITE}/settings/crm/oauth/amocrm/callback/"
BITRIX_CALLBACK = f"{SITE}/settings/crm/oauth/bitrix24/callback/"


@pytest.fixture
def apps(settings, fake):  # type: ignore[no-untyped-def]
    """This installation's applications at the fake CRM, which plays amoCRM's consent page,
    the account (its `referer`), a Bitrix24 portal and its authorization server."""
    settings.SITE_URL = SITE
    settings.AMOCRM_CLIENT_ID = settings.BITRIX24_CLIENT_ID = OAuthServer.CLIENT_ID
    settings.AMOCRM_CLIENT_SECRET = settings.BITRIX24_CLIENT_SECRET = OAuthServer.CLIENT_SECRET
    settings.AMOCRM_OAUTH_URL = f"{fake.url}/oauth"
    settings.AMOCRM_ACCOUNT_DOMAINS = [fake.oauth.host]
    settings.BITRIX24_OAUTH_SERVERS = ["https://oauth.bitrix.info", fake.url]
    fake.oauth.redirect_uris = {"amocrm": AMO_CALLBACK, "bitrix24": BITRIX_CALLBACK}
    return settings


def messages_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in get_messages(response.wsgi_request)]


def amo_callback(client: TenantClient) -> str:
    """Start, then «Разрешить» on amoCRM's page: the callback address it sends us to."""
    start = client.get(reverse("crm-oauth-start", args=["amocrm"]))
    assert start.status_code == 302
    asked = parse_qs(urlsplit(start["Location"]).query)
    assert asked["mode"] == ["post_message"] and asked["client_id"] == [OAuthServer.CLIENT_ID]
    consent = httpx.get(start["Location"])
    assert consent.status_code == 200
    href = unescape(re.search(r'id="allow" href="([^"]+)"', consent.text)[1])
    return href.removeprefix(SITE)


def bitrix_callback(client: TenantClient, portal: str) -> str:
    start = reverse("crm-oauth-start", args=["bitrix24"])
    assert client.get(start).status_code == 200
    page = client.post(start, {"portal": portal}).content.decode()
    link = unescape(re.search(r'href="([^"]+/oauth/authorize/[^"]+)"', page)[1])
    answer = httpx.get(link, follow_redirects=False)
    assert answer.status_code == 302
    return answer.headers["Location"].removeprefix(SITE)


def with_param(path: str, **changes: str) -> str:
    """The callback address with some of its parameters changed (as a forger would)."""
    parts = urlsplit(path)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    return f"{parts.path}?{urlencode({**query, **changes})}"


def state_of(path: str) -> str:
    return parse_qs(urlsplit(path).query)["state"][0]


def test_the_admin_connects_amocrm_through_its_consent_page(client, alpha, fake, amo, apps):
    client.force_login(alpha.admin)

    done = client.get(amo_callback(client))

    assert done.status_code == 302 and done["Location"] == reverse("crm-connections")
    assert any("подключена через OAuth 2.0" in m for m in messages_of(done))
    data = stored(amo)
    assert data["app"] == 1 and data["access_token"] == "access-1"
    assert "client_secret" not in data  # read from the settings at each refresh
    assert fake.oauth.grants[0]["grant_type"] == "authorization_code"
    assert fake.oauth.grants[0]["redirect_uri"] == AMO_CALLBACK
    assert OAuthServer.CLIENT_SECRET not in reload(amo).credentials
    with tenancy.tenant_context(alpha.company):
        assert AuditEvent.objects.filter(
            company=alpha.company, action=AuditEvent.Action.CRM_SAVED, target__contains="OAuth"
        ).exists()

    pull(amo)
    assert set(deals(alpha, "amocrm")) == AMO_LEADS
    page = client.get(reverse("crm-connections")).content.decode()
    assert "OAuth 2.0" in page and "access-1" not in page and "refresh-1" not in page
    assert "Переподключить через amoCRM" in page


def test_a_bitrix24_portal_connects_through_its_application(client, alpha, fake, apps):
    client.force_login(alpha.admin)
    fake.oauth.scope = "crm,user"  # the application's card lacks telephony

    done = client.get(bitrix_callback(client, fake.url))

    assert done.status_code == 302
    said = messages_of(done)
    assert any("подключена через OAuth 2.0" in m for m in said)
    assert any("не выданы права: telephony" in m for m in said)
    with tenancy.tenant_context(alpha.company):
        connection = CRMConnection.objects.get(company=alpha.company, vendor="bitrix24")
    assert connection.base_url == fake.url
    data = stored(connection)
    assert data["client_endpoint"] == f"{fake.url}/rest/"
    assert data["token_url"] == f"{fake.url}/oauth/token/"  # the server the portal named
    page = client.get(reverse("crm-connections")).content.decode()
    assert "не выданы права: telephony" in page

    with tenancy.tenant_context(alpha.company):
        map_stages(alpha, "NEW", "PREPARATION")  # as the webhook connection's tests do
    pull(connection)
    assert set(deals(alpha, "bitrix24")) == {"1201", "1202", "1203", "1204"}


def test_a_forged_state_is_refused_and_nothing_is_asked_or_stored(client, alpha, fake, amo, apps):
    client.force_login(alpha.admin)
    callback = amo_callback(client)
    state = state_of(callback)
    forged = with_param(
        callback, state=state[:-3] + ("aaa" if not state.endswith("aaa") else "bbb")
    )
    before = reload(amo).credentials

    refused = client.get(forged)

    assert refused.status_code == 302
    assert any("state подделан или повреждён" in m for m in messages_of(refused))
    assert fake.oauth.grants == []
    assert reload(amo).credentials == before
    made_up = client.get(reverse("crm-oauth-callback", args=["amocrm"]) + "?code=x&state=x")
    assert any("state подделан" in m for m in messages_of(made_up))
    bare = client.get(reverse("crm-oauth-callback", args=["amocrm"]))
    assert bare.status_code == 302 and fake.oauth.grants == []


def test_a_replayed_callback_is_refused(client, alpha, fake, amo, apps):
    client.force_login(alpha.admin)
    callback = amo_callback(client)
    assert client.get(callback).status_code == 302
    first = stored(amo)

    again = client.get(callback)

    assert any("уже использована" in m for m in messages_of(again))
    assert len(fake.oauth.grants) == 1
    assert stored(amo) == first


def test_an_expired_state_is_refused(client, alpha, fake, amo, apps, monkeypatch):
    client.force_login(alpha.admin)
    callback = amo_callback(client)
    monkeypatch.setattr(oauth, "STATE_MAX_AGE", -1)  # ten minutes have passed

    refused = client.get(callback)

    assert any("Ссылка авторизации устарела" in m for m in messages_of(refused))
    assert fake.oauth.grants == [] and oauth.credentials(reload(amo)) is None


def test_another_companys_or_another_sessions_state_is_refused(
    client, alpha, beta, fake, amo, apps
):
    stranger = TenantClient()
    stranger.force_login(beta.admin)
    foreign = amo_callback(stranger)
    client.force_login(alpha.admin)

    refused = client.get(foreign)

    assert any("для другой компании" in m for m in messages_of(refused))
    other_tab = TenantClient()
    other_tab.force_login(alpha.admin)
    elsewhere = amo_callback(other_tab)  # alpha's admin, but another login session
    refused = client.get(elsewhere)
    assert any("в другом сеансе" in m for m in messages_of(refused))
    assert fake.oauth.grants == [] and oauth.credentials(reload(amo)) is None
    with tenancy.tenant_context(beta.company):
        assert oauth.credentials(CRMConnection.objects.get(company=beta.company,
                                                           vendor="amocrm")) is None  # fmt: skip


def test_a_callback_naming_a_host_we_do_not_know_gets_no_secret(client, alpha, fake, amo, apps):
    client.force_login(alpha.admin)
    callback = amo_callback(client)
    evil = with_param(callback, referer="evil.example:80")

    refused = client.get(evil)

    assert any("неизвестный адрес аккаунта" in m for m in messages_of(refused))
    assert fake.oauth.grants == []
    bitrix = bitrix_callback(client, fake.url)
    evil = with_param(bitrix, server_domain="evil.example")
    refused = client.get(evil)
    assert any("неизвестный сервер авторизации" in m for m in messages_of(refused))
    assert fake.oauth.grants == []


def test_a_declined_consent_or_a_refused_code_stores_nothing(client, alpha, fake, amo, apps):
    client.force_login(alpha.admin)
    state = state_of(amo_callback(client))
    path = reverse("crm-oauth-callback", args=["amocrm"])

    declined = client.get(f"{path}?{urlencode({'error': 'access_denied', 'state': state})}")
    assert any("не выдала доступ" in m for m in messages_of(declined))

    callback = amo_callback(client)
    fake.oauth.codes.clear()  # spent or expired at amoCRM
    refused = client.get(callback)
    assert any("не приняла код авторизации" in m for m in messages_of(refused))
    assert oauth.credentials(reload(amo)) is None


def test_another_account_is_not_swapped_in_silently(client, alpha, fake, amo, apps):
    with tenancy.tenant_context(alpha.company):
        CRMConnection.objects.filter(pk=amo.pk).update(base_url="https://other.amocrm.ru")
    client.force_login(alpha.admin)

    refused = client.get(amo_callback(client))

    assert any("подключение работает с other.amocrm.ru" in m for m in messages_of(refused))
    assert fake.oauth.grants == [] and oauth.credentials(reload(amo)) is None


def test_the_refresh_token_rotates_on_use(client, alpha, fake, amo, apps):
    client.force_login(alpha.admin)
    client.get(amo_callback(client))
    for round_ in (2, 3):
        age(amo, hours=-1)
        pull(amo)
        data = stored(amo)
        assert (data["access_token"], data["refresh_token"]) == (
            f"access-{round_}",
            f"refresh-{round_}",
        )
        spent = fake.oauth.grants[-1]
        assert spent["grant_type"] == "refresh_token"
        assert spent["refresh_token"] == f"refresh-{round_ - 1}"
        assert spent["redirect_uri"] == AMO_CALLBACK  # amoCRM asks for it with a refresh too
        assert f"refresh-{round_ - 1}" not in fake.oauth.refresh  # single use


def test_a_dead_refresh_token_says_connect_again_until_the_admin_does(
    client, alpha, fake, amo, apps
):
    client.force_login(alpha.admin)
    client.get(amo_callback(client))
    fake.oauth.refresh.clear()  # three months unused, or the integration was removed
    age(amo, hours=-1)

    pull(amo)

    assert "Подключите CRM заново" in reload(amo).last_error
    assert oauth.status(reload(amo)).expired
    asked = len(fake.oauth.grants)
    pull(amo)
    assert len(fake.oauth.grants) == asked  # a dead refresh token is not spent again
    page = client.get(reverse("crm-connections")).content.decode()
    assert "Подключение истекло — подключите заново." in page
    assert "Подключить заново через amoCRM" in page

    client.get(amo_callback(client))
    connection = reload(amo)
    assert not oauth.status(connection).expired and connection.last_error == ""
    assert "Подключение истекло" not in client.get(reverse("crm-connections")).content.decode()


def test_an_ip_block_at_the_token_endpoint_is_not_called_an_expiry(client, alpha, fake, amo, apps):
    client.force_login(alpha.admin)
    client.get(amo_callback(client))
    age(amo, hours=-1)
    fake.blocked = True

    pull(amo)

    error = reload(amo).last_error
    assert "IP-адрес сервера Salesdesk, похоже, заблокирован" in error
    assert not oauth.status(reload(amo)).expired
    fake.blocked = False
    pull(amo)
    assert stored(amo)["access_token"] == "access-2"


def test_without_an_application_the_buttons_are_not_shown(client, alpha, amo):
    client.force_login(alpha.admin)
    page = client.get(reverse("crm-connections")).content.decode()
    assert "Подключить через" not in page and "Переподключить через" not in page

    start = client.get(reverse("crm-oauth-start", args=["bitrix24"]))
    assert start.status_code == 200 and "не настроено на этом сервере" in start.content.decode()
    callback = client.get(reverse("crm-oauth-callback", args=["amocrm"]) + "?code=x&state=y")
    assert callback.status_code == 302
    assert client.get(reverse("crm-oauth-start", args=["pipedrive"])).status_code == 404


def test_only_the_company_admin_connects(client, alpha, apps):
    for user in (alpha.head, alpha.manager):
        client.force_login(user)
        assert client.get(reverse("crm-oauth-start", args=["amocrm"])).status_code == 403
        callback = reverse("crm-oauth-callback", args=["amocrm"]) + "?code=x&state=y"
        assert client.get(callback).status_code == 403


def test_the_portal_form_refuses_what_is_not_an_address(client, alpha, apps):
    client.force_login(alpha.admin)
    page = client.post(reverse("crm-oauth-start", args=["bitrix24"]), {"portal": "not a url"})
    assert page.status_code == 200
    assert "/oauth/authorize/" not in page.content.decode()
    assert 'class="error"' in page.content.decode()


def test_the_mapping_page_reads_the_crm_with_the_oauth_pair(client, alpha, fake, amo, apps):
    """It sent the stored JSON, decrypted, as the bearer token: amoCRM answered 401."""
    client.force_login(alpha.admin)
    client.get(amo_callback(client))
    age(amo, hours=-1)  # and renews it first, as a pull does

    done = client.post(reverse("crm-connection-mapping", args=[amo.code]), {"refresh": "1"})

    assert "Списки обновлены из CRM." in messages_of(done)
    assert reload(amo).catalog["pipelines"]
    assert stored(amo)["access_token"] == "access-2"
