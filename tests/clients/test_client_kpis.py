"""The client-base KPIs as of a day, and how they prefill the end-of-day report."""

import datetime
import re
from decimal import Decimal

from accounts import tenancy
from accounts.models import SalesRole, User
from clients import selectors, services
from crm_sync import services as crm
from kpi import services as kpi_services
from kpi.models import KPI
from reports.models import ImportedFigure
from tests.clients.conftest import JUNE, KPI_DAY, KPI_EXPECTED

REPORT_KPIS = ["retention", "churn", "clv", "ltv_cac", "repeat_customers_pct"]


def test_each_client_kpi_by_hand(kpi_clients):
    cast = kpi_clients.cast
    with tenancy.tenant_context(cast.company):
        services.acquisition_cost_set(company=cast.company, month=JUNE, amount=Decimal(130000))
        figures = selectors.client_figures(
            company=cast.company, day=KPI_DAY, manager=cast.managers[1]
        )
    assert figures == KPI_EXPECTED


def test_no_cost_and_no_base_give_no_figure(kpi_clients):
    cast = kpi_clients.cast
    with tenancy.tenant_context(cast.company):
        without_cost = selectors.client_figures(
            company=cast.company, day=KPI_DAY, manager=cast.managers[1]
        )
        # Early in 2025 nobody had bought in the window before: no base for retention.
        early = selectors.client_figures(
            company=cast.company, day=datetime.date(2025, 5, 2), manager=cast.managers[1]
        )
    assert "ltv_cac" not in without_cost and without_cost["clv"] == Decimal("162500.00")
    assert "retention" not in early and "churn" not in early
    assert early["clv"] == Decimal("40000.00")


def test_the_retention_window_is_a_setting(kpi_clients):
    cast = kpi_clients.cast
    with tenancy.tenant_context(cast.company):
        services.settings_update(company=cast.company, retention_days=60)
        figures = selectors.client_figures(
            company=cast.company, day=KPI_DAY, manager=cast.managers[1]
        )
    # Base 02.03 – 01.05: К1 (10.03), К3 (20.03); again 02.05 – 30.06: К1, К3 → 100 %.
    assert (figures["retention"], figures["churn"]) == (Decimal("100.0"), Decimal("0.0"))


def _farmer_with_client_kpis(cast) -> User:  # type: ignore[no-untyped-def]
    company, manager = cast.company, cast.managers[1]
    farmer = SalesRole.objects.get(company=company, kind=SalesRole.Kind.FARMER)
    kpis = [kpi_services.catalogue_adopt(company=company, code=code) for code in REPORT_KPIS]
    kpi_services.role_kpis_set(
        company=company, sales_role=farmer, kpis=kpis, effective_from=datetime.date(2026, 1, 1)
    )
    User.objects.filter(pk=manager.pk).update(sales_role=farmer)
    manager.refresh_from_db()
    return manager


def test_the_daily_refresh_prefills_the_report(kpi_clients, client):
    cast = kpi_clients.cast
    with tenancy.tenant_context(cast.company):
        services.acquisition_cost_set(company=cast.company, month=JUNE, amount=Decimal(130000))
        manager = _farmer_with_client_kpis(cast)
        refreshed = services.client_figures_refresh(company=cast.company, day=KPI_DAY)
        stored = {
            f.kpi.code: f.value
            for f in ImportedFigure.objects.filter(manager=manager, date=KPI_DAY).select_related(
                "kpi"
            )
        }
    assert refreshed == 1  # only the farmer's role has them
    assert stored == {code: KPI_EXPECTED[code] for code in REPORT_KPIS}
    client.force_login(manager)
    page = client.get(f"/report/{KPI_DAY.isoformat()}/").content.decode()
    for code, text in [("retention", "66,7"), ("churn", "33,3"), ("clv", "162500,00"),
                       ("ltv_cac", "2,50"), ("repeat_customers_pct", "66,7")]:  # fmt: skip
        # An editable field or, for a day past the correction window, a read-only one.
        assert re.search(f'id="id_{code}"[^>]*value="{text}"', page), code
    assert "из CRM" in page


