"""The BI exports: totals (both readings of a running period) and facts as flat tables with
stable columns, CSV and JSON lines, streamed, read with a company token that reaches nothing
else and stops working when revoked."""

import csv
import datetime
import io
import json

from django.test import Client
from django.urls import reverse

from rollups import services as rollup_services
from rollups.exports import FACT_COLUMNS, TOTAL_COLUMNS
from tests.conftest import Cast


def admin_api(cast: Cast) -> Client:
    return Client(headers={"Authorization": f"Token {cast.api_key}"})


def bearer(key: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {key}"})


def body(response) -> str:
    return b"".join(response.streaming_content).decode()


def make_token(cast: Cast) -> str:
    made = admin_api(cast).post(
        reverse("api-company-token-list"),
        {"name": "DataLens", "scopes": ["exports:read"]},
        "application/json",
    )
    assert made.status_code == 201
    return made.json()["key"]


def test_a_company_token_is_shown_once_and_reads_only_the_exports(alpha: Cast):
    key = make_token(alpha)
    listed = admin_api(alpha).get(reverse("api-company-token-list")).json()
    # Newest first: the cast's own (its BI token, its PBX's) are older.
    assert [row["name"] for row in listed] == ["DataLens", "АТС Новофон", "BI"]
    assert "key" not in listed[0] and listed[0]["scopes"] == ["exports:read"]
    for name in ("api-me", "api-user-list", "api-total-list", "api-deal-list"):
        answer = bearer(key).get(reverse(name))
        assert answer.status_code == 401, name
        assert answer.json()["code"] == "not_authenticated"
    start = alpha.company.today().isoformat()
    assert bearer(key).get(reverse("api-export-totals-csv"), {"start": start}).status_code == 200
    revoked = admin_api(alpha).delete(reverse("api-company-token-detail", args=[listed[0]["code"]]))
    assert revoked.status_code == 200 and revoked.json()["revoked"]
    refused = bearer(key).get(reverse("api-export-totals-csv"), {"start": start})
    assert refused.status_code == 401 and refused.json()["code"] == "authentication_failed"


def test_a_manager_may_not_make_a_token_and_an_unknown_scope_is_refused(client, alpha: Cast):
    client.force_login(alpha.head)
    payload = {"name": "x", "scopes": ["exports:read"]}
    refused = client.post(reverse("api-company-token-list"), payload, "application/json")
    assert refused.status_code == 403
    unknown = admin_api(alpha).post(
        reverse("api-company-token-list"), {"name": "x", "scopes": ["all"]}, "application/json"
    )
    assert unknown.status_code == 400 and "scopes.0" in unknown.json()["fields"]


def test_the_totals_export_has_the_stable_columns_and_the_apis_readings(alpha: Cast):
    rollup_services.rollup_run(company_id=alpha.company.pk)
    key = make_token(alpha)
    start = alpha.company.today().isoformat()
    exported = bearer(key).get(reverse("api-export-totals-csv"), {"start": start})
    assert exported["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(body(exported))))
    assert tuple(rows[0]) == TOTAL_COLUMNS
    api = admin_api(alpha).get(reverse("api-total-list"), {"start": start}).json()
    assert len(rows) == len(api)
    by_key = {(t["subject"], t["kpi"]): t for t in api}
    for row in rows:
        total = by_key[(row["subject_code"], row["kpi_code"])]
        for reading in ("done_so_far_completion", "pace_completion", "band", "band_reading"):
            assert row[reading] == (total[reading] or ""), reading
    names = {row["subject_name"] for row in rows if row["scope"] == "manager"}
    assert f"{alpha.manager.last_name} {alpha.manager.first_name}" in names
    lines = body(bearer(key).get(reverse("api-export-totals-jsonl"), {"start": start}))
    parsed = [json.loads(line) for line in lines.splitlines()]
    assert [tuple(p) for p in parsed] == [TOTAL_COLUMNS] * len(rows)


def test_the_facts_export_is_the_companys_reports_only(alpha: Cast, beta: Cast, client):
    key = make_token(alpha)
    today = alpha.company.today()
    period = {"start": (today - datetime.timedelta(days=40)).isoformat(), "end": today.isoformat()}
    lines = body(bearer(key).get(reverse("api-export-facts-jsonl"), period)).splitlines()
    facts = [json.loads(line) for line in lines]
    assert facts and all(tuple(fact) == FACT_COLUMNS for fact in facts)
    managers = {fact["manager_code"] for fact in facts}
    assert str(alpha.manager.code) in managers
    assert not managers & {str(m.code) for m in beta.managers}
    client.force_login(alpha.manager)
    assert client.get(reverse("api-export-facts-csv"), period).status_code == 403
    too_long = bearer(key).get(
        reverse("api-export-facts-csv"), {"start": "2025-01-01", "end": "2026-12-31"}
    )
    assert too_long.status_code == 400 and too_long.json()["fields"]["end"]
