"""With SENTRY_DSN set, errors go to Sentry (or GlitchTip) — without the secrets of the
request, of the installation or of the code's own variables."""

import json

import pytest
import sentry_sdk
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path
from sentry_sdk.transport import Transport

from salesdesk.error_tracking import sentry_init

CRM_KEY = "hL3p3Zy8m1bq2Xw0s9v4c7n6k5j8h1g2f3d4s5a6q7w="
SECRETS = {
    "password": "Hunter2-very-secret",
    "api key": "7.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
    "session": "s3ss10n-cookie-value-0123456789",
    "csrf": "csrf-cookie-value-0123456789abcd",
    "telegram": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
    "crm key": CRM_KEY,
}


class CapturingTransport(Transport):
    """Keeps each envelope instead of sending it: what would have left the server."""

    sent: list[str] = []

    def capture_envelope(self, envelope) -> None:  # type: ignore[no-untyped-def]
        self.sent.append(envelope.serialize().decode("utf-8", "replace"))


def failing_view(request: HttpRequest) -> HttpResponse:
    crm_credentials_key = settings.CRM_CREDENTIALS_KEY  # noqa: F841 (a local the frame shows)
    token = request.POST.get("token")
    raise RuntimeError(f"CRM refused token={token} and bot {SECRETS['telegram']}")


urlpatterns = [path("boom/", failing_view)]


@pytest.fixture
def sentry():
    CapturingTransport.sent = []
    sentry_init(dsn="http://public@127.0.0.1:9/1", environment="test", transport=CapturingTransport)
    yield CapturingTransport.sent
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)


@override_settings(ROOT_URLCONF=__name__, CRM_CREDENTIALS_KEY=CRM_KEY)
def test_an_error_is_sent_with_every_secret_scrubbed(sentry, db):
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = SECRETS["session"]
    client.cookies["csrftoken"] = SECRETS["csrf"]
    response = client.post(
        "/boom/?api_token=" + SECRETS["api key"],
        {"username": "alpha.head", "password": SECRETS["password"], "token": SECRETS["api key"]},
        HTTP_AUTHORIZATION=f"Token {SECRETS['api key']}",
    )
    assert response.status_code == 500
    sentry_sdk.flush()

    events = [envelope for envelope in sentry if '"exception"' in envelope]
    assert len(events) == 1
    payload = json.loads(events[0].splitlines()[-1])
    event = json.dumps(payload, ensure_ascii=False)
    assert "RuntimeError" in event and "CRM refused token=" in event
    for name, secret in SECRETS.items():
        assert secret not in event, f"the {name} reached the event"
    assert "[скрыто]" in event
    # No personal data either: no user and no client address.
    assert "user" not in payload or not payload["user"].get("ip_address")
    assert "cookies" not in payload.get("request", {})


def test_the_django_and_celery_integrations_are_on(sentry):
    client = sentry_sdk.get_client()
    assert {"django", "celery"} <= set(client.integrations)
    assert not client.should_send_default_pii()
    assert client.options["event_scrubber"] is not None


def test_sentry_dsn_in_the_environment_turns_it_on():
    from tests.test_settings import run_manage

    probe = (
        "import sentry_sdk; c = sentry_sdk.get_client(); "
        "print(c.is_active(), c.options['environment'], sorted(c.integrations))"
    )
    env = {"SECRET_KEY": "x" * 50, "DEBUG": "1"}
    on = run_manage("shell", "-c", probe, SENTRY_DSN="http://public@127.0.0.1:9/1",
                    SENTRY_ENVIRONMENT="staging", **env)  # fmt: skip
    assert "True staging" in on.stdout and "'celery'" in on.stdout, on.stdout + on.stderr
    off = run_manage("shell", "-c", probe, **env)
    assert "False" in off.stdout and "True" not in off.stdout, off.stdout + off.stderr
