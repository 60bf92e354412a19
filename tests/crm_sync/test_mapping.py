"""Mapping from the CRM itself (pipelines, statuses, users) and the stage history, end to end:
connect → map → backfill → webhooks → the report form's prefill and the funnel."""

import datetime
from decimal import Decimal

from django.urls import reverse

from accounts import crypto, tenancy
from accounts.models import User
from crm_sync import mapping
from crm_sync.models import CRMConnection, CRMUserLink, Deal, PipelineStage, StageVisit
from crm_sync.vendors.base import CRMStatus, CRMUser
from funnel.selectors import FunnelScope, funnel_of
from kpi.models import KPI
from reports.models import ImportedFigure
from reports.selectors import report_form
from tests.crm_sync.fake_crm import form
from tests.crm_sync.test_connectors_pull import deals, pull, reload
from tests.crm_sync.test_connectors_webhooks import FORM, amo_url, on_portal

UTC = datetime.UTC


def utc(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


def amo_unmapped(cast, crm) -> CRMConnection:
    """The cast's amoCRM connection pointed at the fake, nothing mapped yet."""
    with tenancy.tenant_context(cast.company):
        connection = CRMConnection.objects.get(company=cast.company, vendor="amocrm")
        connection.base_url = crm.url
        connection.save()
    return connection


def mapping_url(connection: CRMConnection) -> str:
    return reverse("crm-connection-mapping", args=[connection.code])


def refreshed(client, connection: CRMConnection):
    """The admin asks the CRM for its lists, then opens the page."""
    assert client.post(mapping_url(connection), {"refresh": "1"}).status_code == 302
    return client.get(mapping_url(connection))


def as_suggested(response) -> dict[str, str]:
    """The mapping form's fields as the page shows them before the admin changes any."""
    page_form = response.context["form"]
    data = {}
    for name in page_form.fields:
        value = page_form[name].value()
        if name.startswith("pipeline_"):
            if value:
                data[name] = "on"
        else:
            data[name] = "" if value is None else str(value)
    return data


def stages_by_name(cast) -> dict[str, PipelineStage]:
    with tenancy.tenant_context(cast.company):
        return {stage.name: stage for stage in PipelineStage.objects.filter(company=cast.company)}


def imported(cast, manager: User, day: str) -> dict[str, Decimal]:
    with tenancy.tenant_context(cast.company):
        figures = ImportedFigure.objects.filter(
            company=cast.company, manager=manager, date=datetime.date.fromisoformat(day)
        ).select_related("kpi")
        return {
            f.kpi.code: f.value
            for f in figures
            if f.kpi.code in ("leads", "deals_won", "deals_sum")
        }


def test_it_suggests_stages_by_name_or_closing_semantics_and_users_by_email_then_name(alpha):
    with tenancy.tenant_context(alpha.company):
        stages = list(PipelineStage.objects.filter(company=alpha.company))
        by_name = {stage.name: stage for stage in stages}
        open_named = CRMStatus(id="1", name="  квалификация ", kind="open")
        assert mapping.stage_suggest(status=open_named, stages=stages) == by_name["Квалификация"]
        # A won status is the won stage whatever the CRM calls it; an unknown name, none.
        won = CRMStatus(id="142", name="Выполнено", kind="won")
        assert mapping.stage_suggest(status=won, stages=stages).kind == "won"
        odd = CRMStatus(id="2", name="Неразобранное", kind="open")
        assert mapping.stage_suggest(status=odd, stages=stages) is None

        first, second, third = alpha.managers
        third.first_name, third.last_name = "Пётр", "Сидоров"
        users = [first, second, third]
        by_email = CRMUser(id="1", name="Кто-то", email=first.email.upper())
        assert mapping.user_suggest(person=by_email, users=users) == first
        by_name_reversed = CRMUser(id="2", name="сидоров петр", email="p@elsewhere.org")
        assert mapping.user_suggest(person=by_name_reversed, users=users) == third
        second.first_name, second.last_name = "Пётр", "Сидоров"  # two namesakes: no guess
        assert mapping.user_suggest(person=by_name_reversed, users=users) is None


def test_connect_map_backfill_webhook_give_the_hand_computed_prefill_and_funnel(
    client, alpha, fake
):
    fake.with_history()
    amo = amo_unmapped(alpha, fake)
    first, second, third = alpha.managers
    with tenancy.tenant_context(alpha.company):  # the cast's own deals: not in the table
        Deal.objects.filter(company=alpha.company).delete()
    client.force_login(alpha.admin)

    # Map: the CRM's own lists, with suggestions and a warning for the unmatched user.
    assert "ещё не загружены" in client.get(mapping_url(amo)).content.decode()
    page = refreshed(client, amo)
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("Продажи", "Сервис", "Найм", "Внешний партнёр", "partner@example.org"):
        assert name in html
    assert html.count("Без пары") == 1
    data = as_suggested(page)
    assert [key for key in data if key.startswith("pipeline_")] == ["pipeline_0"]  # the main
    stages = stages_by_name(alpha)
    assert data["stage_0_1"] == str(stages["Новая заявка"].pk)
    assert data["stage_0_4"] == str(stages["Успешно реализовано"].pk)  # 142, by semantics
    assert data["stage_0_0"] == ""  # «Неразобранное» has no stage of that name
    assert (data["user_0"], data["user_1"], data["user_2"]) == (str(first.pk), str(second.pk), "")
    response = client.post(mapping_url(amo), data)
    assert response.status_code == 302

    # Backfill: the first pull brings the sales pipeline's deals and their whole history.
    result = pull(amo)
    stored = deals(alpha, "amocrm")
    assert set(stored) == {"24100311", "24100312", "24100313", "24100314", "24100315", "24100323"}
    # The service pipeline's won deal and the hiring one are not even downloaded.
    assert result.ignored == 0 and not {"24100321", "24100322"} & set(
        fake.served_ids("/api/v4/leads")
    )
    assert reload(amo).cursor["retry"]["deals"] == []  # and nothing waits to be fetched again
    assert stored["24100315"].manager is None and stored["24100315"].crm_user_id == "10503"
    with tenancy.tenant_context(alpha.company):
        path = [
            (visit.stage.name, visit.entered_at, visit.left_at)
            for visit in StageVisit.objects.filter(deal=stored["24100323"]).select_related("stage")
        ]
    assert path == [
        ("Новая заявка", utc("2026-10-26T08:00"), utc("2026-10-27T08:00")),
        ("Квалификация", utc("2026-10-27T08:00"), utc("2026-10-29T08:00")),
        ("Переговоры и договор", utc("2026-10-29T08:00"), utc("2026-11-02T11:00")),
        ("Успешно реализовано", utc("2026-11-02T11:00"), None),
    ]
    assert stored["24100323"].closed_at == utc("2026-11-02T11:00")

    # The unmatched partner is matched later: their deal is counted from then on, back-filled.
    data["user_2"] = str(third.pk)
    assert imported(alpha, third, "2026-11-04") == {}
    client.post(mapping_url(amo), data)
    assert deals(alpha, "amocrm")["24100315"].manager == third

    # A webhook moves a deal on.
    on_portal(amo, "https://example.amocrm.ru")
    hook = client.post(amo_url(amo), form("amocrm_webhook_status.txt"), content_type=FORM)
    assert hook.status_code == 200

    # The prefill, by hand: each manager's leads created, deals won and their sum, per
    # Moscow day. The service pipeline's won deal (15 000, 3 Nov, first) counts nowhere.
    zero = {"leads": Decimal(0), "deals_won": Decimal(0), "deals_sum": Decimal(0)}
    table = {
        (first, "2026-11-02"): {**zero, "leads": Decimal(1)},
        (first, "2026-11-03"): {**zero, "deals_won": Decimal(1), "deals_sum": Decimal(152500)},
        (second, "2026-11-02"): {
            "leads": Decimal(1), "deals_won": Decimal(1), "deals_sum": Decimal(200000)
        },
        (second, "2026-11-04"): zero,  # a lost deal
        (third, "2026-11-04"): {**zero, "leads": Decimal(1)},
    }  # fmt: skip
    for (manager, day), expected in table.items():
        assert imported(alpha, manager, day) == expected, (manager.username, day)
    with tenancy.tenant_context(alpha.company):
        leads = KPI.objects.get(company=alpha.company, code="leads")
        shown = report_form(
            company=alpha.company, manager=third, day=datetime.date(2026, 11, 4)
        ).rows
        row = next(row for row in shown if row.kpi == leads)
        assert (row.text, row.source) == ("1", "crm")

        # The funnel of November, by hand from the history above.
        funnel = funnel_of(
            scope=FunnelScope(company=alpha.company),
            start=datetime.date(2026, 11, 1),
            end=datetime.date(2026, 11, 30),
            today=datetime.date(2026, 12, 1),
        )
    assert (funnel.created, funnel.won, funnel.lost) == (3, 2, 1)
    assert funnel.won_sum == Decimal(352500)
    rows = {row.stage.name: row for row in funnel.stages}
    day = Decimal(86400)

    def mean(*seconds: int) -> Decimal:
        return sum((Decimal(s) / day for s in seconds), Decimal(0)) / len(seconds)

    # Новая заявка: 24100311 (2 Nov 07:15 → 5 Nov 09:30, the webhook's move), 24100312
    # (2 Nov 09:40 → 3 Nov 12:05); both moved on.
    new = rows["Новая заявка"]
    assert (new.open_deals, new.left, new.moved_on, new.conversion) == (0, 2, 2, Decimal(100))
    assert new.days_in_stage == mean(3 * 86400 + 8100, 86400 + 8700)
    # Квалификация: 24100313 to won, 24100314 to lost, 24100315 on after 10 minutes; open at
    # the end: 24100311 (since the webhook) and 24100312.
    qualified = rows["Квалификация"]
    assert (qualified.open_deals, qualified.open_value) == (2, Decimal(576000))
    assert (qualified.left, qualified.moved_on, qualified.conversion) == (3, 2, Decimal("66.7"))
    assert qualified.days_in_stage == mean(4 * 86400 + 11100, 12 * 86400 + 80400, 600)
    # Переговоры и договор: 24100323 won after 4 days 3 hours; 24100315 still there.
    talks = rows["Переговоры и договор"]
    assert (talks.open_deals, talks.open_value, talks.left, talks.moved_on) == (
        1, Decimal(38000), 1, 1,
    )  # fmt: skip
    assert talks.days_in_stage == mean(4 * 86400 + 10800)


def test_a_later_pull_rebuilds_only_the_deals_whose_history_moved(alpha, fake, amo):
    fake.with_history()
    pull(amo)
    # The stored deals' history is read (24100315's stage is not mapped: not stored).
    last = int(utc("2026-11-04T08:20").timestamp())
    assert reload(amo).cursor["history"] == {"since": last}
    back = int(utc("2026-11-06T10:00").timestamp())
    lead = next(lead for lead in fake.leads if lead["id"] == 24100312)
    lead.update(status_id=61390010, updated_at=back)  # sent back to «Новая заявка»
    fake.events.insert(0, {
        **fake.events[0], "id": "01jx5r7c0t9999q8m2v6k3z9w1h", "entity_id": 24100312,
        "created_at": back,
        "value_before": [{"lead_status": {"id": 61390013, "pipeline_id": 7512210}}],
        "value_after": [{"lead_status": {"id": 61390010, "pipeline_id": 7512210}}],
    })  # fmt: skip
    fake.log.clear()

    pull(amo)

    asked = [entry[2] for entry in fake.requests_to("/api/v4/events")]
    assert asked[0]["filter[created_at][from]"] == str(last)
    assert len(asked) == 2 and asked[1]["filter[entity][]"] == "lead"  # their whole history
    assert reload(amo).cursor["history"] == {"since": back}
    with tenancy.tenant_context(alpha.company):
        deal = Deal.objects.get(company=alpha.company, external_id="24100312")
        path = list(
            StageVisit.objects.filter(deal=deal).values_list("stage__name", "entered_at", "left_at")
        )
    assert path == [
        ("Новая заявка", utc("2026-11-02T09:40"), utc("2026-11-03T12:05")),
        ("Квалификация", utc("2026-11-03T12:05"), utc("2026-11-06T10:00")),
        ("Новая заявка", utc("2026-11-06T10:00"), None),
    ]


def test_bitrix24_pipelines_history_and_real_close_date(client, alpha, fake, bitrix):
    fake.with_history()
    client.force_login(alpha.admin)
    page = refreshed(client, bitrix)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Общая" in html and "Сервис" in html and "Сделка успешна" in html
    data = as_suggested(page)
    assert [key for key in data if key.startswith("pipeline_")] == ["pipeline_0"]
    assert client.post(mapping_url(bitrix), data).status_code == 302

    result = pull(bitrix)

    stored = deals(alpha, "bitrix24")
    assert set(stored) == {"1201", "1202", "1203"}  # category 3 («Сервис») not downloaded
    assert result.ignored == 0 and not {"1204", "1205"} & set(fake.served_ids("crm.deal.list"))
    # Won at 14:20 by the stage history, not at DATE_MODIFY 15:00 (or first seen).
    assert stored["1203"].closed_at == datetime.datetime.fromisoformat("2026-11-03T14:20+03:00")
    with tenancy.tenant_context(alpha.company):
        path = list(
            StageVisit.objects.filter(deal=stored["1203"]).values_list("stage__name", "entered_at")
        )
    assert [name for name, _at in path] == ["Новая заявка", "Квалификация", "Успешно реализовано"]
    assert path[0][1] == datetime.datetime.fromisoformat("2026-10-25T09:00+03:00")


def test_the_page_says_so_when_the_crm_refuses(client, alpha, fake, amo):
    with tenancy.tenant_context(alpha.company):
        CRMConnection.objects.filter(pk=amo.pk).update(credentials=crypto.encrypt("wrong"))
    client.force_login(alpha.admin)
    response = refreshed(client, amo)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Не удалось получить списки из CRM" in page and "HTTP 401" in page


def test_only_an_admin_maps(client, alpha, fake, amo):
    with tenancy.tenant_context(alpha.company):
        before = list(CRMUserLink.objects.filter(company=alpha.company).values_list("pk", "user"))
    client.force_login(alpha.head)
    assert client.get(mapping_url(amo)).status_code in (403, 404)
    assert client.post(mapping_url(amo), {"pipeline_0": "on"}).status_code in (403, 404)
    with tenancy.tenant_context(alpha.company):
        after = list(CRMUserLink.objects.filter(company=alpha.company).values_list("pk", "user"))
        assert CRMConnection.objects.get(pk=amo.pk).pipelines == []
    assert after == before
