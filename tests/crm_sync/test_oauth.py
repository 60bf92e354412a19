"""OAuth 2.0 as amoCRM (amocrm.ru/developers/content/oauth/step-by-step) and a Bitrix24
application (apidocs.bitrix24.ru «OAuth 2.0 протокол авторизации», oauth.bitrix.info) issue
it, and the refusals an admin must act on, told in plain words."""

import datetime
import json
import threading

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from accounts import crypto, tenancy
from crm_sync import connectors, oauth
from crm_sync.models import CRMConnection
from tests.crm_sync.fake_crm import OAuthServer
from tests.crm_sync.test_connectors_pull import deals, pull, reload

AMO_LEADS = {"24100311", "24100312", "24100313", "24100314"}


def authorize(connection: CRMConnection, fake, **extra) -> CRMConnection:  # type: ignore[no-untyped-def]
    with tenancy.tenant_context(connection.company_id):
        return oauth.code_exchange(
            connection=connection, client_id=OAuthServer.CLIENT_ID,
            client_secret=OAuthServer.CLIENT_SECRET, code=OAuthServer.CODE,
            redirect_uri="https://salesdesk.example/crm/oauth/", **extra,
        )  # fmt: skip


def stored(connection: CRMConnection) -> dict:
    data = oauth.credentials(reload(connection))
    assert data is not None
    return data


def age(connection: CRMConnection, **delta) -> None:  # type: ignore[no-untyped-def]
    """Moves the stored access token's expiry: `age(c, hours=-1)` has it run out."""
    with tenancy.tenant_context(connection.company_id):
        connection = reload(connection)
        data = oauth.credentials(connection)
        data["expires_at"] = (timezone.now() + datetime.timedelta(**delta)).isoformat()
        oauth._store(connection, data)
        connection.save(update_fields=["credentials"])


def test_an_amocrm_authorization_code_gives_an_encrypted_pair_the_pull_uses(alpha, fake, amo):
    authorize(amo, fake)

    data = stored(amo)
    assert (data["access_token"], data["refresh_token"]) == ("access-1", "refresh-1")
    expires = datetime.datetime.fromisoformat(data["expires_at"]) - timezone.now()
    assert datetime.timedelta(hours=23) < expires <= datetime.timedelta(hours=24)
    ciphertext = reload(amo).credentials
    assert "refresh-1" not in ciphertext and "access-1" not in ciphertext
    assert fake.oauth.grants[0]["grant_type"] == "authorization_code"
    assert fake.oauth.grants[0]["redirect_uri"] == "https://salesdesk.example/crm/oauth/"

    pull(amo)

    assert set(deals(alpha, "amocrm")) == AMO_LEADS
    assert len(fake.oauth.grants) == 1  # a fresh token is not renewed


def test_an_access_token_about_to_run_out_is_renewed_before_the_pull(alpha, fake, amo):
    authorize(amo, fake)
    age(amo, minutes=2)

    pull(amo)

    assert [g["grant_type"] for g in fake.oauth.grants] == ["authorization_code", "refresh_token"]
    assert fake.oauth.grants[1]["refresh_token"] == "refresh-1"
    data = stored(amo)
    assert (data["access_token"], data["refresh_token"]) == ("access-2", "refresh-2")
    assert set(deals(alpha, "amocrm")) == AMO_LEADS


def test_a_token_refused_early_is_renewed_once_and_the_pull_goes_on(alpha, fake, amo):
    authorize(amo, fake)
    fake.oauth.expire_all()  # revoked on amoCRM's side, a day before its expiry

    result = pull(amo)

    assert result.errors == [] or all("61390099" in e for e in result.errors)
    assert stored(amo)["access_token"] == "access-2"
    assert set(deals(alpha, "amocrm")) == AMO_LEADS


def test_a_refresh_token_that_no_longer_works_is_told_to_the_admin(alpha, fake, amo):
    authorize(amo, fake)
    fake.oauth.refresh.clear()  # the admin removed the integration
    age(amo, hours=-1)

    pull(amo)

    error = reload(amo).last_error
    assert "не выдала новый ключ доступа" in error and "Подключите CRM заново" in error
    assert deals(alpha, "amocrm") == {}


