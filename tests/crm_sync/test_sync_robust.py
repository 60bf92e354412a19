"""The sync holds when the CRM and its users do not keep still: records changed while a pull
pages through them, a burst of webhooks, a pull and a webhook batch at once, a CRM that asks
us to wait, a pull that stops half-way."""

import pytest
from django.urls import reverse

from crm_sync import connectors, coordination, tasks
from crm_sync.coordination import ConnectionBusy
from crm_sync.models import CRMConnection
from crm_sync.vendors.http import CRMUnavailable
from salesdesk.celery import app
from tests.crm_sync.fake_crm import form
from tests.crm_sync.test_connectors_pull import deals, pull, reload, ts
from tests.crm_sync.test_connectors_webhooks import FORM, bitrix_url

AMO_LEADS = {"24100311", "24100312", "24100313", "24100314"}  # 24100315's stage is unmapped
BITRIX_DEALS = {"1201", "1202", "1203", "1204"}  # 1205's stage is unmapped


def stored_or_waiting(cast, connection: CRMConnection, source: str) -> set[str]:
    return set(deals(cast, source)) | set(reload(connection).cursor["retry"]["deals"])


def change_once(fake, path: str, change) -> None:  # type: ignore[no-untyped-def]
    """`change` runs once, right after the CRM answered the first page of `path`."""
    done = []

    def hook(asked: str, params: dict) -> None:
        if asked == path and not done:
            done.append(params)
            change()

    fake.between_pages = hook


def test_an_amocrm_lead_changed_between_two_pages_makes_no_other_skipped(alpha, fake, amo):
    """Page numbers over updated_at: 24100312 (page 1) changes and moves to the end, so
    24100313 moved onto page 1 and page 2 began after it."""
    lead = next(lead for lead in fake.leads if lead["id"] == 24100312)
    change_once(fake, "/api/v4/leads", lambda: lead.update(updated_at=ts("2026-11-06T08:00:00")))

    pull(amo)

    assert stored_or_waiting(alpha, amo, "amocrm") == AMO_LEADS | {"24100315"}
    assert reload(amo).cursor["deals"]["since"] == ts("2026-11-06T08:00:00")


def test_a_bitrix24_deal_changed_between_two_pages_makes_no_other_skipped(alpha, fake, bitrix):
    deal = next(deal for deal in fake.deals if deal["ID"] == "1202")
    change_once(fake, "crm.deal.list", lambda: deal.update(DATE_MODIFY="2026-11-06T08:00:00+03:00"))

    pull(bitrix)

    assert stored_or_waiting(alpha, bitrix, "bitrix24") == BITRIX_DEALS | {"1205"}
    asked = [entry[2] for entry in fake.log if entry[1] == "crm.deal.list"]
    assert all(query["start"] == -1 for query in asked)  # the fast way, without a count


def test_a_mass_edit_at_one_second_is_read_whole(alpha, fake, amo, bitrix):
    """More records at one moment than a page holds: read within that moment by id."""
    for lead in fake.leads:
        lead["updated_at"] = ts("2026-11-05T10:00:00")
    for deal in fake.deals:
        deal["DATE_MODIFY"] = "2026-11-05T10:00:00+03:00"

    pull(amo)
    pull(bitrix)

    assert stored_or_waiting(alpha, amo, "amocrm") == AMO_LEADS | {"24100315"}
    assert stored_or_waiting(alpha, bitrix, "bitrix24") == BITRIX_DEALS | {"1205"}
    by_id = [
        entry[2]
        for entry in fake.log
        if entry[1] == "crm.deal.list" and ">ID" in entry[2]["filter"]
    ]
    assert by_id and all(query["order"] == {"ID": "ASC"} for query in by_id)
    assert any(
        params.get("order[id]") == "asc" for _t, _p, params in fake.requests_to("/api/v4/leads")
    )


def test_a_pull_stopped_by_a_429_goes_on_from_the_last_page_stored(alpha, fake, amo):
    fake.retry_after = "7"
    answered = []

    def limit_the_second_page(path: str, params: dict) -> None:
        answered.append(path)
        if answered.count("/api/v4/leads") == 1:
            fake.limit.add("/api/v4/leads")

    fake.between_pages = limit_the_second_page
    with pytest.raises(CRMUnavailable) as stopped:
        pull(amo)

    assert stopped.value.retry_after == 7.0  # the task waits what amoCRM asked for
    first = reload(amo)
    assert set(deals(alpha, "amocrm")) == {"24100311", "24100312"}
    assert first.cursor["deals"]["since"] == ts("2026-11-03T12:05:00")
    assert first.cursor["progress"]["running"] is False and "429" in first.last_error
    fake.log.clear()

    pull(amo)

    resumed = fake.requests_to("/api/v4/leads")[0][2]
    assert resumed["filter[updated_at][from]"] == str(ts("2026-11-03T12:05:00"))
    assert set(deals(alpha, "amocrm")) == AMO_LEADS
    progress = reload(amo).cursor["progress"]
    assert progress["running"] is False and progress["fetched"] >= 3


