"""The chosen pipelines only are downloaded; one added later is read from the start, with its
history; the mapping and amount pages read the one cache of the CRM's lists, which a pull
refreshes when it is older than six hours and the admin when asked."""

import datetime
from decimal import Decimal

from django.urls import reverse

from accounts import tenancy
from crm_sync import catalog, connectors
from crm_sync.models import CRMConnection, Deal, StageVisit
from tests.crm_sync.test_connectors_pull import FAST, deals, pull, reload
from tests.crm_sync.test_mapping import (
    amo_unmapped,
    as_suggested,
    imported,
    mapping_url,
    refreshed,
    stages_by_name,
    utc,
)

SALES, SERVICE, HIRING = "7512210", "7512213", "7512216"  # amocrm_pipelines.json
OTHER_LEADS = {"24100321", "24100322"}  # of the service and hiring pipelines
BITRIX_OTHER = {"1204", "1205"}  # category 3, «Сервис»


def without_the_casts_deals(cast) -> None:  # type: ignore[no-untyped-def]
    with tenancy.tenant_context(cast.company):
        Deal.objects.filter(company=cast.company).delete()


def lead_pages(fake) -> list[dict]:  # type: ignore[no-untyped-def]
    """What each request for leads (not for deleted ones) asked."""
    return [params for _at, _path, params in fake.lead_requests()]


def test_the_leads_of_a_pipeline_not_chosen_are_not_downloaded(client, alpha, fake):
    fake.with_history()
    amo = amo_unmapped(alpha, fake)
    client.force_login(alpha.admin)
    client.post(mapping_url(amo), as_suggested(refreshed(client, amo)))  # «Продажи» only
    assert reload(amo).pipelines == [SALES]
    fake.served.clear()

    result = pull(amo)

    leads = fake.served_ids("/api/v4/leads")
    assert "24100323" in leads and not OTHER_LEADS & set(leads)
    assert all(params["filter[pipeline_id][]"] == SALES for params in lead_pages(fake))
    assert result.ignored == 0  # nothing came that had to be ignored
    # Nor their stage history: only the stored deals' is asked for.
    assert not OTHER_LEADS & set(fake.served_ids("/api/v4/events"))
    assert set(deals(alpha, "amocrm")) == {
        "24100311", "24100312", "24100313", "24100314", "24100315", "24100323"
    }  # fmt: skip


def test_a_pipeline_added_to_the_choice_is_read_from_the_start_with_its_history(
    client, alpha, fake
):
    fake.with_history()
    amo = amo_unmapped(alpha, fake)
    without_the_casts_deals(alpha)
    first = alpha.managers[0]
    client.force_login(alpha.admin)
    data = as_suggested(refreshed(client, amo))
    client.post(mapping_url(amo), data)
    pull(amo)
    assert "24100321" not in deals(alpha, "amocrm")
    assert imported(alpha, first, "2026-11-03")["deals_won"] == 1  # 24100313 only

    # The admin counts the service pipeline too, its first status as a new request.
    stages = stages_by_name(alpha)
    page = client.get(mapping_url(amo))
    data = {**as_suggested(page), "pipeline_1": "on", "stage_1_0": str(stages["Новая заявка"].pk)}
    assert client.post(mapping_url(amo), data).status_code == 302
    since = reload(amo).cursor["deals"]["since"]
    fake.log.clear()

    pull(amo)

    asked = lead_pages(fake)
    from_the_start = [p for p in asked if not {"filter[updated_at][from]", "filter[id][]"} & set(p)]
    assert from_the_start and all(p["filter[pipeline_id][]"] == SERVICE for p in from_the_start)
    assert any(p.get("filter[updated_at][from]") == str(since) for p in asked)  # the rest goes on
    assert "24100322" not in fake.served_ids("/api/v4/leads")  # hiring: still not chosen
    won = deals(alpha, "amocrm")["24100321"]
    assert (won.status, won.amount, won.manager) == (Deal.Status.WON, Decimal(15000), first)
    with tenancy.tenant_context(alpha.company):
        path = list(
            StageVisit.objects.filter(deal=won).values_list("stage__name", "entered_at", "left_at")
        )
    assert path == [  # its history, not one visit from the day it was first seen
        ("Новая заявка", utc("2026-11-01T08:00"), utc("2026-11-03T10:00")),
        ("Успешно реализовано", utc("2026-11-03T10:00"), None),
    ]
    figures = imported(alpha, first, "2026-11-03")
    assert (figures["deals_won"], figures["deals_sum"]) == (2, Decimal(167500))
    cursor = reload(amo).cursor
    assert cursor["pipelines_read"] == [SALES, SERVICE]
    assert "backfill" not in cursor and "deals" not in cursor["history"]

    fake.log.clear()
    pull(amo)  # read through: no second back-fill
    assert all("filter[updated_at][from]" in params for params in lead_pages(fake))


