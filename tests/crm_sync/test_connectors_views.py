"""The admin page of CRM connections: webhook addresses shown, secrets only masked."""

from django.urls import reverse

from accounts import crypto, tenancy
from crm_sync.models import CRMConnection

BITRIX_URL = "https://example.bitrix24.ru/rest/1/k3yk3yk3ysecret42/"
APP_TOKEN = "qu1ck8r0wnf0xj8mps0v3rth3l4zyd0g"


def test_the_admin_connects_bitrix24_and_sees_its_secrets_only_masked(client, alpha):
    client.force_login(alpha.admin)
    response = client.post(
        reverse("crm-connection-create"),
        {"vendor": "bitrix24", "base_url": BITRIX_URL, "application_token": APP_TOKEN,
         "active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    with tenancy.tenant_context(alpha.company):
        connection = CRMConnection.objects.get(company=alpha.company, vendor="bitrix24")
    assert connection.base_url == "https://example.bitrix24.ru/rest/1"
    assert "k3yk3yk3ysecret42" not in connection.credentials
    assert crypto.decrypt(connection.credentials) == "k3yk3yk3ysecret42"
    assert APP_TOKEN not in connection.event_token
    assert crypto.decrypt(connection.event_token) == APP_TOKEN

    page = client.get(reverse("crm-connections")).content.decode()
    assert "k3yk3yk3ysecret42" not in page and APP_TOKEN not in page
    assert "••••••••et42" in page and "••••••••dg" not in page
    hook = reverse(
        "crm-hook-bitrix24", kwargs={"company": alpha.company.code, "code": connection.code}
    )
    assert hook in page
    edit = client.get(reverse("crm-connection-edit", args=[connection.code])).content.decode()
    assert "k3yk3yk3ysecret42" not in edit and APP_TOKEN not in edit


def test_an_empty_token_keeps_the_stored_one(client, alpha):
    client.force_login(alpha.admin)
    with tenancy.tenant_context(alpha.company):
        connection = CRMConnection.objects.get(company=alpha.company, vendor="amocrm")
    url = reverse("crm-connection-edit", args=[connection.code])
    response = client.post(url, {"base_url": "https://example.amocrm.ru", "token": ""})
    assert response.status_code == 302
    with tenancy.tenant_context(alpha.company):
        connection.refresh_from_db()
    assert crypto.decrypt(connection.credentials) == "t0ken" and not connection.active


def test_the_amocrm_webhook_address_carries_its_secret(client, alpha):
    client.force_login(alpha.admin)
    with tenancy.tenant_context(alpha.company):
        connection = CRMConnection.objects.get(company=alpha.company, vendor="amocrm")
    page = client.get(reverse("crm-connections")).content.decode()
    assert f"/hooks/amocrm/{alpha.company.code}/{connection.code}/{connection.webhook_secret}/" in (
        page
    )


def test_pull_now_queues_a_pull(client, alpha, beta, django_capture_on_commit_callbacks):
    client.force_login(alpha.admin)
    with tenancy.tenant_context(alpha.company):
        own = CRMConnection.objects.get(company=alpha.company)
    with tenancy.tenant_context(beta.company):
        foreign = CRMConnection.objects.get(company=beta.company)
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(reverse("crm-connection-pull", args=[own.code]))
    assert response.status_code == 302 and len(queued) == 1
    assert client.post(reverse("crm-connection-pull", args=[foreign.code])).status_code == 404


def test_other_roles_are_refused(client, alpha):
    with tenancy.tenant_context(alpha.company):
        connection = CRMConnection.objects.get(company=alpha.company)
    for user in (alpha.manager, alpha.head, alpha.quality):
        client.force_login(user)
        assert client.get(reverse("crm-connections")).status_code == 403
        assert client.get(reverse("crm-connection-create")).status_code == 403
        edit = reverse("crm-connection-edit", args=[connection.code])
        assert client.get(edit).status_code == 403
