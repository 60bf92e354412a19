"""A new KPI needs only its Russian name: the code is made from it, the English name falls
back to the Russian one."""

from django.urls import reverse
from django.utils import translation

from accounts import tenancy
from kpi.models import KPI
from kpi.services import kpi_code_for

FORM = {
    "name_ru": "Встречи с клиентом",
    "unit": "count",
    "direction": "higher",
    "aggregation": "sum",
    "source": "manual",
    "decimals": "0",
}


def test_the_admin_adds_a_kpi_by_its_russian_name_alone(client, alpha):
    client.force_login(alpha.admin)
    for _ in range(2):
        response = client.post(reverse("kpi-create"), FORM)
        assert response.status_code == 302, response.content.decode()
    with tenancy.tenant_context(alpha.company):
        made = KPI.objects.filter(company=alpha.company, name_ru=FORM["name_ru"]).order_by("pk")
        assert [kpi.code for kpi in made] == ["vstrechi_s_klientom", "vstrechi_s_klientom_2"]
        kpi = made.first()
    assert kpi.name_en == ""
    with translation.override("en"):
        assert kpi.name == "Встречи с клиентом"


def test_a_code_is_a_latin_slug_unique_in_the_company(alpha):
    with tenancy.tenant_context(alpha.company):
        assert kpi_code_for(company=alpha.company, name="Объём продаж, ₽") == "obieem_prodazh"
        assert kpi_code_for(company=alpha.company, name="Звонки") == "zvonki"
        assert kpi_code_for(company=alpha.company, name="???") == "kpi"
