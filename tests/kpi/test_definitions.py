import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts import tenancy
from kpi import catalogue, services
from kpi.models import KPI, RoleKPI
from tests.factories import CompanyFactory


def test_the_catalogue_is_consistent():
    catalogue.check_catalogue()
    assert [item.number for item in catalogue.SOURCE_LIST] == list(range(1, 38))


def test_a_new_company_gets_the_standard_kpis_and_sets(db):
    company = CompanyFactory(name="Новая")
    with tenancy.tenant_context(company):
        codes = set(KPI.objects.values_list("code", flat=True))
        assert codes == {item.code for item in catalogue.CATALOGUE if item.standard}
        assert RoleKPI.objects.count() == 12
        avg_check = KPI.objects.get(code="avg_check")
        assert (avg_check.numerator.code, avg_check.denominator.code) == ("deals_sum", "deals_won")


def test_adopting_from_the_catalogue_brings_the_parts_along(alpha):
    with tenancy.tenant_context(alpha.company):
        show_rate = services.catalogue_adopt(company=alpha.company, code="show_rate")
        assert show_rate.numerator.code == "demos_held"
        assert KPI.objects.filter(code__in=["demos_held", "demos_scheduled"]).count() == 2
        assert services.catalogue_adopt(company=alpha.company, code="show_rate") == show_rate


def test_a_ratio_needs_summed_parts(alpha):
    with tenancy.tenant_context(alpha.company):
        base = {"name_ru": "Х", "name_en": "X", "unit": "money", "aggregation": "ratio"}
        with pytest.raises(ValidationError, match="числитель и знаменатель"):
            services.kpi_create(company=alpha.company, code="x1", **base)
        avg = KPI.objects.get(code="avg_check")
        won = KPI.objects.get(code="deals_won")
        with pytest.raises(ValidationError, match="суммироваться по дням"):
            services.kpi_create(
                company=alpha.company, code="x2", numerator=avg, denominator=won, **base
            )
        deals_sum = KPI.objects.get(code="deals_sum")
        kpi = services.kpi_create(
            company=alpha.company, code="x3", numerator=deals_sum, denominator=won, **base
        )
        assert kpi.pk


def test_codes_and_bands_are_checked(alpha):
    with tenancy.tenant_context(alpha.company):
        calls = KPI.objects.get(code="calls")
        with pytest.raises(ValidationError, match="уже есть"):
            services.kpi_create(
                company=alpha.company, code="calls", name_ru="a", name_en="a", unit="count"
            )
        with pytest.raises(ValidationError, match="не ниже границы красного"):
            services.kpi_update(kpi=calls, band_red_below=90, band_green_from=70)
        with pytest.raises(ValidationError, match="обе границы"):
            services.kpi_update(kpi=calls, band_red_below=50, band_green_from=None)


def test_the_admin_edits_a_kpi_and_the_bands(client, alpha):
    client.force_login(alpha.admin)
    with tenancy.tenant_context(alpha.company):
        calls = KPI.objects.get(code="calls")
    form = {
        "code": "calls", "name_ru": "Исходящие звонки", "name_en": "Outgoing calls",
        "unit": "count", "direction": "higher", "aggregation": "sum", "source": "telephony",
        "decimals": 0, "band_red_below": "50", "band_green_from": "75",
    }  # fmt: skip
    assert client.post(reverse("kpi-edit", args=[calls.uid]), form).status_code == 302
    bands = client.post(reverse("bands"), {"band_red_below": "70", "band_green_from": "60"})
    assert "не ниже границы красного" in bands.content.decode()
    assert client.post(reverse("bands"), {"band_red_below": "55", "band_green_from": "85"})
    with tenancy.tenant_context(alpha.company):
        calls.refresh_from_db()
        calls.company.refresh_from_db()
        assert calls.name_ru == "Исходящие звонки"
        assert (calls.company.band_red_below, calls.company.band_green_from) == (55, 85)


def test_the_catalogue_page_adopts(client, alpha):
    client.force_login(alpha.admin)
    page = client.get(reverse("kpi-catalogue")).content.decode()
    assert "Доходимость до демо" in page
    client.post(reverse("kpi-catalogue"), {"code": "show_rate"})
    with tenancy.tenant_context(alpha.company):
        assert KPI.objects.filter(code="show_rate").exists()
    unknown = client.post(reverse("kpi-catalogue"), {"code": "nope"}, follow=True)
    assert "В каталоге нет KPI" in unknown.content.decode()


def test_the_kpi_api(alpha, beta):
    api = Client(headers={"Authorization": f"Token {alpha.api_key}"})
    codes = {k["code"] for k in api.get(reverse("api-kpi-list")).json()}
    assert "avg_check" in codes
    created = api.post(
        reverse("api-kpi-create"),
        {"code": "demo_calls", "name_ru": "Демо", "name_en": "Demo", "unit": "count"},
        content_type="application/json",
    )
    assert created.status_code == 201
    ratio = api.post(
        reverse("api-kpi-create"),
        {"code": "r", "name_ru": "Р", "name_en": "R", "unit": "percent", "aggregation": "ratio",
         "numerator": "deals_won", "denominator": "avg_check"},
        content_type="application/json",
    )  # fmt: skip
    assert ratio.status_code == 400
    assert "denominator" in ratio.json()["fields"]
    foreign = api.post(
        reverse("api-kpi-create"),
        {"code": "r2", "name_ru": "Р", "name_en": "R", "unit": "percent", "aggregation": "ratio",
         "numerator": "deals_won", "denominator": "nonexistent"},
        content_type="application/json",
    )  # fmt: skip
    assert foreign.status_code == 400
