from django.test import Client
from django.urls import reverse

from accounts import tenancy
from accounts.models import SalesRole, User


def token_client(key: str) -> Client:
    return Client(headers={"Authorization": f"Token {key}"})


def test_a_token_authenticates_as_its_user(alpha, beta):
    response = token_client(alpha.api_key).get(reverse("api-me"))
    assert response.status_code == 200
    assert response.json()["username"] == "alpha.admin"


def test_a_forged_token_is_refused(alpha, beta):
    company, _dot, secret = alpha.api_key.partition(".")
    for key in [f"{beta.company.pk}.{secret}", "nonsense", f"{company}.wrong", ""]:
        response = token_client(key).get(reverse("api-me"))
        assert response.status_code == 401, key


def test_the_user_list_is_the_callers_company(alpha, beta):
    response = token_client(alpha.api_key).get(reverse("api-user-list"))
    usernames = {row["username"] for row in response.json()}
    assert "alpha.manager1" in usernames
    assert not any(name.startswith("beta.") for name in usernames)


def test_a_manager_cannot_list_users(client, alpha):
    client.force_login(alpha.manager)
    assert client.get(reverse("api-user-list")).status_code == 403


def test_the_api_creates_a_user_with_codes_of_own_objects_only(alpha, beta):
    api = token_client(alpha.api_key)
    with tenancy.tenant_context(alpha.company):
        hunter = SalesRole.objects.get(company=alpha.company, kind="hunter")
    payload = {
        "username": "alpha.api",
        "password": "Sunny-Meadow-42",
        "role": "manager",
        "team": str(beta.team.code),
        "sales_role": str(hunter.code),
    }
    refused = api.post(reverse("api-user-create"), payload, content_type="application/json")
    assert refused.status_code == 400
    assert "team" in refused.json()["fields"]
    payload["team"] = str(alpha.team.code)
    created = api.post(reverse("api-user-create"), payload, content_type="application/json")
    assert created.status_code == 201
    assert created.json()["team"] == str(alpha.team.code)
    with tenancy.tenant_context(alpha.company):
        assert User.objects.get(username="alpha.api").company == alpha.company


def test_the_api_explains_a_refusal_in_russian(alpha):
    api = token_client(alpha.api_key)
    response = api.post(
        reverse("api-user-create"),
        {"username": "alpha.nobody", "role": "manager", "password": "Sunny-Meadow-42"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "роль в продажах" in response.json()["fields"]["sales_role"][0]


def test_the_api_updates_a_user(alpha):
    api = token_client(alpha.api_key)
    response = api.patch(
        reverse("api-user-update", args=[alpha.manager.code]),
        {"first_name": "Пётр"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["first_name"] == "Пётр"


def test_teams_and_sales_roles(alpha):
    api = token_client(alpha.api_key)
    teams = api.get(reverse("api-team-list")).json()
    assert [t["name"] for t in teams] == [alpha.team.name]
    assert teams[0]["manager_count"] == 3
    created = api.post(
        reverse("api-team-create"),
        {"name": "Новая", "head": str(alpha.head.code)},
        content_type="application/json",
    )
    assert created.status_code == 201
    roles = api.post(
        reverse("api-sales-role-create"), {"name": "SDR"}, content_type="application/json"
    )
    assert roles.status_code == 201
    kinds = {r["kind"] for r in api.get(reverse("api-sales-role-list")).json()}
    assert kinds == {"hunter", "closer", "farmer", "custom"}


def test_the_schema_and_docs_are_served_locally_to_logged_in_users(client, alpha):
    assert client.get(reverse("api-schema")).status_code == 401
    client.force_login(alpha.manager)
    schema = client.get(reverse("api-schema"), {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/users/{code}/update/" in paths
    assert "tokenAuth" in schema.json()["components"]["securitySchemes"]
    docs = client.get(reverse("api-docs")).content.decode()
    assert "swagger-ui" in docs
    assert "cdn" not in docs.lower()


def test_the_profile_page_creates_and_revokes_tokens(client, alpha):
    client.force_login(alpha.manager)
    body = client.post(reverse("profile"), {"name": "Скрипт"}).content.decode()
    key = body.split('<code class="key">')[1].split("</code>")[0]
    assert token_client(key).get(reverse("api-me")).json()["username"] == "alpha.manager1"
    with tenancy.tenant_context(alpha.company):
        token = alpha.manager.api_tokens.get()
    client.post(reverse("api-token-revoke", args=[token.code]))
    assert token_client(key).get(reverse("api-me")).status_code == 401
