"""A CRM delivers a webhook twice (a retry after a timeout, or two at once): applied once."""

import threading

import psycopg
import pytest
from django.db import connections

from accounts import tenancy
from crm_sync.models import Call, CRMConnection, Deal, StageVisit
from reports.models import ImportedFigure
from tests.conftest import TenantClient
from tests.crm_sync.fake_crm import form
from tests.crm_sync.test_connectors_pull import pull
from tests.crm_sync.test_connectors_webhooks import FORM, amo_url, bitrix_url, on_portal
from tests.rollups.test_worker import wait_until

Snapshot = dict[str, list[tuple]]


def snapshot(connection: CRMConnection) -> Snapshot:
    """Every deal, stage visit, call and imported report figure of the company."""
    company = connection.company
    with tenancy.tenant_context(company):
        return {
            "deals": sorted(
                Deal.objects.filter(company=company).values_list(
                    "source", "external_id", "stage__external_id", "status", "amount", "closed_at"
                )
            ),
            "visits": sorted(
                StageVisit.objects.filter(company=company).values_list(
                    "deal__external_id", "stage__external_id", "entered_at", "left_at"
                ),
                key=str,
            ),
            "calls": sorted(
                Call.objects.filter(company=company).values_list(
                    "source", "external_id", "direction", "duration", "answered", "manager_id"
                ),
                key=str,
            ),
            "figures": sorted(
                ImportedFigure.objects.filter(company=company).values_list(
                    "manager_id", "date", "kpi__code", "source", "value"
                )
            ),
        }


@pytest.mark.parametrize(
    "payload",
    ["amocrm_webhook_status.txt", "amocrm_webhook_add.txt", "amocrm_webhook_call_note.txt"],
)
def test_it_applies_an_amocrm_webhook_delivered_twice_once(client, alpha, fake, amo, payload):
    pull(amo)  # the portal's users, stages and deals, as a connected company has them
    on_portal(amo, "https://example.amocrm.ru")
    before = snapshot(amo)

    first = client.post(amo_url(amo), form(payload), content_type=FORM)
    once = snapshot(amo)
    again = client.post(amo_url(amo), form(payload), content_type=FORM)

    assert first.status_code == again.status_code == 200
    assert once != before and snapshot(amo) == once


def test_it_applies_a_bitrix24_call_delivered_twice_once(client, alpha, fake, bitrix):
    pull(bitrix)
    on_portal(bitrix, "https://example.bitrix24.ru/rest/1")
    body = form("bitrix24_webhook_call_end.txt")

    assert client.post(bitrix_url(bitrix), body, FORM).status_code == 200
    once = snapshot(bitrix)
    assert client.post(bitrix_url(bitrix), body, FORM).status_code == 200

    assert snapshot(bitrix) == once
    with tenancy.tenant_context(alpha.company):
        stored = Call.objects.filter(company=alpha.company, source="bitrix24")
        assert stored.filter(external_id="externalCall.5d1c0a9e3b7f4e30.1762360000").count() == 1


def deliver_at_once(url: str, body: bytes, tables: list[str]) -> list[int]:
    """Posts the same webhook twice at the same moment, and returns the answers' statuses.

    The tables are held in SHARE mode until both requests wait to insert into them, so both
    have looked for the record, found none and try to create it: the race at its narrowest.
    """
    db = connections["default"].settings_dict
    params = {k.lower(): db[k] for k in ("HOST", "PORT", "NAME", "USER", "PASSWORD")}
    params["dbname"] = params.pop("name")
    statuses: list[int] = []

    def post() -> None:
        try:
            statuses.append(
                TenantClient(raise_request_exception=False)
                .post(url, body, content_type=FORM)
                .status_code
            )
        finally:
            connections.close_all()

    with psycopg.connect(**params, autocommit=True) as watcher, psycopg.connect(**params) as holder:
        holder.execute(f"LOCK TABLE {', '.join(tables)} IN SHARE MODE")
        threads = [threading.Thread(target=post) for _ in range(2)]
        for thread in threads:
            thread.start()
        wait_until(
            lambda: (
                watcher.execute(
                    """SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                AND wait_event_type = 'Lock' AND wait_event = 'relation'"""
                ).fetchone()[0]
                == 2
            ),
            timeout=20,
            what="both deliveries waiting to insert",
        )
        holder.rollback()
    for thread in threads:
        thread.join(timeout=30)
    return statuses


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("payload", "model", "external_id"),
    [
        ("amocrm_webhook_add.txt", Deal, "24100320"),
        ("amocrm_webhook_call_note.txt", Call, "90010050"),
    ],
)
def test_two_deliveries_of_a_new_record_at_the_same_moment_store_it_once(
    alpha, fake, amo, payload, model, external_id
):
    pull(amo)
    on_portal(amo, "https://example.amocrm.ru")

    statuses = deliver_at_once(amo_url(amo), form(payload), [model._meta.db_table])

    assert statuses == [200, 200]
    with tenancy.tenant_context(alpha.company):
        stored = model.objects.filter(company=alpha.company, external_id=external_id)
        assert stored.count() == 1
    once = snapshot(amo)
    assert TenantClient().post(amo_url(amo), form(payload), content_type=FORM).status_code == 200
    assert snapshot(amo) == once
