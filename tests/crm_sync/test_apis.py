import pytest
from django.test import Client
from django.urls import reverse

from accounts import tenancy
from reports.models import ImportedFigure


def api(key: str) -> Client:
    return Client(headers={"Authorization": f"Token {key}"})


CALL = {
    "external_id": "pbx-1", "direction": "out", "started_at": "2026-11-10T10:00:00+03:00",
    "duration": 95, "answered": True, "phone": "8 900 555-44-33", "client_name": "ООО Звон",
}  # fmt: skip


@pytest.mark.django_db
def test_telephony_pushes_a_call_once_and_it_prefills_the_report(alpha):
    client = api(alpha.api_key)
    body = {**CALL, "manager": str(alpha.managers[1].code)}
    first = client.post(reverse("api-call-push"), body, content_type="application/json")
    again = client.post(reverse("api-call-push"), body, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["code"] == again.json()["code"] and first.json()["phone"] == "79005554433"
    with tenancy.tenant_context(alpha.company):
        talk = ImportedFigure.objects.get(
            company=alpha.company, manager=alpha.managers[1], kpi__code="talk_time"
        )
    assert talk.value == 95 and str(talk.date) == "2026-11-10"
    listed = client.get(reverse("api-call-list"), {"from": "2026-11-10", "to": "2026-11-10"})
    assert [row["external_id"] for row in listed.json()["results"]] == ["pbx-1"]


@pytest.mark.django_db
def test_a_push_is_refused_for_a_stranger_manager_bad_fields_and_a_manager_token(alpha, beta):
    client = api(alpha.api_key)
    stranger = client.post(
        reverse("api-call-push"), {**CALL, "manager": str(beta.manager.code)},
        content_type="application/json",
    )  # fmt: skip
    assert stranger.status_code == 400 and "manager" in stranger.json()["fields"]
    negative = client.post(
        reverse("api-call-push"), {**CALL, "manager": str(alpha.manager.code), "duration": -5},
        content_type="application/json",
    )  # fmt: skip
    assert negative.status_code == 400 and "duration" in negative.json()["fields"]


@pytest.mark.django_db
def test_deals_are_listed_for_the_callers_company_only(alpha, beta):
    rows = api(alpha.api_key).get(reverse("api-deal-list")).json()["results"]
    titles = {row["title"] for row in rows}
    assert f"{alpha.company.name}: сделка" in titles
    assert not any(beta.company.name in title for title in titles)
    won = api(alpha.api_key).get(reverse("api-deal-list"), {"status": "won"}).json()["results"]
    assert [row["status"] for row in won] == ["won"]


@pytest.mark.django_db
def test_a_manager_lists_only_their_own_calls(alpha):
    from accounts import services

    client = api(alpha.api_key)
    for number, manager in (("own", alpha.managers[1]), ("other", alpha.managers[2])):
        body = {**CALL, "external_id": number, "manager": str(manager.code)}
        client.post(reverse("api-call-push"), body, content_type="application/json")
    with tenancy.tenant_context(alpha.company):
        _token, key = services.api_token_create(user=alpha.managers[1], name="мой")
    rows = api(key).get(reverse("api-call-list")).json()["results"]
    assert [row["external_id"] for row in rows] == ["own"]
    everyone = client.get(reverse("api-call-list")).json()["results"]
    assert {"own", "other"} <= {row["external_id"] for row in everyone}


@pytest.mark.django_db
@pytest.mark.parametrize("duration", [86_401, 10**12])
def test_a_pushed_call_longer_than_a_day_is_refused(alpha, duration):
    response = api(alpha.api_key).post(
        reverse("api-call-push"),
        {**CALL, "manager": str(alpha.manager.code), "duration": duration},
        content_type="application/json",
    )
    assert response.status_code == 400 and "duration" in response.json()["fields"]
