"""In Chromium: the admin connects amoCRM with «Подключить через amoCRM» → amoCRM's consent
page (the fake CRM's) → our callback, at 1440 px; later, on a 375 px phone, the connection
has expired (its refresh token refused) and the page says so, and one button connects it
again."""

import time
from collections.abc import Iterator

import pytest

from accounts import tenancy
from crm_sync import coordination, oauth
from crm_sync.models import CRMConnection
from tests.conftest import ROOT, make_cast
from tests.crm_sync import fake_crm
from tests.crm_sync.fake_crm import FakeCRM, OAuthServer
from tests.crm_sync.test_connectors_pull import pull
from tests.crm_sync.test_oauth import age
from tests.e2e.test_smoke import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ARTIFACTS = ROOT / "test-artifacts"
BUTTON = "Подключить через amoCRM / Kommo"


@pytest.fixture
def fake() -> Iterator[FakeCRM]:
    yield from fake_crm.running()


def _connection(cast) -> CRMConnection:  # type: ignore[no-untyped-def]
    with tenancy.tenant_context(cast.company):
        return CRMConnection.objects.get(company=cast.company, vendor="amocrm")


def test_the_admin_connects_amocrm_and_reconnects_it_once_expired(
    browser, phone, live_server, settings, fake
):
    cast = make_cast("e2e", "Е2Е Продажи")
    with tenancy.tenant_context(cast.company):  # a company that has not connected amoCRM yet
        CRMConnection.objects.filter(company=cast.company, vendor="amocrm").delete()
    callback = f"{live_server.url}/settings/crm/oauth/amocrm/callback/"
    settings.SITE_URL = live_server.url
    settings.AMOCRM_CLIENT_ID, settings.AMOCRM_CLIENT_SECRET = (
        OAuthServer.CLIENT_ID,
        OAuthServer.CLIENT_SECRET,
    )
    settings.AMOCRM_OAUTH_URL = f"{fake.url}/oauth"
    settings.AMOCRM_ACCOUNT_DOMAINS = [fake.oauth.host]
    fake.oauth.redirect_uris = {"amocrm": callback}
    ARTIFACTS.mkdir(exist_ok=True)

    wide = browser.new_context(locale="ru-RU", viewport={"width": 1440, "height": 900})
    page = wide.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, live_server.url, "e2e.admin")
        page.goto(f"{live_server.url}/settings/crm/")
        page.screenshot(path=str(ARTIFACTS / "crm-oauth-start-1440.png"), full_page=True)
        page.get_by_role("link", name=BUTTON).click()
        page.get_by_role("link", name="Разрешить").click()  # amoCRM's consent page
        page.get_by_text("подключена через OAuth 2.0").wait_for()
        assert page.url == f"{live_server.url}/settings/crm/"
        page.get_by_text("OAuth 2.0, ключ обновления").wait_for()
        page.screenshot(path=str(ARTIFACTS / "crm-oauth-connected-1440.png"), full_page=True)
    finally:
        wide.close()
    connection = _connection(cast)
    assert oauth.credentials(connection)["access_token"] == "access-1"
    assert connection.base_url == fake.url

    fake.oauth.refresh.clear()  # unused for three months, as far as amoCRM is concerned
    age(connection, hours=-1)
    _pull_once_free(connection)
    assert oauth.status(_connection(cast)).expired

    log_in(phone, live_server.url, "e2e.admin")
    phone.goto(f"{live_server.url}/settings/crm/")
    phone.get_by_text("Подключение истекло — подключите заново.").wait_for()
    phone.screenshot(path=str(ARTIFACTS / "crm-oauth-expired-375.png"), full_page=True)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways on a phone: {width} px"
    phone.get_by_role("link", name="Подключить заново через amoCRM / Kommo").click()
    phone.get_by_role("link", name="Разрешить").click()
    phone.get_by_text("подключена через OAuth 2.0").wait_for()
    assert phone.get_by_text("Подключение истекло").count() == 0
    phone.screenshot(path=str(ARTIFACTS / "crm-oauth-reconnected-375.png"), full_page=True)
    assert not oauth.status(_connection(cast)).expired


def _pull_once_free(connection: CRMConnection) -> None:
    """The callback queued a pull of its own: where a Celery worker runs beside the test (the
    whole suite), it may still hold the connection's lock."""
    deadline = time.monotonic() + 60
    while True:
        try:
            pull(connection)
            return
        except coordination.ConnectionBusy:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
