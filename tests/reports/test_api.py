from django.test import Client
from django.urls import reverse

from accounts import tenancy
from reports.models import DailyReport, ReportValue

# The API takes figures in each KPI's unit, as numbers: a duration in seconds.
FIGURES = {"calls": 60, "long_calls": 25, "talk_time": 5400, "leads": 4}


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
    assert "«сорок» — не число" in bad.json()["fields"]["calls"][0]
    future = client.post(
        reverse("api-report-submit"),
        {"date": "2099-01-01", "values": FIGURES},
        content_type="application/json",
    )
    assert "за будущий день" in future.json()["fields"]["date"][0]


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
    # The old shape, a bare list, as clients written before the cursor read it.
    mine = manager_client(alpha, index=0).get(reverse("api-report-list")).json()
    assert {r["manager"] for r in mine} == {str(alpha.manager.code)}
    assert manager_client(alpha, index=1).get(reverse("api-report-list")).json() == []
    everyone = api(alpha.api_key).get(reverse("api-report-list")).json()
    assert len(everyone) == 1
    paged = manager_client(alpha, index=1).get(reverse("api-report-list"), {"page_size": 10})
    assert paged.json() == {"next": None, "previous": None, "results": []}
    with tenancy.tenant_context(beta.company):
        foreign = DailyReport.objects.get(manager=beta.manager)
    assert (
        api(alpha.api_key).get(reverse("api-report-detail", args=[foreign.code])).status_code == 404
    )


def test_a_report_read_and_posted_back_unchanged_stays_identical(alpha, today):
    client = manager_client(alpha)
    created = client.post(
        reverse("api-report-submit"),
        {"date": today.isoformat(), "values": {**FIGURES, "talk_time": 5168}},
        content_type="application/json",
    ).json()
    read = client.get(reverse("api-report-detail", args=[created["code"]])).json()
    values = {v["kpi"]: v["value"] for v in read["values"]}
    assert values["talk_time"] == "5168.0000"  # seconds, as it went in
    again = client.post(
        reverse("api-report-correct", args=[read["code"]]),
        {"values": values, "version": read["version"]},
        content_type="application/json",
    )
    assert again.status_code == 200
    assert {v["kpi"]: v["value"] for v in again.json()["values"]} == values
    assert again.json()["changes"] == []
    with tenancy.tenant_context(alpha.company):
        stored = ReportValue.objects.get(report__code=read["code"], kpi__code="talk_time")
    assert stored.value == 5168


def test_the_api_takes_numbers_in_the_unit_not_as_typed(alpha, today):
    client = manager_client(alpha)
    for text in ("1:30:00", "90 мин", "1e30"):
        bad = client.post(
            reverse("api-report-submit"),
            {"date": today.isoformat(), "values": {**FIGURES, "talk_time": text}},
            content_type="application/json",
        )
        assert bad.status_code == 400
        assert "не число" in bad.json()["fields"]["talk_time"][0]
    beyond = client.post(
        reverse("api-report-submit"),
        {"date": today.isoformat(), "values": {**FIGURES, "calls": 1e30}, "confirmed": True},
        content_type="application/json",
    )
    assert beyond.status_code == 400
    huge = client.post(
        reverse("api-report-submit"),
        {"date": today.isoformat(), "values": {**FIGURES, "talk_time": 86401}},
        content_type="application/json",
    )
    assert "не больше 24 ч" in huge.json()["fields"]["talk_time"][0]
    with tenancy.tenant_context(alpha.company):
        assert not DailyReport.objects.filter(manager=alpha.managers[1], date=today).exists()


def test_the_schema_states_the_unit_of_every_figure(alpha):
    schema = api(alpha.api_key).get(reverse("api-schema"), {"format": "json"}).json()
    components = schema["components"]["schemas"]
    assert "seconds" in components["ReportInput"]["properties"]["values"]["description"]
    assert "seconds" in components["ValueOutput"]["properties"]["value"]["description"]