def test_bitrix24_deals_of_a_category_not_chosen_are_not_downloaded_nor_fetched_by_events(
    client, alpha, fake, bitrix
):
    fake.with_history()
    client.force_login(alpha.admin)
    client.post(mapping_url(bitrix), as_suggested(refreshed(client, bitrix)))  # «Общая» only
    fake.served.clear()

    pull(bitrix)

    listed = [body for _at, method, body in fake.log if method == "crm.deal.list"]
    assert listed and all(body["filter"]["@CATEGORY_ID"] == ["0"] for body in listed)
    assert not BITRIX_OTHER & set(fake.served_ids("crm.deal.list"))
    assert not BITRIX_OTHER & set(fake.served_ids("crm.stagehistory.list"))
    assert set(deals(alpha, "bitrix24")) == {"1201", "1202", "1203"}

    # An event of a deal of «Сервис» fetches nothing, and nothing waits to be fetched again.
    fake.served.clear()
    result = connectors.deals_refresh(
        company_id=alpha.company.pk, code=bitrix.code, ids=["1204"], **FAST
    )
    assert fake.served_ids("crm.deal.list") == [] and result.created == 0
    assert "1204" not in reload(bitrix).cursor["retry"]["deals"]

    # Chosen later, its lost deal comes, read from the start of that category alone.
    page = client.get(mapping_url(bitrix))
    client.post(mapping_url(bitrix), {**as_suggested(page), "pipeline_1": "on"})
    fake.log.clear()
    pull(bitrix)
    backfill = [b for _at, m, b in fake.log if m == "crm.deal.list" and b["filter"].get(
        "@CATEGORY_ID") == ["3"]]  # fmt: skip
    assert backfill and ">=DATE_MODIFY" not in backfill[0]["filter"]
    assert deals(alpha, "bitrix24")["1204"].status == Deal.Status.LOST


def test_an_amocrm_webhook_of_a_pipeline_not_chosen_changes_and_fetches_nothing(
    client, alpha, fake
):
    amo = amo_unmapped(alpha, fake)
    client.force_login(alpha.admin)
    client.post(mapping_url(amo), as_suggested(refreshed(client, amo)))  # «Продажи» only
    pull(amo)
    # The lead is moved to the service pipeline and lost there.
    lead = next(lead for lead in fake.leads if lead["id"] == 24100311)
    lead.update(pipeline_id=int(SERVICE), status_id=143)
    payload = connectors.parse_form([
        ("leads[status][0][id]", "24100311"), ("leads[status][0][status_id]", "143"),
        ("leads[status][0][pipeline_id]", SERVICE), ("leads[status][0][date_create]", "1793603700"),
        ("account[subdomain]", "example"),
    ])  # fmt: skip
    fake.served.clear()

    with tenancy.tenant_context(alpha.company):
        to_fetch = connectors.webhook_apply(connection=reload(amo), payload=payload)
    connectors.deals_refresh(company_id=alpha.company.pk, code=amo.code, ids=to_fetch, **FAST)

    assert to_fetch == ["24100311"]  # a lost lead is fetched for its loss reason…
    assert fake.served_ids("/api/v4/leads") == []  # …of the chosen pipelines only: none
    deal = deals(alpha, "amocrm")["24100311"]
    assert (deal.status, deal.stage.name) == (Deal.Status.OPEN, "Новая заявка")
    assert "24100311" not in reload(amo).cursor["retry"]["deals"]


# --- The one cache of the CRM's lists --------------------------------------------------------


def test_the_amount_page_reads_the_cache_and_asks_the_crm_only_when_told(client, alpha, fake, amo):
    url = reverse("crm-connection-amount", args=[amo.code])
    client.force_login(alpha.admin)

    page = client.get(url).content.decode()

    assert fake.log == []  # the page asks the CRM nothing
    assert "Список полей ещё не загружен из CRM" in page
    assert "Бюджет (стандартное поле price)" in page
    refresh = client.post(url, {"refresh": "1"}, follow=True).content.decode()
    assert "Списки обновлены из CRM." in refresh
    assert '<option value="912001">Сумма по договору</option>' in refresh
    fake.log.clear()
    again = client.get(url).content.decode()
    assert fake.log == []
    assert '<option value="912001">Сумма по договору</option>' in again
    assert "Списки получены из CRM" in again


def test_the_amount_page_tells_when_the_crm_refuses_the_refresh(client, alpha, fake, amo):
    fake.blocked = True
    client.force_login(alpha.admin)
    url = reverse("crm-connection-amount", args=[amo.code])

    page = client.post(url, {"refresh": "1"}, follow=True).content.decode()

    assert "Не удалось получить списки из CRM: amoCRM отказала в доступе (HTTP 403)" in page
    assert "Бюджет (стандартное поле price)" in page


def test_a_pull_refreshes_the_lists_when_they_are_older_than_six_hours(alpha, fake, amo):
    pull(amo)
    stored = reload(amo).catalog
    assert stored["currency"] == "RUB" and stored["amount_fields"] == [
        ["912001", "Сумма по договору"]
    ]
    assert [p["id"] for p in stored["pipelines"]] == [SALES, SERVICE, HIRING]
    assert {person["email"] for person in stored["people"]} >= {"partner@example.org"}
    fake.log.clear()

    pull(amo)  # fresh: not asked again
    assert not fake.requests_to("/api/v4/leads/pipelines") and not fake.requests_to(
        "/api/v4/account"
    )

    asked = datetime.datetime.fromisoformat(stored["refreshed_at"])
    with tenancy.tenant_context(alpha.company):
        CRMConnection.objects.filter(pk=amo.pk).update(
            catalog={**stored, "refreshed_at": (asked - catalog.MAX_AGE).isoformat()}
        )
    pull(amo)
    assert len(fake.requests_to("/api/v4/leads/pipelines")) == 1
    assert reload(amo).catalog["refreshed_at"] > stored["refreshed_at"]


def test_a_mapping_posted_on_lists_refreshed_since_is_not_saved(client, alpha, fake, amo):
    client.force_login(alpha.admin)
    data = as_suggested(refreshed(client, amo))
    assert data["catalog_version"]
    client.post(mapping_url(amo), {"refresh": "1"})  # another tab, or the pull, asked again

    response = client.post(mapping_url(amo), data, follow=True)

    assert "Списки CRM обновились, пока страница была открыта" in response.content.decode()
    assert reload(amo).pipelines == []
    saved = client.post(mapping_url(amo), as_suggested(client.get(mapping_url(amo))))
    assert saved.status_code == 302 and reload(amo).pipelines == [SALES]
