"""The head of sales sees a figure its CRM disagrees with, in Chromium at 1440 and 375 px:
the dashboard cell and the funnel's «Сделки в отчётах» flag it with the CRM's figure in
sight and both in the title. Screenshots are kept in test-artifacts/.

The known March (tests/funnel/conftest.py): manager B typed 1 deal won, 100 000 ₽; the
CRM has 2 won deals, 300 000 ₽. Deals won are checked against the CRM (the default)."""

import pytest

from tests.conftest import ROOT, make_cast
from tests.e2e.test_smoke import log_in
from tests.funnel.conftest import build_known_funnel

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ARTIFACTS = ROOT / "test-artifacts"
MARCH = "period=month&start=2026-03-01"


def _readable(page, flag) -> None:  # type: ignore[no-untyped-def]
    """The flag is on screen once scrolled to, wholly inside the viewport's width, legible."""
    flag.scroll_into_view_if_needed()
    assert flag.is_visible()
    box = flag.bounding_box()
    width = page.viewport_size["width"]
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box
    assert box["height"] >= 12
    title = flag.get_attribute("title")
    assert "В отчётах 1, CRM — 2; считается: отчёт менеджера" in title


@pytest.mark.parametrize("width", [1440, 375])
def test_the_head_sees_the_crms_figure_beside_the_reported_one(browser, live_server, width):
    known = build_known_funnel(make_cast("e2e", "Е2Е Продажи"))
    context = browser.new_context(
        locale="ru-RU",
        viewport={"width": width, "height": 900},
        is_mobile=width < 500,
        has_touch=width < 500,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, live_server.url, "e2e.head")
        page.get_by_role("heading", name="Отчёты команды").wait_for()
        page.goto(f"{live_server.url}/dashboard/?{MARCH}")
        row = page.locator(f'tr[data-manager="{known.manager.username}"]')
        if not row.is_visible():  # a phone folds the role's table under its heading
            page.locator(".role-fold", has=row).locator("summary").click()
        cell = row.locator('td[data-label="Выигранные сделки"]')
        flag = cell.locator(".differs")
        assert "≠ CRM: 2" in flag.inner_text()
        assert cell.locator(".value").inner_text() == "1"
        _readable(page, flag)
        ARTIFACTS.mkdir(exist_ok=True)
        cell.screenshot(path=str(ARTIFACTS / f"record-dashboard-cell-{width}.png"))
        page.screenshot(path=str(ARTIFACTS / f"record-dashboard-{width}.png"), full_page=True)

        page.goto(f"{live_server.url}/funnel/?{MARCH}&manager={known.manager.code}")
        line = page.locator('#record tr[data-kpi="deals_won"]')
        assert line.locator("td").nth(1).inner_text() == "1"
        flag = line.locator(".differs")
        assert "≠ CRM: 2" in flag.inner_text()
        _readable(page, flag)
        page.locator("#record").screenshot(path=str(ARTIFACTS / f"record-funnel-{width}.png"))
    finally:
        context.close()