@pytest.mark.django_db(transaction=True)
def test_two_processes_renewing_at_once_spend_the_refresh_token_once(alpha, fake, amo):
    """Without the row lock both would send refresh-1: amoCRM takes it once, and whoever
    saved last could store a pair whose refresh token was never issued, losing the link."""
    authorize(amo, fake)
    age(amo, hours=-1)
    fake.oauth.delay = 0.3
    tokens: list[str] = []

    def renew() -> None:
        try:
            with tenancy.tenant_context(amo.company_id):
                tokens.append(oauth.access_token(CRMConnection.objects.get(pk=amo.pk)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=renew) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert tokens == ["access-2", "access-2"]
    refreshes = [g for g in fake.oauth.grants if g["grant_type"] == "refresh_token"]
    assert len(refreshes) == 1
    assert stored(amo)["refresh_token"] in fake.oauth.refresh  # still good for the next one


def test_a_bitrix24_application_pulls_through_its_endpoint_and_renews_an_expired_token(
    alpha, fake, bitrix
):
    authorize(bitrix, fake, token_url=f"{fake.url}/oauth/token/")
    assert stored(bitrix)["client_endpoint"] == f"{fake.url}/rest/"

    pull(bitrix)
    assert set(deals(alpha, "bitrix24")) == {"1201", "1202", "1203", "1204"}
    asked = [entry[2] for entry in fake.log if entry[1] == "crm.deal.list"]
    assert asked  # the access token went in the body (the fake pops it), not the address

    fake.oauth.expire_all()  # Bitrix24 answers 401 expired_token
    pull(bitrix)

    assert stored(bitrix)["access_token"] == "access-2"
    assert "expired" not in reload(bitrix).last_error


def test_an_ip_block_is_not_called_a_bad_token(alpha, fake, amo, bitrix):
    fake.blocked = True

    pull(amo)
    pull(bitrix)

    amo_error, bitrix_error = reload(amo).last_error, reload(bitrix).last_error
    assert "IP-адрес сервера заблокирован" in amo_error
    assert "разрешённые IP-адреса портала" in bitrix_error
    for error in (amo_error, bitrix_error):
        assert "Ключ при этом может быть верным" in error


def test_missing_bitrix24_scopes_are_named(alpha, fake, bitrix):
    fake.no_scope.add("voximplant.statistic.get")

    pull(bitrix)

    error = reload(bitrix).last_error
    assert "нет нужных прав" in error and "crm, user, telephony" in error


def test_a_long_lived_token_stays_as_it_was(alpha, fake, amo):
    assert oauth.credentials(amo) is None
    assert oauth.access_token(amo) == crypto.decrypt(amo.credentials)
    assert json.loads('{"a": 1}')  # a JSON-looking token is only OAuth with its mark
    with tenancy.tenant_context(alpha.company):
        connectors.connection_configure(
            company=alpha.company, vendor="amocrm", base_url=fake.url, token='{"x": 1}',
            connection=amo,
        )  # fmt: skip
    assert oauth.credentials(reload(amo)) is None


def test_the_admin_connects_amocrm_with_an_authorization_code(client, alpha, fake, amo):
    client.force_login(alpha.admin)
    form = {
        "base_url": fake.url, "active": "on",
        "oauth_client_id": OAuthServer.CLIENT_ID, "oauth_client_secret": "wrong",
        "oauth_code": OAuthServer.CODE, "oauth_redirect_uri": "https://salesdesk.example/crm/",
    }  # fmt: skip
    url = reverse("crm-connection-edit", args=[amo.code])

    refused = client.post(url, form)
    assert refused.status_code == 200
    assert "CRM не приняла код авторизации" in refused.content.decode()
    assert oauth.credentials(reload(amo)) is None  # the stored token is kept

    form.update(oauth_client_secret=OAuthServer.CLIENT_SECRET)
    assert client.post(url, form).status_code == 302
    assert stored(amo)["access_token"].startswith("access-")
    page = client.get(reverse("crm-connections")).content.decode()
    assert "OAuth 2.0" in page and "refresh-" not in page
    missing = client.post(url, {**form, "oauth_client_id": ""})
    assert "Нужен для обмена кода авторизации" in missing.content.decode()


def test_a_refused_refresh_is_not_asked_again_and_the_page_says_connect_again(
    client, alpha, fake, amo
):
    authorize(amo, fake)
    fake.oauth.refresh.clear()
    age(amo, hours=-1)
    pull(amo)
    asked = len(fake.oauth.grants)

    pull(amo)

    assert len(fake.oauth.grants) == asked  # a dead refresh token is not spent again
    assert "Подключите CRM заново" in reload(amo).last_error
    client.force_login(alpha.admin)
    page = client.get(reverse("crm-connections")).content.decode()
    assert "Подключение истекло — подключите заново." in page
    assert "Ввести новый код авторизации" in page  # no installation app: the pasted code


def test_an_ip_block_at_the_token_endpoint_is_not_called_a_revoked_permission(alpha, fake, amo):
    authorize(amo, fake)
    age(amo, hours=-1)
    fake.blocked = True

    pull(amo)

    error = reload(amo).last_error
    assert "IP-адрес сервера Salesdesk, похоже, заблокирован" in error
    assert "разрешение отозвано" not in error
    fake.blocked = False
    pull(amo)
    assert stored(amo)["access_token"] == "access-2"
