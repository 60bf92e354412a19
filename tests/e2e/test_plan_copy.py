"""«Скопировать прошлый месяц» over a plan already edited: the grid shows what will be
overwritten and asks; only «Да, скопировать» writes. Screenshots are kept in test-artifacts/."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts import tenancy
from kpi import services
from kpi.models import KPI
from tests.conftest import ROOT, make_cast
from tests.e2e.htmx import settled
from tests.e2e.test_smoke import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ARTIFACTS = ROOT / "test-artifacts"


def previous_month_plans(cast) -> None:
    """Last month: 1000 calls for the first manager (whose 1200 this month the cast set),
    1300 for the second (who has none this month)."""
    with tenancy.tenant_context(cast.company):
        calls = KPI.objects.get(company=cast.company, code="calls")
        today = timezone.localdate()
        previous = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
        for manager, value in ((cast.managers[0], 1000), (cast.managers[1], 1300)):
            services.plan_set(
                company=cast.company, kpi=calls, start=previous, value=Decimal(value),
                manager=manager,
            )  # fmt: skip


@pytest.mark.parametrize("width", [1440, 375])
def test_the_head_copies_last_month_after_seeing_what_it_overwrites(browser, live_server, width):
    cast = make_cast("e2e", "Е2Е Продажи")
    previous_month_plans(cast)
    context = browser.new_context(locale="ru-RU", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, live_server.url, "e2e.head")
        page.goto(f"{live_server.url}/plans/")
        first = page.get_by_label(f"{cast.managers[0]}: Звонки")
        expect(first).to_have_value("1200")
        with settled(page):
            page.get_by_role("button", name="Скопировать прошлый месяц").click()
        card = page.locator("#plan-confirm")
        expect(card.get_by_role("heading")).to_have_text("Скопировать планы прошлого месяца?")
        expect(card.get_by_role("status")).to_contain_text(
            "Будет изменено планов: 2, из них уже заполнены: 1."
        )
        overwritten = card.locator("tr.overwrite")
        expect(overwritten).to_have_count(1)
        expect(overwritten).to_contain_text(str(cast.managers[0]))
        expect(overwritten).to_contain_text("1\u202f200")
        expect(overwritten).to_contain_text("1\u202f000")
        expect(first).to_have_value("1200")  # asking wrote nothing
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"plan-copy-confirm-{width}.png"), full_page=True)
        page.get_by_role("button", name="Да, скопировать").click()
        expect(page.locator(".message").first).to_contain_text(
            "Скопировано планов из прошлого месяца: 2."
        )
        expect(page.get_by_label(f"{cast.managers[0]}: Звонки")).to_have_value("1000")
        expect(page.get_by_label(f"{cast.managers[1]}: Звонки")).to_have_value("1300")
    finally:
        context.close()