def test_a_pull_of_a_busy_connection_asks_the_crm_nothing(alpha, fake, amo):
    with coordination.connection_lock(amo.pk):
        with pytest.raises(ConnectionBusy):
            pull(amo)
        with pytest.raises(ConnectionBusy):
            connectors.deals_refresh(company_id=alpha.company.pk, code=amo.code, ids=["24100311"])
    assert fake.log == []
    pull(amo)  # the lock is free again
    assert set(deals(alpha, "amocrm")) == AMO_LEADS


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_a_burst_of_bitrix24_events_is_one_batched_fetch(
    client, alpha, fake, bitrix, eager, django_capture_on_commit_callbacks
):
    body = form("bitrix24_webhook_deal_update.txt").replace(
        b"example.bitrix24.ru", fake.url.removeprefix("http://").encode()
    )
    with django_capture_on_commit_callbacks() as queued:
        for deal_id in ("1201", "1202", "1203", "1204"):
            event = body.replace(b"%5BID%5D=1202", b"%5BID%5D=" + deal_id.encode())
            assert client.post(bitrix_url(bitrix), event, content_type=FORM).status_code == 200
    assert len(queued) == 1  # the first event of the window schedules the batch
    assert fake.log == []

    queued[0]()

    fetched = [entry[2] for entry in fake.log if entry[1] == "crm.deal.list"]
    # One request for the four, paged as the portal answers (two rows a page here).
    assert {tuple(sorted(query["filter"]["@ID"])) for query in fetched} == {
        ("1201", "1202", "1203", "1204")
    }
    assert [query["start"] for query in fetched] == [0, 2]
    assert set(deals(alpha, "bitrix24")) == BITRIX_DEALS
    # The window is over: the next event schedules a batch of its own.
    with django_capture_on_commit_callbacks() as again:
        client.post(bitrix_url(bitrix), body, content_type=FORM)
    assert len(again) == 1


def test_a_batch_finding_the_connection_busy_keeps_its_deals_for_later(alpha, fake, bitrix):
    coordination.pending_add(bitrix.pk, ["1201", "1202"])
    with coordination.connection_lock(bitrix.pk), pytest.raises(ConnectionBusy):
        connectors.pending_refresh(company_id=alpha.company.pk, code=bitrix.code)
    fake.limit.add("crm.deal.list")
    with pytest.raises(CRMUnavailable):
        connectors.pending_refresh(company_id=alpha.company.pk, code=bitrix.code)

    connectors.pending_refresh(company_id=alpha.company.pk, code=bitrix.code)

    assert set(deals(alpha, "bitrix24")) == {"1201", "1202"}
    assert coordination.pending_take(bitrix.pk) == []


def test_crm_tasks_go_to_their_own_queue():
    router = app.amqp.router
    for task in (tasks.pull_connection, tasks.refresh_pending, tasks.refresh_deals, tasks.pull_all):
        assert router.route({}, task.name)["queue"].name == "crm", task.name
    assert router.route({}, "rollups.tasks.rollup_company")["queue"].name == "celery"
    assert router.route({}, "reports.tasks.send_company_reminders")["queue"].name == "celery"


@pytest.mark.django_db(transaction=True)
def test_the_crm_worker_waits_what_the_crm_asked_and_finishes_the_pull(
    alpha, fake, amo, celery_worker
):
    fake.limit.add("/api/v4/users")
    fake.retry_after = "1"

    outcome = tasks.pull_connection.delay(alpha.company.pk, str(amo.code)).get(timeout=60)

    assert outcome["created"] >= 4
    first, second = fake.requests_to("/api/v4/users")[:2]
    assert second[0] - first[0] >= 1.0
    assert set(deals(alpha, "amocrm")) == AMO_LEADS


def test_the_connection_page_shows_the_first_sync_s_progress_while_it_runs(
    client, alpha, fake, amo, monkeypatch
):
    seen_pages = []
    store_page = connectors._store_page

    def look_at_the_page(**kwargs) -> None:  # type: ignore[no-untyped-def]
        store_page(**kwargs)
        if kwargs["stream"].key == "calls" and not seen_pages:
            # Deals are stored, calls are being read: what the admin sees right now.
            page = client.get(reverse("crm-connections")).content.decode()
            status = client.get(
                reverse("crm-connection-status", args=[amo.code]), headers={"HX-Request": "true"}
            ).content.decode()
            seen_pages.append((page, status))

    client.force_login(alpha.admin)
    monkeypatch.setattr(connectors, "_store_page", look_at_the_page)
    pull(amo)

    page, status = seen_pages[0]
    for html in (page, status):
        assert "Идёт загрузка" in html and 'hx-trigger="every 2s"' in html
        # The five leads (24100315 waiting for its stage) and the first page of calls.
        assert "Получено 7 записей" in html
        assert "продолжится с того же места" in html
    assert "<html" not in status
    done = client.get(reverse("crm-connection-status", args=[amo.code])).content.decode()
    assert "Идёт загрузка" not in done and "hx-trigger" not in done
    assert "(8 записей)" in done
    client.force_login(alpha.managers[0])
    assert client.get(reverse("crm-connection-status", args=[amo.code])).status_code == 403
