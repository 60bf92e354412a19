import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts import tenancy
from accounts.models import SalesRole
from kpi import selectors, services
from kpi.models import KPI

JAN = datetime.date(2026, 1, 15)
FEB = datetime.date(2026, 2, 1)


@pytest.fixture
def hunter(alpha):
    with tenancy.tenant_context(alpha.company):
        yield SalesRole.objects.get(company=alpha.company, kind="hunter")


def kpi(company, code):
    return KPI.objects.get(company=company, code=code)


def codes(company, role, on):
    return [k.code for k in selectors.role_kpis_on(company=company, sales_role=role, on=on)]


def test_a_new_company_has_the_standard_sets(alpha, hunter):
    assert codes(alpha.company, hunter, JAN) == ["calls", "long_calls", "talk_time", "leads"]


def test_a_fifth_is_accepted_and_a_sixth_refused_with_the_reason(alpha, hunter):
    company = alpha.company
    services.role_kpi_add(
        company=company, sales_role=hunter, kpi=kpi(company, "incoming_calls"), effective_from=JAN
    )
    with pytest.raises(ValidationError) as refusal:
        services.role_kpi_add(
            company=company, sales_role=hunter, kpi=kpi(company, "sql"), effective_from=JAN
        )
    assert "больше 5 KPI" in refusal.value.messages[0]
    assert "внимание менеджера рассеивается" in refusal.value.messages[0]
    assert len(codes(company, hunter, JAN)) == 5


def test_fewer_than_two_is_refused(alpha, hunter):
    company = alpha.company
    for code in ("calls", "long_calls"):
        services.role_kpi_remove(
            company=company, sales_role=hunter, kpi=kpi(company, code), effective_from=JAN
        )
    with pytest.raises(ValidationError, match="хотя бы 2 KPI"):
        services.role_kpi_remove(
            company=company, sales_role=hunter, kpi=kpi(company, "leads"), effective_from=JAN
        )
    assert codes(company, hunter, JAN) == ["talk_time", "leads"]


def test_a_change_takes_effect_from_its_date_and_the_past_keeps_its_set(alpha, hunter):
    company = alpha.company
    services.role_kpi_remove(
        company=company, sales_role=hunter, kpi=kpi(company, "talk_time"), effective_from=FEB
    )
    services.role_kpi_add(
        company=company, sales_role=hunter, kpi=kpi(company, "sql"), effective_from=FEB
    )
    assert codes(company, hunter, JAN) == ["calls", "long_calls", "talk_time", "leads"]
    assert codes(company, hunter, FEB) == ["calls", "long_calls", "leads", "sql"]
    history = selectors.role_kpi_history(company=company, sales_role=hunter)
    talk = next(r for r in history if r.kpi.code == "talk_time")
    assert talk.effective_to == FEB


def test_a_future_change_cannot_make_a_later_set_too_big(alpha, hunter):
    company = alpha.company
    services.role_kpi_add(
        company=company, sales_role=hunter, kpi=kpi(company, "sql"), effective_from=FEB
    )
    # January would hold five, but the KPI stays in February's set too, which would hold six.
    with pytest.raises(ValidationError, match="больше 5 KPI"):
        services.role_kpi_add(
            company=company, sales_role=hunter, kpi=kpi(company, "mql"), effective_from=JAN
        )
    assert codes(company, hunter, JAN) == ["calls", "long_calls", "talk_time", "leads"]


def test_a_new_role_is_built_up_from_nothing(alpha):
    company = alpha.company
    with tenancy.tenant_context(company):
        sdr = services_role(company)
        services.role_kpi_add(
            company=company, sales_role=sdr, kpi=kpi(company, "calls"), effective_from=JAN
        )
        with pytest.raises(ValidationError, match="хотя бы 2 KPI"):
            services.role_kpi_remove(
                company=company, sales_role=sdr, kpi=kpi(company, "calls"), effective_from=JAN
            )


def services_role(company):
    from accounts.services import sales_role_create

    return sales_role_create(company=company, name="SDR")


