"""The generic push takes the company's `calls:push` token; a person's admin token still
works for one release, marked deprecated."""

from django.test import Client
from django.urls import reverse

from accounts import services as account_services
from accounts import tenancy
from accounts.models import CompanyToken, User


def company_key(cast, scopes: list[str]) -> str:
    with tenancy.tenant_context(cast.company):
        _token, key = account_services.company_token_create(
            company=cast.company, name="АТС", scopes=scopes, actor=cast.admin
        )
    return key


def push(cast, header: str, external_id: str = "push-1"):
    body = {
        "external_id": external_id, "manager": str(cast.managers[0].code), "direction": "out",
        "started_at": "2026-12-01T10:00:00+03:00", "duration": 61, "answered": True,
        "phone": "+7 912 555-01-09", "recording_url": "https://pbx.example.net/rec/1.mp3",
    }  # fmt: skip
    return Client().post(
        reverse("api-call-push"), body, content_type="application/json",
        headers={"Authorization": header},
    )  # fmt: skip


def test_a_calls_push_company_token_pushes_and_outlives_its_maker(alpha):
    key = company_key(alpha, [CompanyToken.Scope.CALLS_PUSH])
    with tenancy.tenant_context(alpha.company):
        User.objects.filter(pk=alpha.admin.pk).update(is_active=False)
    response = push(alpha, f"Bearer {key}")
    assert response.status_code == 201 and "Deprecation" not in response.headers
    again = push(alpha, f"Bearer {key}")
    assert again.status_code == 200


def test_a_token_without_the_scope_or_revoked_is_refused(alpha):
    exports = company_key(alpha, [CompanyToken.Scope.EXPORTS_READ])
    assert push(alpha, f"Bearer {exports}").status_code == 403
    key = company_key(alpha, [CompanyToken.Scope.CALLS_PUSH])
    with tenancy.tenant_context(alpha.company):
        token = CompanyToken.objects.get(company=alpha.company, prefix=key[:12])
        account_services.company_token_revoke(token=token, actor=alpha.admin)
    assert push(alpha, f"Bearer {key}").status_code == 401


def test_an_admins_personal_token_still_pushes_but_is_deprecated(alpha):
    response = push(alpha, f"Token {alpha.api_key}")
    assert response.status_code == 201
    assert response.headers["Deprecation"] == "true"


def test_the_company_token_api_offers_the_calls_push_scope(alpha, client):
    client.force_login(alpha.admin)
    response = client.post(
        reverse("api-company-token-list"),
        {"name": "Mango", "scopes": ["calls:push"]},
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["key"]
