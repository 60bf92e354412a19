"""The head of sales' morning review in Chromium, scripted and measured.

The scenario is the review a head does each morning: open the dashboard, see who did not
report on the last working day, who is at risk, open one manager, open one figure's
explanation, switch to the month and take it away as Excel and print. It counts the pages
the browser loaded, the actions a person makes (clicks, typing, scrolling) and the browser
time, and prints `pages=… actions=… browser_ms=…`: run on an older checkout it measures the
review before, on this one after (docs/architecture.md, Dashboard). Steps the screen makes
unnecessary are skipped; steps it makes necessary (another page for last day's reports,
scrolling to an explanation, reloading a stale export link) are taken and counted.
"""

import datetime
import time
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from accounts import tenancy
from dashboard.selectors.attention import status_days
from kpi import services as kpi_services
from kpi.calendar import calendar_for
from kpi.models import KPI
from reports import services as report_services
from reports.models import DailyReport
from rollups import services as rollup_services
from tests.conftest import ROOT, make_cast
from tests.e2e.test_smoke import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ARTIFACTS = ROOT / "test-artifacts"
VALUES = {"calls": "40", "long_calls": "20", "leads": "3", "talk_time": "1:30:00"}


def _team_with_a_silent_and_a_red_manager():
    """e2e cast: every manager reported on the month's working days but the last one, where
    managers[2] did not; managers[1] is far behind plan on calls."""
    cast = make_cast("e2e", "Е2Е Продажи")
    company = cast.company
    today = company.today()
    with tenancy.tenant_context(company):
        calendar = calendar_for(company=company)
        last = status_days(calendar, today)[1]
        days = calendar.working_days(
            min(today.replace(day=1), last - datetime.timedelta(days=6)), last
        )
        kpi_services.plan_set(
            company=company, kpi=KPI.objects.get(company=company, code="calls"),
            start=today.replace(day=1), value=Decimal(100000), manager=cast.managers[1],
        )  # fmt: skip
        for manager in cast.managers:
            for day in days:
                if manager == cast.managers[2] and day == last:
                    continue
                # The cast filed managers[0]'s report of yesterday: corrected to VALUES.
                filed = DailyReport.objects.filter(company=company, manager=manager, date=day)
                report_services.report_submit(
                    company=company, manager=manager, day=day, actor=cast.admin,
                    values=VALUES, confirmed=True, reason="e2e",
                    version=filed[0].version if filed else 0,
                )  # fmt: skip
    rollup_services.rollup_run(company_id=company.pk)
    return cast, last