def test_a_figure_without_a_base_any_more_is_dropped(kpi_clients):
    cast = kpi_clients.cast
    with tenancy.tenant_context(cast.company):
        manager = _farmer_with_client_kpis(cast)
        ltv_cac = KPI.objects.get(code="ltv_cac")
        ImportedFigure(
            company=cast.company, manager=manager, date=KPI_DAY, kpi=ltv_cac, source="crm",
            value=Decimal(9),
        ).save()  # fmt: skip
        services.client_figures_refresh(company=cast.company, day=KPI_DAY)
        assert not ImportedFigure.objects.filter(kpi=ltv_cac).exists()  # no cost entered


def test_day_figures_skip_the_client_base_when_not_asked(kpi_clients):
    cast = kpi_clients.cast
    with tenancy.tenant_context(cast.company):
        plain = crm.day_figures(
            company=cast.company, manager=cast.managers[1], day=KPI_DAY, codes={"calls"}
        )
        full = crm.day_figures(company=cast.company, manager=cast.managers[1], day=KPI_DAY)
    assert "retention" not in plain and plain["repeat_deals"] == 1
    assert full["retention"] == Decimal("66.7")


def test_the_overview_shows_the_company_and_churn_by_manager(kpi_clients, client):
    cast = kpi_clients.cast
    with tenancy.tenant_context(cast.company):
        whole, rows = selectors.client_kpis_in_view(
            company=cast.company,
            day=KPI_DAY,
            viewer=cast.admin,
            managers=User.objects.filter(pk__in=[m.pk for m in cast.managers]),
        )
    by_manager = {row.manager: row.figures for row in rows}
    assert set(by_manager) == {cast.managers[1], cast.managers[2]}  # managers[0]: none yet
    assert by_manager[cast.managers[1]]["churn"] == Decimal("33.3")
    assert "churn" not in by_manager[cast.managers[2]]  # К6, К7 bought only in June
    # Company-wide: К1–К4, К6, К7 → (650 000 + 40 000) / 6.
    assert whole.figures["clv"] == Decimal("115000.00")
    client.force_login(cast.head)
    page = client.get("/clients/").content.decode()
    assert 'id="churn-by-manager"' in page and str(cast.managers[1]) in page


def test_a_filed_client_kpi_reaches_the_dashboard(kpi_clients, client):
    from reports import services as report_services
    from rollups import services as rollup_services

    cast = kpi_clients.cast
    with tenancy.tenant_context(cast.company):
        services.acquisition_cost_set(company=cast.company, month=JUNE, amount=Decimal(130000))
        manager = _farmer_with_client_kpis(cast)
        services.client_figures_refresh(company=cast.company, day=KPI_DAY)
        prefilled = {
            f.kpi.code: str(f.value)
            for f in ImportedFigure.objects.filter(manager=manager, date=KPI_DAY).select_related(
                "kpi"
            )
        }
        report_services.report_submit(
            company=cast.company, manager=manager, day=KPI_DAY, values=prefilled, actor=cast.head
        )
    rollup_services.rollup_run(company_id=cast.company.pk)
    client.force_login(cast.head)
    page = client.get("/dashboard/?period=range&start=2026-06-01&end=2026-06-30").content.decode()
    assert "Удержание клиентов" in page and "Отток клиентов" in page
    cells = {
        label: value.replace("\xa0", " ").replace("\u202f", " ")
        for label, value in re.findall(
            r'data-label="([^"]+)" class="band-none">.*?<span class="value">([^<]+)<', page, re.S
        )
    }
    assert cells == {
        "Удержание клиентов": "66,7 %",
        "Отток клиентов": "33,3 %",
        "Пожизненная ценность клиента (LTV)": "162 500,00 ₽",
        "LTV : CAC": "2,50",
        "Доля повторных клиентов": "66,7 %",
    }
