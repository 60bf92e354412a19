import datetime
import time
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts import tenancy
from accounts.models import SalesRole
from kpi import services as kpi_services
from kpi.models import KPI
from tests.conftest import make_cast
from tests.e2e.htmx import settled
from tests.e2e.test_smoke import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PLANS = {"calls": 1200, "long_calls": 500, "talk_time": 108000, "leads": 80, "incoming_calls": 200}


def test_a_manager_fills_the_report_by_keyboard_fixes_a_typo_and_sees_completion(page, live_server):
    cast = make_cast("e2e", "Е2Е Продажи")
    today = cast.company.today()
    with tenancy.tenant_context(cast.company):
        hunter = SalesRole.objects.get(company=cast.company, kind="hunter")
        kpis = {k.code: k for k in KPI.objects.filter(company=cast.company, code__in=PLANS)}
        kpi_services.role_kpi_add(
            company=cast.company, sales_role=hunter, kpi=kpis["incoming_calls"],
            effective_from=today.replace(day=1),
        )  # fmt: skip
        # This month and the last: on a weekend at a month's start, the week reaches back.
        last_month = today.replace(day=1) - datetime.timedelta(days=1)
        for month in (today, last_month):
            for code, value in PLANS.items():
                kpi_services.plan_set(
                    company=cast.company, kpi=kpis[code], start=month, value=Decimal(value),
                    sales_role=hunter,
                )  # fmt: skip
    log_in(page, live_server.url, "e2e.manager3")
    page.goto(f"{live_server.url}/my/")
    calls_row = page.get_by_role("row").filter(has_text="Звонки").first
    expect(calls_row).not_to_contain_text("%")

    page.goto(f"{live_server.url}/report/")
    started = time.monotonic()
    keyboard = page.keyboard
    expect(page.locator("#id_calls")).to_be_focused()  # autofocus: typing starts at once
    keyboard.type("6o")  # a typo
    with settled(page):  # the row is checked and swapped: the next change goes to its new input
        keyboard.press("Tab")
    expect(page.locator("#row-calls").get_by_role("alert")).to_contain_text("«6o» — не число")
    page.locator("#id_calls").fill("60")
    page.locator("#id_calls").press("Tab")
    expect(page.locator("#row-calls").get_by_role("alert")).to_have_count(0)
    page.locator("#id_long_calls").focus()
    for value in ("25", "1:30:00", "4", "12"):
        keyboard.type(value)
        keyboard.press("Tab")
    page.locator("#id_incoming_calls").press("Enter")
    page.get_by_role("heading", name="Мои показатели").wait_for()
    elapsed = time.monotonic() - started
    expect(page.get_by_role("status").first).to_contain_text("отправлен")
    expect(page.get_by_role("row").filter(has_text="Звонки").first).to_contain_text("%")
    print(f"\nkeyboard_flow_5_kpis_s={elapsed:.2f}")
    assert elapsed < 120


def test_the_form_fits_a_phone(phone, live_server):
    make_cast("e2e", "Е2Е Продажи")
    log_in(phone, live_server.url, "e2e.manager3")
    phone.goto(f"{live_server.url}/report/")
    phone.locator("#id_calls").wait_for()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.goto(f"{live_server.url}/my/")
    phone.locator(".chart .main-svg").first.wait_for()  # plotly drew the trend under the CSP
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