class Meter:
    """Pages the browser loaded (every page of the context) and the person's actions."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.pages = 0
        self.actions = 0
        page.on("load", self._loaded)
        page.context.on("page", lambda new: new.on("load", self._loaded))

    def _loaded(self, _page) -> None:  # type: ignore[no-untyped-def]
        self.pages += 1

    def act(self, count: int = 1) -> None:
        self.actions += count


def _in_view(page, selector: str) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate(
        """(selector) => { const box = document.querySelector(selector).getBoundingClientRect();
             return box.height > 0 && box.top >= 0 && box.top < innerHeight; }""",
        selector,
    )


def test_the_heads_review_pages_actions_and_browser_time(page, live_server, tmp_path: Path):
    cast, last = _team_with_a_silent_and_a_red_manager()
    silent = cast.managers[2]
    log_in(page, live_server.url, "e2e.head")
    page.get_by_role("heading", name="Отчёты команды").wait_for()
    meter = Meter(page)
    started = time.perf_counter()

    # 1. The dashboard.
    meter.act()
    page.get_by_role("navigation").get_by_role("link", name="Дашборд").click()
    page.locator("#figures").wait_for()

    # 2. Who did not report on the last working day.
    if page.locator("[data-strip]").count():
        strip = page.locator("[data-strip]").inner_text()
        missed = page.locator(f'[data-strip-manager="{silent.username}"] .strip-mark.red')
        assert missed.count() >= 1, strip
    else:
        meter.act()
        page.get_by_role("navigation").get_by_role("link", name="Отчёты команды").click()
        page.get_by_label("День").wait_for()
        meter.act(2)
        page.get_by_label("День").fill(last.isoformat())
        page.get_by_role("button", name="Показать").click()
        page.wait_for_url(f"**date={last.isoformat()}**")
        row = page.locator("tr", has_text=str(silent))
        assert "нет отчёта" in row.inner_text()
        meter.act()
        page.get_by_role("navigation").get_by_role("link", name="Дашборд").click()
        page.locator("#figures").wait_for()

    # 3. Who is at risk: read the list (no action).
    talks = page.locator("ol.attention > li")
    talks.first.wait_for()
    assert str(silent) in page.locator("ol.attention").inner_text()

    # 4. One manager's page, and back.
    meter.act()
    talks.first.locator("a").first.click()
    # The manager's page loads plotly: on a busy machine its "load" takes more than 10 s.
    page.wait_for_url("**/dashboard/managers/**", wait_until="domcontentloaded", timeout=30_000)
    page.locator("h1").wait_for()
    meter.act()
    page.go_back()
    page.locator("#figures").wait_for()

    # 5. One figure's explanation.
    meter.act()
    page.locator("a.figure").first.click()
    page.locator("[data-explain]").wait_for()
    if _in_view(page, "[data-explain]"):
        meter.act()
        page.keyboard.press("Escape")
    else:  # below the page: the person scrolls down to read it and back up
        meter.act(2)
        page.locator("[data-explain]").scroll_into_view_if_needed()
        page.evaluate("window.scrollTo(0, 0)")

    # 6. The month, then Excel and print of what is on screen.
    meter.act()
    page.get_by_role("link", name="Месяц", exact=True).click()
    page.wait_for_url("**period=month**")
    month_label = page.locator(".window-label").inner_text()
    excel = page.get_by_role("link", name="Выгрузить в Excel")
    if "period=month" not in (excel.get_attribute("href") or ""):
        meter.act()  # the link still says the week: reload the page to get the month's
        page.reload()
        page.locator("#figures").wait_for()
    meter.act()
    with page.expect_download() as download:
        excel.click()
    saved = tmp_path / "review.xlsx"
    download.value.save_as(saved)
    assert load_workbook(saved).worksheets[0]["B1"].value == month_label
    meter.act()
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Версия для печати").click()
    printed = opened.value
    printed.wait_for_load_state()
    assert month_label in printed.locator("h1").inner_text()
    browser_ms = round((time.perf_counter() - started) * 1000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "head-review.png"), full_page=True)
    print(f"\npages={meter.pages} actions={meter.actions} browser_ms={browser_ms}")


def test_the_export_links_follow_a_period_switched_by_htmx(page, live_server):
    make_cast("e2e", "Е2Е Продажи")
    log_in(page, live_server.url, "e2e.head")
    page.goto(f"{live_server.url}/dashboard/?period=week")
    page.get_by_role("link", name="Месяц", exact=True).click()
    page.wait_for_url("**period=month**")
    page.locator(".window-label").filter(has_text=".").wait_for()
    for name in ("Выгрузить в Excel", "Версия для печати"):
        assert "period=month" in page.get_by_role("link", name=name).get_attribute("href")


@pytest.mark.parametrize("width", [1440, 375])
def test_a_figures_explanation_opens_in_view(browser, live_server, width):
    _team_with_a_silent_and_a_red_manager()
    context = browser.new_context(locale="ru-RU", viewport={"width": width, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, live_server.url, "e2e.head")
    page.goto(f"{live_server.url}/dashboard/?period=month")
    if width < 600:  # a phone: the role's table is folded under its heading
        page.locator(".role-fold > summary").last.click()
    cell = page.locator("a.figure").last
    cell.scroll_into_view_if_needed()
    cell.click()
    page.locator("[data-explain]").wait_for()
    assert _in_view(page, "[data-explain]")
    assert page.evaluate("document.activeElement.id") == "explain"
    page.keyboard.press("Escape")
    page.locator("[data-explain]").wait_for(state="detached")
    context.close()


def test_the_review_on_a_phone_is_a_phones_length(browser, live_server):
    """At 375 px the attention list and the week's strip are open, the rest folds under its
    headings (one tap each); a table opened keeps its column labels and stays open when the
    figures block is refreshed."""
    _team_with_a_silent_and_a_red_manager()
    context = browser.new_context(locale="ru-RU", viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, live_server.url, "e2e.head")
    page.goto(f"{live_server.url}/dashboard/")
    assert page.locator("ol.attention").is_visible() and page.locator("[data-strip]").is_visible()
    assert not page.locator(".team-table").first.is_visible()
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 3000, height
    role = page.locator(".role-fold").first
    role.locator("summary").click()
    table = role.locator(".team-table")
    assert table.is_visible()
    cells = table.locator("tbody td:not(:first-child)")  # the first: the card's title
    unlabelled = [
        cells.nth(i).inner_text()
        for i in range(cells.count())
        if not cells.nth(i).get_attribute("data-label")
    ]
    assert cells.count() and unlabelled == []
    with page.expect_response(lambda r: r.request.headers.get("hx-target") == "figures"):
        page.get_by_role("link", name="Неделя", exact=True).click()
    page.wait_for_url("**period=week**")
    page.locator(".role-fold").first.locator(".team-table").wait_for(state="visible")
    print(f"\nphone_dashboard_px={height}")
    context.close()