def test_replacing_the_whole_set_checks_its_size(alpha, hunter):
    company = alpha.company
    six = [kpi(company, c) for c in ("calls", "long_calls", "talk_time", "leads", "sql", "mql")]
    with pytest.raises(ValidationError, match="больше 5 KPI"):
        services.role_kpis_set(company=company, sales_role=hunter, kpis=six, effective_from=FEB)
    with pytest.raises(ValidationError, match="хотя бы 2 KPI"):
        services.role_kpis_set(company=company, sales_role=hunter, kpis=six[:1], effective_from=FEB)
    services.role_kpis_set(company=company, sales_role=hunter, kpis=six[3:], effective_from=FEB)
    assert codes(company, hunter, FEB) == ["leads", "sql", "mql"]
    assert codes(company, hunter, JAN) == ["calls", "long_calls", "talk_time", "leads"]


def test_the_page_refuses_a_sixth_with_the_reason(client, alpha, hunter):
    company = alpha.company
    services.role_kpi_add(
        company=company, sales_role=hunter, kpi=kpi(company, "sql"), effective_from=JAN
    )
    client.force_login(alpha.admin)
    response = client.post(
        reverse("role-kpis", args=[hunter.code]),
        {"action": "add", "kpi": kpi(company, "mql").pk, "effective_from": "2026-01-15"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="role-set"')
    assert "не может быть больше 5 KPI" in body
    removed = client.post(
        reverse("role-kpis", args=[hunter.code]),
        {"action": "remove", "kpi": kpi(company, "sql").pk, "effective_from": "2026-01-15"},
        headers={"HX-Request": "true"},
    )
    assert "SQL" not in removed.content.decode().split("<ol")[1].split("</ol>")[0]


def test_the_api_refuses_a_sixth_with_the_reason(alpha, hunter):
    company = alpha.company
    services.role_kpi_add(
        company=company, sales_role=hunter, kpi=kpi(company, "sql"), effective_from=JAN
    )
    api = Client(headers={"Authorization": f"Token {alpha.api_key}"})
    response = api.post(
        reverse("api-role-kpi-add", args=[hunter.code]),
        {"kpi": "mql", "effective_from": "2026-01-15"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "не может быть больше 5 KPI" in response.json()["message"]
    listed = api.get(reverse("api-role-kpis", args=[hunter.code]), {"on": "2026-01-15"}).json()
    assert [k["code"] for k in listed["kpis"]] == [
        "calls",
        "long_calls",
        "talk_time",
        "leads",
        "sql",
    ]


def test_a_manager_cannot_change_role_sets(client, alpha, hunter):
    client.force_login(alpha.manager)
    assert client.get(reverse("role-kpis", args=[hunter.code])).status_code == 403


def test_a_refusal_is_shown_beside_the_set_of_its_own_date(client, alpha, hunter):
    company = alpha.company
    services.role_kpi_add(
        company=company, sales_role=hunter, kpi=kpi(company, "sql"), effective_from=JAN
    )
    client.force_login(alpha.admin)
    response = client.post(
        reverse("role-kpis", args=[hunter.code]),
        {"action": "add", "kpi": kpi(company, "mql").pk, "effective_from": "2026-01-15"},
    )
    assert "не может быть больше 5 KPI" in response.content.decode()
    # The set of 15 January (the one refused), not today's.
    assert response.context["on"] == JAN
    assert [k.code for k in response.context["kpis"]] == codes(company, hunter, JAN)


def test_a_ratios_parts_come_with_the_set_in_one_more_query_only_when_outside_it(
    alpha, hunter, django_assert_num_queries
):
    company = alpha.company
    services.role_kpi_add(
        company=company, sales_role=hunter, kpi=kpi(company, "mql_sql_conversion"),
        effective_from=JAN,
    )  # fmt: skip
    with django_assert_num_queries(2):  # the set; sql and mql, which are not in it
        kpis = selectors.role_kpis_on(company=company, sales_role=hunter, on=JAN)
    with django_assert_num_queries(0):
        ratio = kpis[-1]
        assert (ratio.numerator.code, ratio.denominator.code) == ("sql", "mql")
        assert ratio.company == company and ratio.numerator.company == company
    assert [k.code for k in kpis] == [
        "calls", "long_calls", "talk_time", "leads", "mql_sql_conversion",
    ]  # fmt: skip
    with django_assert_num_queries(1):  # a set without ratios: the set alone
        selectors.role_kpis_on(company=company, sales_role=hunter, on=JAN - datetime.timedelta(1))
