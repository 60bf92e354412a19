import pytest
from playwright.sync_api import expect

from accounts import tenancy
from accounts.models import SalesRole
from kpi import services
from kpi.models import KPI
from tests.conftest import make_cast
from tests.e2e.test_smoke import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_admin_is_refused_a_sixth_kpi_with_the_reason(page, live_server):
    cast = make_cast("e2e", "Е2Е Продажи")
    with tenancy.tenant_context(cast.company):
        hunter = SalesRole.objects.get(company=cast.company, kind="hunter")
        incoming = KPI.objects.get(company=cast.company, code="incoming_calls")
        services.role_kpi_add(
            company=cast.company,
            sales_role=hunter,
            kpi=incoming,
            effective_from=incoming.company.created.date(),
        )
    log_in(page, live_server.url, "e2e.admin")
    page.goto(f"{live_server.url}/company/sales-roles/")
    page.get_by_role("link", name="Хантер").click()
    role_set = page.locator("#role-set ol")
    expect(role_set.locator("li")).to_have_count(5)
    page.locator("#role-set select[name=kpi]").select_option(label="Квалифицированные лиды (SQL)")
    page.get_by_role("button", name="Добавить KPI").click()
    alert = page.locator("#role-set").get_by_role("alert")
    expect(alert).to_contain_text("не может быть больше 5 KPI")
    expect(alert).to_contain_text("внимание менеджера рассеивается")
    expect(role_set.locator("li")).to_have_count(5)


def test_the_admin_edits_a_plan_cell_and_it_is_saved(page, live_server):
    cast = make_cast("e2e", "Е2Е Продажи")
    log_in(page, live_server.url, "e2e.admin")
    page.goto(f"{live_server.url}/plans/")
    cell = page.get_by_label(f"{cast.managers[1]}: Звонки")
    cell.fill("1 650")
    cell.press("Tab")
    saved = page.get_by_label(f"{cast.managers[1]}: Звонки")
    expect(saved).to_have_value("1650")
    expect(page.get_by_role("status").first).to_contain_text("сохранено")
    page.reload()
    expect(page.get_by_label(f"{cast.managers[1]}: Звонки")).to_have_value("1650")
    bad = page.get_by_label(f"{cast.managers[2]}: Звонки")
    bad.fill("много")
    bad.press("Tab")
    expect(page.get_by_role("alert")).to_contain_text("не число")
