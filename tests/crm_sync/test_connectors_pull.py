"""The periodic pull from amoCRM and Bitrix24, against their recorded pages on loopback."""

import datetime
import itertools
from decimal import Decimal

import pytest

from accounts import tenancy
from crm_sync import connectors, tasks
from crm_sync.models import Call, CRMConnection, Deal, PipelineStage, StageVisit
from crm_sync.vendors.http import CRMUnavailable
from tests.crm_sync.fake_crm import AMO_TOKEN

# The fake answers two records a page (fake_crm.PAGE): the clients are told so.
FAST = {"requests_per_second": 100, "page_size": 2}


def ts(text: str) -> int:
    return int(datetime.datetime.fromisoformat(text + "+00:00").timestamp())


def pull(connection: CRMConnection, **http) -> connectors.SyncResult:
    return connectors.connection_pull(
        company_id=connection.company_id, code=connection.code, **{**FAST, **http}
    )


def reload(connection: CRMConnection) -> CRMConnection:
    with tenancy.tenant_context(connection.company_id):
        return CRMConnection.objects.get(pk=connection.pk)


def deals(cast, source: str) -> dict[str, Deal]:
    with tenancy.tenant_context(cast.company):
        found = Deal.objects.filter(company=cast.company, source=source)
        return {d.external_id: d for d in found.select_related("stage", "manager", "client")}


def calls(cast, source: str) -> dict[str, Call]:
    with tenancy.tenant_context(cast.company):
        found = Call.objects.filter(company=cast.company, source=source).select_related("manager")
        return {c.external_id: c for c in found}


def test_it_pulls_amocrm_deals_and_calls(alpha, fake, amo):
    result = pull(amo)

    stored = deals(alpha, "amocrm")
    assert set(stored) == {"24100311", "24100312", "24100313", "24100314"}
    vector = stored["24100311"]
    assert vector.manager == alpha.managers[0]  # e-mail matched whatever its case
    assert vector.client.name == "Анна Смирнова" and vector.client.phone == "79125550101"
    assert vector.amount == Decimal(480000) and vector.stage.external_id == "61390010"
    assert stored["24100312"].manager == alpha.managers[1]
    assert stored["24100313"].status == Deal.Status.WON  # system status 142, unmapped
    assert stored["24100313"].closed_at == datetime.datetime(
        2026, 11, 3, 12, 5, tzinfo=datetime.UTC
    )
    assert stored["24100314"].status == Deal.Status.LOST
    assert stored["24100314"].loss_reason == "Дорого"

    stored_calls = calls(alpha, "amocrm")
    assert set(stored_calls) == {"90010001", "90010002", "90010003"}
    assert (stored_calls["90010001"].direction, stored_calls["90010001"].answered) == ("out", True)
    assert stored_calls["90010001"].duration == 184
    assert (stored_calls["90010002"].answered, stored_calls["90010002"].manager) == (
        False,
        alpha.managers[1],
    )
    assert stored_calls["90010003"].direction == "in"

    assert (result.created, result.skipped) == (7, 1)
    connection = reload(amo)
    assert connection.cursor["deals"] == {"since": ts("2026-11-04T13:10:00"), "seen": ["24100315"]}
    assert connection.cursor["calls"]["since"] == ts("2026-11-03T11:45:00")
    assert connection.cursor["retry"]["deals"] == ["24100315"]
    assert "61390099" in connection.last_error
    assert connection.last_pull_at is not None


def test_a_second_pull_fetches_nothing_new_and_a_later_move_is_recorded(alpha, fake, amo):
    pull(amo)
    since = reload(amo).cursor["deals"]["since"]
    fake.log.clear()

    again = pull(amo)

    assert (again.created, again.updated) == (0, 0)
    asked = fake.lead_requests()[-1][2]
    assert asked["filter[updated_at][from]"] == str(since)
    assert reload(amo).cursor["deals"]["since"] == since

    lead = next(lead for lead in fake.leads if lead["id"] == 24100311)
    lead["status_id"], lead["updated_at"] = 61390013, ts("2026-11-06T08:00:00")
    moved = pull(amo)

    assert (moved.created, moved.updated) == (0, 1)
    deal = deals(alpha, "amocrm")["24100311"]
    assert deal.stage.external_id == "61390013"
    with tenancy.tenant_context(alpha.company):
        visits = list(
            StageVisit.objects.filter(company=alpha.company, deal=deal).select_related("stage")
        )
    assert [v.stage.external_id for v in visits] == ["61390010", "61390013"]
    assert (
        visits[0].left_at
        == visits[1].entered_at
        == datetime.datetime(2026, 11, 6, 8, 0, tzinfo=datetime.UTC)
    )
    assert reload(amo).cursor["deals"]["since"] == ts("2026-11-06T08:00:00")


