"""The API's errors in one shape, filters that refuse what the caller may not see, the month
format of plans and the head's user list (issue 25; issue 20's «403 on /api/v1/users/»)."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts import services as account_services
from accounts import tenancy
from accounts.models import User
from tests.conftest import Cast, TenantClient
from tests.factories import PASSWORD

SHAPE = {"code", "message", "fields"}


def api(key: str, **headers: str) -> Client:
    return Client(headers={"Authorization": f"Token {key}", **headers})


def logged_in(user: User) -> Client:
    client = TenantClient()
    client.force_login(user)
    return client


@pytest.fixture
def other_team(alpha: Cast) -> User:
    """A manager of a second team of alpha's, led by another head: outside alpha.head's view."""
    with tenancy.tenant_context(alpha.company):
        other_head = account_services.user_create(
            company=alpha.company, username="alpha.head2", password=PASSWORD, role=User.Role.HEAD
        )
        team = account_services.team_create(company=alpha.company, name="Вторая", head=other_head)
        return account_services.user_create(
            company=alpha.company, username="alpha.stranger", password=PASSWORD, team=team,
            sales_role=alpha.manager.sales_role, first_name="Чужой", last_name="Менеджер",
        )  # fmt: skip


def test_it_answers_every_error_in_one_shape(alpha: Cast):
    client = api(alpha.api_key)
    invalid = client.post(reverse("api-user-create"), {}, content_type="application/json")
    assert invalid.status_code == 400
    body = invalid.json()
    assert set(body) == SHAPE and body["code"] == "invalid"
    assert body["fields"]["username"] == ["Обязательное поле."]
    assert body["message"] == "username: Обязательное поле."
    unauthenticated = Client().get(reverse("api-me")).json()
    assert set(unauthenticated) == SHAPE and unauthenticated["code"] == "not_authenticated"
    assert unauthenticated["message"]
    missing = client.get(reverse("api-user-detail", args=["6f1c5e3e-0000-4000-8000-000000000000"]))
    assert missing.status_code == 404
    assert missing.json() == {"code": "not_found", "message": "Страница не найдена.", "fields": {}}
    refused = logged_in(alpha.manager).post(
        reverse("api-kpi-create"), {"code": "x"}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied" and refused.json()["fields"] == {}
    wrong_method = client.delete(reverse("api-me"))
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "method_not_allowed"
    malformed = client.post(reverse("api-user-create"), "{", content_type="application/json").json()
    assert malformed["code"] == "parse_error" and malformed["message"]


def test_it_speaks_the_language_the_caller_asks_for(alpha: Cast):
    russian = api(alpha.api_key).get(reverse("api-plan-list"), {"month": "2026-13"})
    english = api(alpha.api_key, **{"Accept-Language": "en"}).get(
        reverse("api-plan-list"), {"month": "2026-13"}
    )
    assert russian.status_code == english.status_code == 400
    assert russian.json()["fields"]["month"] == [
        "Месяц пишется как 2026-12 (год-месяц) или как дата в нём."
    ]
    assert english.json()["fields"]["month"] == [
        "Write a month as 2026-12 (year-month) or as a date in it."
    ]
    assert english.headers["Content-Language"] == "en"


def test_plans_take_a_month_as_year_and_month(alpha: Cast):
    client = api(alpha.api_key)
    month = client.get(reverse("api-plan-list"), {"month": "2026-12"})
    day = client.get(reverse("api-plan-list"), {"month": "2026-12-15"})
    assert month.status_code == day.status_code == 200
    assert month.json() == day.json()


@pytest.mark.parametrize("name", ["api-report-list", "api-deal-list", "api-call-list"])
def test_a_filter_naming_another_companys_manager_is_refused(alpha: Cast, beta: Cast, name):
    response = api(alpha.api_key).get(reverse(name), {"manager": str(beta.manager.code)})
    assert response.status_code == 400
    assert response.json()["fields"]["manager"] == [
        "Нет такого менеджера среди тех, кого вы видите."
    ]


@pytest.mark.parametrize("name", ["api-report-list", "api-deal-list", "api-call-list"])
def test_a_filter_naming_a_manager_outside_the_heads_teams_is_refused(
    alpha: Cast, other_team: User, name
):
    client = logged_in(alpha.head)
    refused = client.get(reverse(name), {"manager": str(other_team.code)})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid"
    own = client.get(reverse(name), {"manager": str(alpha.manager.code)})
    assert own.status_code == 200


def test_a_head_lists_the_people_of_their_teams_by_name(alpha: Cast, other_team: User):
    client = logged_in(alpha.head)
    response = client.get(reverse("api-user-list"))
    assert response.status_code == 200
    listed = {row["code"]: row for row in response.json()}
    for manager in alpha.managers:
        assert listed[str(manager.code)]["last_name"] == manager.last_name
    assert str(alpha.head.code) in listed
    assert str(other_team.code) not in listed
    assert str(alpha.admin.code) not in listed
    own = client.get(reverse("api-user-detail", args=[alpha.manager.code]))
    assert own.status_code == 200 and own.json()["first_name"] == alpha.manager.first_name
    assert client.get(reverse("api-user-detail", args=[other_team.code])).status_code == 404


def test_a_manager_still_may_not_list_users(alpha: Cast):
    response = logged_in(alpha.manager).get(reverse("api-user-list"))
    assert response.status_code == 403 and response.json()["message"]


def test_an_unknown_api_path_is_a_404_in_the_same_shape(alpha: Cast):
    for path in ("/api/v1/nothing/", "/api/v1/calendar/1539508871164/"):
        response = api(alpha.api_key).get(path)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found", path
        assert response.json()["message"].startswith("Такого адреса в API нет"), path
    english = api(alpha.api_key).get("/api/v1/nothing/", headers={"Accept-Language": "en"})
    assert english.json()["message"].startswith("There is no such address in the API")
