from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse


def api(key: str) -> Client:
    return Client(headers={"Authorization": f"Token {key}"})


@pytest.mark.django_db
def test_the_funnel_api_gives_the_hand_computed_figures(known_funnel):
    cast = known_funnel.cast
    body = (
        api(cast.api_key)
        .get(
            reverse("api-funnel"),
            {"start": "2026-03-01", "end": "2026-03-31", "manager": known_funnel.manager.code},
        )
        .json()
    )
    assert (body["won"], body["lost"], body["open_deals"]) == (2, 2, 2)
    assert Decimal(body["conversion"]) == Decimal("50.0")
    assert Decimal(body["deal_length"]) == Decimal("11.25")
    assert Decimal(body["coverage"]) == Decimal("0.37") and body["coverage_health"] == "low"
    assert [row["left"] for row in body["stages"]] == [4, 3, 1, 0, 0]
    assert {row["channel"] for row in body["channels"]} == {
        "Сайт",
        "Рекомендация",
        "Холодный звонок",
    }


@pytest.mark.django_db
def test_the_funnel_api_refuses_a_bad_period_and_a_strangers_manager(known_funnel, beta):
    client = api(known_funnel.cast.api_key)
    bad = client.get(reverse("api-funnel"), {"start": "2026-03-31", "end": "2026-03-01"})
    assert bad.status_code == 400 and "раньше" in bad.json()["fields"]["end"][0]
    stranger = client.get(
        reverse("api-funnel"),
        {"start": "2026-03-01", "end": "2026-03-31", "manager": beta.manager.code},
    )
    assert stranger.status_code == 400
    assert (
        api(beta.api_key)
        .get(reverse("api-funnel"), {"start": "2026-03-01", "end": "2026-03-31"})
        .json()["won"]
        == 0
    )


@pytest.mark.django_db
def test_deals_calls_and_the_funnel_are_in_the_openapi_schema(client, alpha):
    client.force_login(alpha.admin)
    paths = client.get(reverse("api-schema"), {"format": "json"}).json()["paths"]
    for path in ("/api/v1/funnel/", "/api/v1/deals/", "/api/v1/calls/", "/api/v1/calls/push/"):
        assert path in paths
