"""A KPI with data keeps its unit and aggregation: the past stays as it was recorded."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts import tenancy
from kpi import selectors, services
from kpi.models import KPI

FORM = {
    "code": "calls", "name_ru": "Звонки", "name_en": "Calls", "unit": "count",
    "direction": "higher", "aggregation": "sum", "source": "telephony", "decimals": 0,
}  # fmt: skip


def kpi(cast, code):
    with tenancy.tenant_context(cast.company):
        return KPI.objects.get(company=cast.company, code=code)


def test_the_page_refuses_another_unit_for_a_kpi_with_data_and_offers_a_copy(client, alpha):
    calls = kpi(alpha, "calls")
    with tenancy.tenant_context(alpha.company):
        assert selectors.kpi_has_data(company=alpha.company, kpi=calls)
    client.force_login(alpha.admin)
    url = reverse("kpi-edit", args=[calls.uid])
    refused = client.post(url, {**FORM, "unit": "money", "aggregation": "avg"})
    page = refused.content.decode()
    assert refused.status_code == 200
    assert "уже есть данные" in page and "в наборе KPI роли с нужной даты" in page
    assert "Изменения сохранены" not in page
    assert 'name="as_copy"' in page
    assert (kpi(alpha, "calls").unit, kpi(alpha, "calls").aggregation) == ("count", "sum")
    copied = client.post(url, {**FORM, "unit": "money", "as_copy": "1"}, follow=True)
    assert "Создан новый KPI" in copied.content.decode()
    copy = kpi(alpha, "calls_2")
    assert (copy.unit, copy.aggregation, copy.name_ru) == ("money", "sum", "Звонки (calls_2)")
    assert kpi(alpha, "calls").unit == "count"


def test_direction_and_bands_of_a_kpi_with_data_may_change(client, alpha):
    calls = kpi(alpha, "calls")
    client.force_login(alpha.admin)
    form = {**FORM, "direction": "lower", "band_red_below": "50", "band_green_from": "75"}
    assert client.post(reverse("kpi-edit", args=[calls.uid]), form).status_code == 302
    assert kpi(alpha, "calls").direction == "lower"


def test_the_api_refuses_another_unit_or_aggregation_for_a_kpi_with_data(alpha):
    api = Client(headers={"Authorization": f"Token {alpha.api_key}"})
    calls = kpi(alpha, "calls")
    url = reverse("api-kpi-update", args=[calls.uid])
    for change in ({"unit": "money"}, {"aggregation": "last"}):
        refused = api.patch(url, change, content_type="application/json")
        assert refused.status_code == 400
        assert "уже есть данные" in str(refused.json())
    assert (kpi(alpha, "calls").unit, kpi(alpha, "calls").aggregation) == ("count", "sum")
    same = api.patch(
        url, {"unit": "count", "name_ru": "Исходящие"}, content_type="application/json"
    )
    assert same.status_code == 200


def test_a_kpi_without_data_may_change_its_unit_and_aggregation(client, alpha):
    with tenancy.tenant_context(alpha.company):
        fresh = services.kpi_create(
            company=alpha.company, code="fresh", name_ru="Новый", name_en="New", unit="count"
        )
        assert not selectors.kpi_has_data(company=alpha.company, kpi=fresh)
    client.force_login(alpha.admin)
    form = {**FORM, "code": "fresh", "unit": "money", "aggregation": "avg", "source": "manual"}
    assert client.post(reverse("kpi-edit", args=[fresh.uid]), form).status_code == 302
    assert (kpi(alpha, "fresh").unit, kpi(alpha, "fresh").aggregation) == ("money", "avg")
    api = Client(headers={"Authorization": f"Token {alpha.api_key}"})
    changed = api.patch(
        reverse("api-kpi-update", args=[fresh.uid]), {"unit": "percent"},
        content_type="application/json",
    )  # fmt: skip
    assert changed.status_code == 200 and changed.json()["unit"] == "percent"


def test_a_plan_alone_is_data(alpha):
    with tenancy.tenant_context(alpha.company):
        leads = services.kpi_create(
            company=alpha.company, code="x_leads", name_ru="Л", name_en="L", unit="count"
        )
        services.plan_set(
            company=alpha.company, kpi=leads, start=alpha.company.created.date(), value=5,
            manager=alpha.manager,
        )  # fmt: skip
        with pytest.raises(ValidationError, match="уже есть данные"):
            services.kpi_update(kpi=leads, unit="duration")