def test_a_deal_at_an_unmapped_stage_is_fetched_again_once_the_stage_is_mapped(alpha, fake, amo):
    pull(amo)
    with tenancy.tenant_context(alpha.company):
        stage = PipelineStage.objects.get(company=alpha.company, name="Встреча / презентация")
        stage.external_id = "61390099"
        stage.save()

    result = pull(amo)

    assert result.created == 1
    assert deals(alpha, "amocrm")["24100315"].stage == stage
    connection = reload(amo)
    assert connection.cursor["retry"]["deals"] == []
    assert connection.last_error == ""
    assert fake.lead_requests()[-2][2]["filter[id][]"] == "24100315"


def test_it_pulls_bitrix24_at_two_requests_a_second(alpha, fake, bitrix):
    result = pull(bitrix, requests_per_second=2)

    moments = [entry[0] for entry in fake.log]
    assert min(b - a for a, b in itertools.pairwise(moments)) >= 0.45
    stored = deals(alpha, "bitrix24")
    assert set(stored) == {"1201", "1202", "1203", "1204"}
    assert stored["1202"].stage.external_id == "PREPARATION"
    assert stored["1202"].manager == alpha.managers[1] and stored["1202"].channel == "Звонок"
    assert stored["1202"].client.name == "Пётр Орлов"
    assert stored["1203"].status == Deal.Status.WON and stored["1203"].is_repeat
    assert stored["1204"].status == Deal.Status.LOST  # C3:LOSE in another pipeline
    stored_calls = calls(alpha, "bitrix24")
    assert len(stored_calls) == 3
    missed = stored_calls["externalCall.5d1c0a9e3b7f4e22.1762070400"]
    assert (missed.direction, missed.answered, missed.manager) == ("out", False, alpha.managers[1])
    assert result.skipped == 1  # C3:EXECUTING is not mapped
    connection = reload(bitrix)
    assert connection.cursor["deals"]["since"] == "2026-11-04T12:30:00+03:00"
    assert connection.cursor["retry"]["deals"] == ["1205"]


def test_a_second_bitrix24_pull_stores_nothing_new(alpha, fake, bitrix):
    pull(bitrix)
    again = pull(bitrix)
    assert (again.created, again.updated) == (0, 0)
    last = [entry for entry in fake.log if entry[1] == "crm.deal.list"][-1][2]
    assert last["filter"] == {">=DATE_MODIFY": "2026-11-04T12:30:00+03:00"}


def test_a_refused_token_is_recorded_and_not_retried(alpha, fake, amo):
    with tenancy.tenant_context(alpha.company):
        connectors.connection_configure(
            company=alpha.company, vendor="amocrm", base_url=fake.url, token="expired",
            connection=amo,
        )  # fmt: skip
    result = pull(amo)
    assert result.errors and "401" in reload(amo).last_error
    assert deals(alpha, "amocrm") == {}


def test_a_crm_limiting_us_is_left_to_the_task_to_retry(alpha, fake, amo):
    fake.limit.add("/api/v4/users")
    with pytest.raises(CRMUnavailable):
        pull(amo)
    assert len(fake.requests_to("/api/v4/users")) == 1  # no retry inside the request
    assert "429" in reload(amo).last_error


def test_the_beat_task_queues_a_pull_of_every_active_connection(alpha, beta):
    with tenancy.tenant_context(beta.company):
        CRMConnection.objects.filter(company=beta.company).update(active=False)
    with tenancy.tenant_context(alpha.company):
        code = str(CRMConnection.objects.get(company=alpha.company).code)
    assert connectors.connections_due() == [(alpha.company.pk, code)]


def test_the_pull_task_stores_the_deals(alpha, fake, amo):
    assert AMO_TOKEN == "t0ken"  # the token the cast's connection was saved with
    outcome = tasks.pull_connection.apply(args=[alpha.company.pk, str(amo.code)]).get()
    assert outcome == {"created": 7, "updated": 0, "skipped": 1}
