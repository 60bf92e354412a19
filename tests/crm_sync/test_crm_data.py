"""What the CRMs' deals mean: loss reasons, channels by name, the company as the client, the
chosen amount field and its currency, and deletions, against the loopback fake."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts import crypto, tenancy
from crm_sync import connectors, services, vendors
from crm_sync.models import CRMConnection, Deal, PipelineStage, StageVisit
from tests.crm_sync.fake_crm import FakeCRM, form, load
from tests.crm_sync.test_connectors_pull import deals, pull, reload
from tests.crm_sync.test_connectors_webhooks import FORM, amo_url, bitrix_url, on_portal
from tests.crm_sync.test_services import at, imported


def choose_amount_field(connection: CRMConnection, field_id: str) -> None:
    with tenancy.tenant_context(connection.company_id):
        CRMConnection.objects.filter(pk=connection.pk).update(amount_field=field_id)


def with_b2b_leads(fake: FakeCRM) -> None:
    fake.leads += load("amocrm_leads_b2b.json")["_embedded"]["leads"]


def with_b2b_deals(fake: FakeCRM) -> None:
    fake.deals += load("bitrix24_crm_deal_list_b2b.json")["result"]


# --- amoCRM ------------------------------------------------------------------------------


def test_an_amocrm_pull_asks_for_loss_reasons_and_sources(alpha, fake, amo):
    pull(amo)

    asked = fake.lead_requests()[0][2]["with"].split(",")
    assert {"contacts", "loss_reason", "source"} <= set(asked)
    assert deals(alpha, "amocrm")["24100314"].loss_reason == "Дорого"


def test_an_amocrm_lead_of_a_company_belongs_to_the_company_with_its_channel(alpha, fake, amo):
    with_b2b_leads(fake)
    pull(amo)

    stored = deals(alpha, "amocrm")
    b2b = stored["24100321"]
    assert (b2b.client.name, b2b.client.external_id) == ("ООО «Вектор»", "company:51800001")
    assert b2b.client.phone == "73432001010"
    assert b2b.channel == "Сайт vector-stanki.ru"
    # No company: the main contact is the client; the channel is the lead's utm_source.
    contact_lead = stored["24100322"]
    assert contact_lead.client.external_id == "41700002" and contact_lead.channel == "yandex"
    assert b2b.amount == Decimal(0)  # `price` is empty: the amount is in a custom field


def test_the_chosen_amocrm_money_field_is_the_amount(alpha, fake, amo):
    with_b2b_leads(fake)
    choose_amount_field(amo, "912001")

    pull(amo)

    stored = deals(alpha, "amocrm")
    assert stored["24100321"].amount == Decimal(510000)
    assert stored["24100311"].amount == Decimal(0)  # the field is empty on this lead
    assert vendors.vendor_for("amocrm").amount_fields(
        vendors.vendor_for("amocrm").connect(base_url=fake.url, token="t0ken")
    ) == [("912001", "Сумма по договору")]


def test_an_amocrm_account_in_another_currency_is_not_summed_with_roubles(alpha, fake, amo):
    fake.account["currency"] = "USD"

    result = pull(amo)

    assert deals(alpha, "amocrm") == {}
    assert result.skipped == 5
    assert "USD" in reload(amo).last_error and "RUB" in reload(amo).last_error


def test_a_lead_deleted_in_amocrm_leaves_on_the_next_pull(alpha, fake, amo):
    pull(amo)
    assert "24100312" in deals(alpha, "amocrm")
    fake.deleted_leads = load("amocrm_leads_only_deleted.json")["_embedded"]["leads"]

    result = pull(amo)

    assert result.deleted == 1
    assert "24100312" not in deals(alpha, "amocrm")
    assert reload(amo).cursor["deleted_deals"]["since"] == 1793810000
    assert pull(amo).deleted == 0  # seen once, not again


def test_an_amocrm_delete_webhook_removes_the_lead(client, alpha, fake, amo):
    pull(amo)
    on_portal(amo, "https://example.amocrm.ru")

    response = client.post(amo_url(amo), form("amocrm_webhook_delete.txt"), content_type=FORM)

    assert response.status_code == 200
    assert "24100311" not in deals(alpha, "amocrm")


def test_an_amocrm_lead_lost_by_webhook_is_fetched_for_its_loss_reason(alpha, amo):
    payload = connectors.parse_form([
        ("leads[status][0][id]", "24100314"), ("leads[status][0][status_id]", "143"),
        ("leads[status][0][date_create]", "1792495800"), ("account[subdomain]", "example"),
    ])  # fmt: skip
    with tenancy.tenant_context(alpha.company):
        assert connectors.webhook_apply(connection=amo, payload=payload) == ["24100314"]


# --- Bitrix24 ----------------------------------------------------------------------------


def test_bitrix24_channels_and_loss_reasons_are_read_by_name(alpha, fake, bitrix):
    with_b2b_deals(fake)
    pull(bitrix)

    stored = deals(alpha, "bitrix24")
    assert stored["1201"].channel == "Веб-сайт"
    assert stored["1204"].loss_reason == "Выбрали конкурента"  # C3:LOSE, another category
    assert stored["1214"].status == Deal.Status.LOST
    assert stored["1214"].loss_reason == "Дорого для клиента"  # a second failure stage
    assert stored["1202"].loss_reason == ""
    names = reload(bitrix).catalog["sources"]
    assert names["REPEAT_SALE"] == "Повторные продажи"


def test_bitrix24_deals_in_other_currencies_are_converted_or_left_out(alpha, fake, bitrix):
    with_b2b_deals(fake)
    result = pull(bitrix)

    stored = deals(alpha, "bitrix24")
    assert stored["1211"].amount == Decimal("90500.00")  # 1 000 USD at 90.5
    assert stored["1212"].amount == Decimal("91000.00")  # 500 000 KZT at 18.2 per 100
    assert "1213" not in stored  # EUR: the portal has no rate
    assert result.skipped == 2  # with 1205, at a stage not mapped
    assert "1213: сумма в EUR, а компания считает в RUB" in reload(bitrix).last_error


def test_a_bitrix24_deal_of_a_company_belongs_to_the_company(alpha, fake, bitrix):
    with_b2b_deals(fake)
    pull(bitrix)

    stored = deals(alpha, "bitrix24")
    assert stored["1211"].client.name == "ООО «Альфа-Тех»"
    assert stored["1211"].client.external_id == "company:41"
    assert stored["1212"].client.external_id == "316"  # COMPANY_ID 0: the contact


def test_the_chosen_bitrix24_money_field_is_the_amount_in_its_own_currency(alpha, fake, bitrix):
    with_b2b_deals(fake)
    choose_amount_field(bitrix, "UF_CRM_1700000001")

    pull(bitrix)

    assert deals(alpha, "bitrix24")["1211"].amount == Decimal("108600.00")  # 1 200 USD
    vendor = vendors.vendor_for("bitrix24")
    client = vendor.connect(base_url=f"{fake.url}/rest/1", token="k3yk3yk3y")
    assert vendor.amount_fields(client) == [("UF_CRM_1700000001", "Сумма по договору")]


def test_a_bitrix24_delete_event_removes_the_deal(client, alpha, fake, bitrix):
    pull(bitrix)
    on_portal(bitrix, "https://example.bitrix24.ru/rest/1")
    assert "1202" in deals(alpha, "bitrix24")

    response = client.post(
        bitrix_url(bitrix), form("bitrix24_webhook_deal_delete.txt"), content_type=FORM
    )

    assert response.status_code == 200
    assert "1202" not in deals(alpha, "bitrix24")


# --- Deletion's figures -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_deleted_deal_leaves_the_days_figures(alpha):
    company, manager = alpha.company, alpha.managers[1]
    with tenancy.tenant_context(company):
        won = PipelineStage.objects.get(company=company, kind=PipelineStage.Kind.WON)
        services.deal_upsert(company=company, source="amocrm", data=services.DealData(
            external_id="D-1", stage=won, created_at=at(9), moved_at=at(15),
            manager=manager, amount=Decimal(4000),
        ))  # fmt: skip
        assert imported(company, manager)["deals_sum"] == 4000

        assert services.deal_delete(company=company, source="amocrm", external_id="D-1")

        figures = imported(company, manager)
        assert figures.get("deals_sum", 0) == 0 and figures.get("leads", 0) == 0
        assert not Deal.objects.filter(company=company, external_id="D-1").exists()
        assert not StageVisit.objects.filter(company=company, deal__external_id="D-1").exists()
        assert not services.deal_delete(company=company, source="amocrm", external_id="D-1")


# --- The admin's choice of the amount field -------------------------------------------------


def test_the_admin_picks_the_amount_field_from_the_crms_list(client, alpha, fake, amo):
    pull(amo)
    url = reverse("crm-connection-amount", args=[amo.code])
    client.force_login(alpha.admin)

    page = client.get(url).content.decode()

    assert '<option value="912001">Сумма по договору</option>' in page
    assert "Город доставки" not in page  # a text field cannot be an amount
    response = client.post(url, {"amount_field": "912001"})
    assert response.status_code == 302
    connection = reload(amo)
    assert connection.amount_field == "912001"
    assert "deals" not in connection.cursor  # every deal is read again with the new amount
    assert "«Сумма по договору»" in client.get(reverse("crm-connections")).content.decode()
    assert client.post(url, {"amount_field": "999"}).status_code == 200  # not the CRM's
    assert reload(amo).amount_field == "912001"


def test_a_crm_that_refuses_leaves_the_standard_field_to_pick(client, alpha, amo):
    with tenancy.tenant_context(alpha.company):
        CRMConnection.objects.filter(pk=amo.pk).update(credentials=crypto.encrypt("revoked"))
    client.force_login(alpha.admin)

    url = reverse("crm-connection-amount", args=[amo.code])
    page = client.post(url, {"refresh": "1"}, follow=True).content.decode()

    assert "Не удалось получить списки из CRM: amoCRM не принимает ключ доступа" in page
    assert "Бюджет (стандартное поле price)" in page


def test_only_the_admin_picks_the_amount_field(client, alpha, amo):
    client.force_login(alpha.head)
    response = client.get(reverse("crm-connection-amount", args=[amo.code]))
    assert response.status_code in (403, 404)
