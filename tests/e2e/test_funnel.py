"""The head of sales reads the funnel in Chromium: the hand-computed March, its charts,
one channel through HTMX, the retargeting list; a screenshot is kept in test-artifacts/."""

import pytest

from tests.conftest import ROOT, make_cast
from tests.e2e.test_smoke import log_in
from tests.funnel.conftest import build_known_funnel

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ARTIFACTS = ROOT / "test-artifacts"


def test_the_head_of_sales_reads_the_funnel_and_narrows_it_to_one_channel(page, live_server):
    known = build_known_funnel(make_cast("e2e", "Е2Е Продажи"))
    log_in(page, live_server.url, "e2e.head")
    page.get_by_role("link", name="Воронка", exact=True).click()
    page.get_by_role("heading", name="Воронка продаж").wait_for()

    page.goto(f"{live_server.url}/funnel/?period=range&start=2026-03-01&end=2026-03-31")
    conversion = page.locator('[data-metric="conversion"]')
    assert conversion.inner_text().startswith("50,0 %")
    assert "0,37×" in page.locator('[data-metric="coverage"]').inner_text()
    # Plotly drew the three charts (an SVG each), from the page's own static files.
    page.locator('[data-figure="stages-data"] svg.main-svg').first.wait_for()
    assert page.locator("[data-figure] svg.main-svg").count() >= 3
    rows = page.locator("#stage-table tbody tr")
    assert rows.nth(0).inner_text().split("\t")[3:6] == ["4", "3", "75,0 %"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "funnel.png"), full_page=True)

    page.get_by_label("Канал", exact=True).select_option("Сайт")
    page.wait_for_url("**channel=**")
    page.locator('[data-metric="coverage"]', has_text="по одному каналу плана нет").wait_for()
    assert conversion.inner_text().startswith("50,0 %")
    assert page.locator("#channel-table tbody tr").count() == 1
    page.locator('[data-figure="channels-data"] svg.main-svg').first.wait_for()

    page.get_by_label("Менеджер", exact=True).select_option(str(known.manager.code))
    page.wait_for_url(f"**manager={known.manager.code}**")
    page.get_by_role("link", name="Ретаргетинг").click()
    page.get_by_role("heading", name="Ретаргетинг: сделки для маркетинга").wait_for()
