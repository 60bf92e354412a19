"""Rhythm alerts: a regular client overdue against their own rhythm of orders.

Клиент «Ритм» (alpha.managers[1]) orders on 01.03, 15.03, 29.03 and 12.04.2026: gaps
14, 14, 14, median 14; × 1.5 = 21 days allowed. April's classification makes it A (the
only buyer in the window). On 03.05 it is 21 days since the last order: not yet; on 04.05
22 > 21: the alert opens, due since 12.04 + 22 = 04.05. A new order on 06.05 closes it.
"""

import datetime
from decimal import Decimal

import pytest

from accounts import tenancy
from clients import services
from clients.models import ClientAlert
from crm_sync import services as crm
from crm_sync.models import PipelineStage
from tests.clients.conftest import make_client, noon, won_deal

APRIL = datetime.date(2026, 4, 1)
ORDERS = [(2026, 3, 1), (2026, 3, 15), (2026, 3, 29), (2026, 4, 12)]


@pytest.fixture
def rhythm(alpha):
    with tenancy.tenant_context(alpha.company):
        regular = make_client(alpha.company, "Ритм")
        for moment in ORDERS:
            won_deal(alpha.company, regular, noon(*moment), 100000, alpha.managers[1])
        services.classification_run(
            company=alpha.company, month=APRIL, today=datetime.date(2026, 5, 1)
        )
    return alpha, regular


def alerts_of(cast):  # type: ignore[no-untyped-def]
    return list(
        ClientAlert.objects.filter(company=cast.company, client__name="Ритм").values_list(
            "status", "due_since", "median_gap_days", "manager_id"
        )
    )


def test_it_opens_once_and_closes_on_a_new_order(rhythm):
    cast, regular = rhythm
    company = cast.company
    with tenancy.tenant_context(company):
        assert services.alerts_refresh(company=company, today=datetime.date(2026, 5, 3)).opened == 0
        assert services.alerts_refresh(company=company, today=datetime.date(2026, 5, 4)).opened == 1
        assert services.alerts_refresh(company=company, today=datetime.date(2026, 5, 5)).opened == 0
        assert alerts_of(cast) == [
            ("open", datetime.date(2026, 5, 4), Decimal("14.0"), cast.managers[1].pk)
        ]
        won_deal(company, regular, noon(2026, 5, 6), 90000, cast.managers[1])
        result = services.alerts_refresh(company=company, today=datetime.date(2026, 5, 7))
        assert (result.opened, result.closed) == (0, 1)
        assert [status for status, *_rest in alerts_of(cast)] == ["closed"]


def test_fewer_than_three_orders_are_no_rhythm(alpha):
    with tenancy.tenant_context(alpha.company):
        rare = make_client(alpha.company, "Редкий")
        for moment in ORDERS[:2]:
            won_deal(alpha.company, rare, noon(*moment), 500000, alpha.managers[1])
        services.classification_run(
            company=alpha.company, month=APRIL, today=datetime.date(2026, 5, 1)
        )
        result = services.alerts_refresh(company=alpha.company, today=datetime.date(2026, 9, 1))
    assert result.opened == 0


def test_the_manager_sees_their_alerts_and_the_head_the_teams(rhythm, client):
    cast, _regular = rhythm
    with tenancy.tenant_context(cast.company):
        services.alerts_refresh(company=cast.company, today=datetime.date(2026, 5, 4))
    owner, other = cast.managers[1], cast.managers[2]
    client.force_login(owner)
    assert "Ритм" in client.get("/clients/alerts/").content.decode()
    report = client.get("/report/").url
    page = client.get(report).content.decode()
    assert 'id="client-alerts-block"' in page and "Ритм" in page
    client.force_login(other)
    assert "Ритм" not in client.get("/clients/alerts/").content.decode()
    client.force_login(cast.head)
    assert "Ритм" in client.get("/clients/alerts/").content.decode()


def test_a_won_deal_from_the_crm_closes_the_alert_at_once(rhythm):
    cast, regular = rhythm
    company = cast.company
    with tenancy.tenant_context(company):
        services.alerts_refresh(company=company, today=datetime.date(2026, 5, 4))
        won = PipelineStage.objects.get(kind=PipelineStage.Kind.WON)
        crm.deal_upsert(company=company, source="file", data=crm.DealData(
            external_id="again", stage=won, created_at=noon(2026, 5, 5), client=regular,
            manager=cast.managers[1], amount=Decimal(80000), closed_at=noon(2026, 5, 6),
        ))  # fmt: skip
        assert [status for status, *_rest in alerts_of(cast)] == ["closed"]
