"""The CRMs' webhooks: real payloads accepted, forged ones refused with nothing stored."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts import tenancy
from crm_sync import connectors
from crm_sync.models import Call, CRMConnection, Deal, StageVisit
from salesdesk.celery import app
from tests.crm_sync.fake_crm import APP_TOKEN, form
from tests.crm_sync.test_connectors_pull import calls, deals, pull

FORM = "application/x-www-form-urlencoded"


def amo_url(connection: CRMConnection, secret: str | None = None) -> str:
    return reverse(
        "crm-hook-amocrm",
        kwargs={
            "company": connection.company.code,
            "code": connection.code,
            "secret": connection.webhook_secret if secret is None else secret,
        },
    )


def bitrix_url(connection: CRMConnection) -> str:
    kwargs = {"company": connection.company.code, "code": connection.code}
    return reverse("crm-hook-bitrix24", kwargs=kwargs)


def on_portal(connection: CRMConnection, url: str) -> CRMConnection:
    with tenancy.tenant_context(connection.company_id):
        CRMConnection.objects.filter(pk=connection.pk).update(base_url=url)
        connection.refresh_from_db()
    return connection


def test_an_amocrm_status_change_moves_the_deal_and_keeps_what_the_pull_knew(
    client, alpha, fake, amo
):
    pull(amo)
    on_portal(amo, "https://example.amocrm.ru")

    response = client.post(amo_url(amo), form("amocrm_webhook_status.txt"), content_type=FORM)

    assert response.status_code == 200
    deal = deals(alpha, "amocrm")["24100311"]
    assert deal.stage.external_id == "61390013"
    assert deal.client.name == "Анна Смирнова"  # the webhook does not name the contact
    with tenancy.tenant_context(alpha.company):
        visits = list(StageVisit.objects.filter(deal=deal).order_by("entered_at"))
    assert len(visits) == 2 and visits[1].entered_at.isoformat() == "2026-11-05T09:30:00+00:00"


def test_an_amocrm_new_lead_and_call_note_are_stored(client, alpha, amo):
    on_portal(amo, "https://example.amocrm.ru")
    client.post(amo_url(amo), form("amocrm_webhook_add.txt"), content_type=FORM)
    client.post(amo_url(amo), form("amocrm_webhook_call_note.txt"), content_type=FORM)

    lead = deals(alpha, "amocrm")["24100320"]
    assert (lead.title, lead.amount, lead.status) == ("Заявка с сайта", Decimal(0), "open")
    call = calls(alpha, "amocrm")["90010050"]
    assert (call.direction, call.duration, call.answered, call.phone) == (
        "in", 42, True, "79125550101",
    )  # fmt: skip


def test_a_forged_amocrm_webhook_is_refused_and_changes_nothing(client, alpha, beta, amo):
    on_portal(amo, "https://example.amocrm.ru")
    body = form("amocrm_webhook_add.txt")

    assert client.post(amo_url(amo, "guessed"), body, content_type=FORM).status_code == 403
    other_account = body.replace(b"account%5Bsubdomain%5D=example", b"account%5Bsubdomain%5D=evil")
    assert client.post(amo_url(amo), other_account, content_type=FORM).status_code == 403
    with tenancy.tenant_context(beta.company):
        foreign = CRMConnection.objects.get(company=beta.company)
    wrong_company = (
        amo_url(amo).replace(str(foreign.code), "").replace(str(amo.code), str(foreign.code))
    )
    assert client.post(wrong_company, body, content_type=FORM).status_code == 404
    assert client.get(amo_url(amo)).status_code == 405
    assert deals(alpha, "amocrm") == {}
    with tenancy.tenant_context(beta.company):
        assert not Deal.objects.filter(company=beta.company, source="amocrm").exists()


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_a_bitrix24_deal_event_fetches_the_deal(
    client, alpha, fake, bitrix, eager, django_capture_on_commit_callbacks
):
    body = form("bitrix24_webhook_deal_update.txt").replace(
        b"example.bitrix24.ru", fake.url.removeprefix("http://").encode()
    )
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = client.post(bitrix_url(bitrix), body, content_type=FORM)

    assert response.status_code == 200 and len(queued) == 1
    deal = deals(alpha, "bitrix24")["1202"]
    assert (deal.stage.external_id, deal.title) == ("PREPARATION", "Серверная стойка")
    assert deal.client.phone == "79031112234"


def test_a_bitrix24_call_end_event_stores_the_call(client, alpha, fake, bitrix):
    pull(bitrix)  # learns the portal's users: the call's operator is matched by e-mail
    on_portal(bitrix, "https://example.bitrix24.ru/rest/1")
    response = client.post(bitrix_url(bitrix), form("bitrix24_webhook_call_end.txt"), FORM)

    assert response.status_code == 200
    call = calls(alpha, "bitrix24")["externalCall.5d1c0a9e3b7f4e30.1762360000"]
    assert (call.direction, call.answered, call.manager) == ("in", False, alpha.managers[0])


def test_a_forged_bitrix24_event_is_refused_and_queues_nothing(
    client, alpha, bitrix, django_capture_on_commit_callbacks
):
    on_portal(bitrix, "https://example.bitrix24.ru/rest/1")
    body = form("bitrix24_webhook_call_end.txt")
    forged = body.replace(APP_TOKEN.encode(), b"0" * len(APP_TOKEN))
    no_token = body.replace(b"auth%5Bapplication_token%5D", b"auth%5Bother%5D")
    other_portal = body.replace(b"example.bitrix24.ru", b"evil.bitrix24.ru")
    deal_event = form("bitrix24_webhook_deal_update.txt").replace(APP_TOKEN.encode(), b"x")
    with django_capture_on_commit_callbacks() as queued:
        for payload in (forged, no_token, other_portal, deal_event):
            assert client.post(bitrix_url(bitrix), payload, FORM).status_code == 403
    assert queued == []
    with tenancy.tenant_context(alpha.company):
        assert not Call.objects.filter(company=alpha.company, source="bitrix24").exists()


def test_it_reads_php_style_form_keys():
    tree = connectors.parse_form(
        [("leads[status][0][id]", "1"), ("leads[status][1][id]", "2"), ("event", "X")]
    )
    assert tree == {"leads": {"status": {"0": {"id": "1"}, "1": {"id": "2"}}}, "event": "X"}
