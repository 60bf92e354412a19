import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts import services as account_services
from accounts import tenancy
from rollups import selectors, services
from tests.reports.test_api import api, manager_client


def yesterday(cast) -> datetime.date:
    return cast.company.local_time().date() - datetime.timedelta(days=1)


def client_of(cast, user):
    with tenancy.tenant_context(cast.company):
        _token, key = account_services.api_token_create(user=user, name="dashboard")
    return api(key)


def totals(client, day: datetime.date, period: str = "month") -> list[dict]:
    response = client.get(reverse("api-total-list"), {"period": period, "start": day.isoformat()})
    assert response.status_code == 200, response.content
    return response.json()


def rolled_up(*casts) -> None:
    for cast in casts:
        services.rollup_run(company_id=cast.company.pk)


def test_an_admin_reads_every_total_of_the_company_and_none_of_another(alpha, beta):
    rolled_up(alpha, beta)
    rows = totals(api(alpha.api_key), yesterday(alpha))
    assert {r["scope"] for r in rows} == {"manager", "team", "company"}
    assert {r["subject"] for r in rows} == {
        str(alpha.company.code),
        str(alpha.team.code),
        str(alpha.manager.code),
    }
    calls = next(r for r in rows if r["scope"] == "manager" and r["kpi"] == "calls")
    assert calls["actual"] == "57.0000" and calls["plan"] == "1200.0000"
    assert calls["band"] in {"red", "yellow", "green"}
    body = api(alpha.api_key).get(
        reverse("api-total-list"), {"start": yesterday(alpha).isoformat()}
    )
    assert str(beta.company.code) not in body.content.decode()
    assert str(beta.manager.code) not in body.content.decode()


def test_a_manager_reads_only_their_own_totals(alpha):
    rolled_up(alpha)
    assert totals(manager_client(alpha, 1), yesterday(alpha)) == []
    own = totals(manager_client(alpha, 0), yesterday(alpha), period="day")
    assert own and {(r["scope"], r["subject"]) for r in own} == {
        ("manager", str(alpha.manager.code))
    }


def test_a_head_reads_the_team_and_the_company(alpha):
    rolled_up(alpha)
    rows = totals(client_of(alpha, alpha.head), yesterday(alpha), period="week")
    assert {r["scope"] for r in rows} == {"manager", "team", "company"}
    team = next(r for r in rows if r["scope"] == "team" and r["kpi"] == "calls")
    assert team["share_meeting_plan"] is not None
    assert team["advice"]  # one manager with a plan, below pace or above: never the middle


def test_the_best_manager_on_each_role(alpha):
    rolled_up(alpha)
    response = api(alpha.api_key).get(
        reverse("api-total-best"), {"start": yesterday(alpha).isoformat()}
    )
    assert response.status_code == 200
    best = {row["kpi"]: row for row in response.json()}
    assert best["calls"]["manager"] == str(alpha.manager.code)


def test_a_bad_period_is_refused_with_the_reason(alpha):
    response = api(alpha.api_key).get(reverse("api-total-list"), {"period": "year"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"period", "start"}


@pytest.mark.parametrize(
    ("share", "words"),
    [
        (None, ""),
        (Decimal("59.9"), "завышены"),
        (Decimal(60), ""),
        (Decimal(90), ""),
        (Decimal("90.1"), "лёгкие"),
    ],
)
def test_the_advice_on_the_share_of_the_team_meeting_plan(share, words):
    advice = selectors.plan_advice(share)
    assert (words in advice) if words else advice == ""
