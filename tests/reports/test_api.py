from django.test import Client
from django.urls import reverse

from accounts import tenancy
from reports.models import DailyReport
from tests.reports.conftest import FIGURES


def api(key: str) -> Client:
    return Client(headers={"Authorization": f"Token {key}"})


def manager_client(cast, index=1):
    from accounts import services

    with tenancy.tenant_context(cast.company):
        _token, key = services.api_token_create(user=cast.managers[index], name="mobile")
    return api(key)


def test_a_manager_submits_and_corrects_by_api(alpha, today):
    client = manager_client(alpha)
    created = client.post(
        reverse("api-report-submit"),
        {"date": today.isoformat(), "values": FIGURES},
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert {v["kpi"]: v["value"] for v in body["values"]}["talk_time"] == "5400.0000"
    corrected = client.post(
        reverse("api-report-correct", args=[body["code"]]),
        {"values": {**FIGURES, "calls": "61"}, "version": body["version"]},
        content_type="application/json",
    )
    assert corrected.status_code == 200
    assert corrected.json()["changes"][0]["old_value"] == "60.0000"


def test_the_api_gives_the_forms_messages(alpha, today):
    client = manager_client(alpha)
    bad = client.post(
        reverse("api-report-submit"),
        {"date": today.isoformat(), "values": {**FIGURES, "calls": "сорок"}},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "«сорок» — не число" in bad.json()["calls"][0]
    future = client.post(
        reverse("api-report-submit"),
        {"date": "2099-01-01", "values": FIGURES},
        content_type="application/json",
    )
    assert "за будущий день" in future.json()["date"][0]


def test_a_second_submission_is_a_conflict_not_an_overwrite(alpha, today):
    client = manager_client(alpha)
    payload = {"date": today.isoformat(), "values": FIGURES}
    client.post(reverse("api-report-submit"), payload, content_type="application/json")
    again = client.post(
        reverse("api-report-submit"),
        {**payload, "values": {**FIGURES, "calls": "45"}},
        content_type="application/json",
    )
    assert again.status_code == 409
    assert "сохранено 60, у вас 45" in again.json()["conflict"]
    assert again.json()["stored"]["calls"] == "60.0000"


def test_the_list_is_scoped_to_what_the_caller_may_see(alpha, beta):
    mine = manager_client(alpha, index=0).get(reverse("api-report-list")).json()
    assert {r["manager"] for r in mine} == {str(alpha.manager.code)}
    assert manager_client(alpha, index=1).get(reverse("api-report-list")).json() == []
    everyone = api(alpha.api_key).get(reverse("api-report-list")).json()
    assert len(everyone) == 1
    with tenancy.tenant_context(beta.company):
        foreign = DailyReport.objects.get(manager=beta.manager)
    assert (
        api(alpha.api_key).get(reverse("api-report-detail", args=[foreign.code])).status_code == 404
    )
