"""The manager's two minutes, measured in the browser: a closer files today's report with a
deal, then reaches a missed day and files it. Prints pages, actions, keystrokes and the time
the browser spent on them, so that a change can be compared before and after (issue 20)."""

import datetime
import time
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts import tenancy
from accounts.models import SalesRole, User
from kpi.calendar import calendar_for
from kpi.models import KPI
from reports.models import DailyReport, ReportValue
from tests.conftest import make_cast
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The closer's past: most days without a deal, a deal of 60–110 thousand now and then.
DEAL_SUMS = [0, 0, 85000, 0, 0, 0, 62000, 0, 170000, 0, 0, 98000, 0, 0, 0, 75000, 0, 0, 110000]
DEAL_SUMS += [0, 0, 160000, 0, 91000, 0, 0, 0, 70000, 0, 0]


class Tracker:
    """Counts what a person does: pages loaded, actions (a click, Enter, an address typed),
    keystrokes; and the time the browser spent loading the pages (Navigation Timing)."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.page = page
        self.pages = self.actions = self.keystrokes = 0
        self.browser_ms = 0.0
        self._seen: set[float] = set()

    def arrived(self) -> None:
        """A page has loaded (after the step that led to it): counted once, with the time
        from the request to its load event."""
        self.page.wait_for_load_state("load")
        origin, took = self.page.evaluate(
            "() => { const n = performance.getEntriesByType('navigation')[0];"
            " return [performance.timeOrigin, n ? n.loadEventEnd - n.startTime : 0] }"
        )
        if origin not in self._seen:
            self._seen.add(origin)
            self.pages += 1
            self.browser_ms += took

    def goto(self, url: str) -> None:
        """An address typed into the browser: each character, then Enter."""
        self.actions += 1
        self.keystrokes += len(url) + 1
        self.page.goto(url)
        self.arrived()

    def click(self, locator) -> None:  # type: ignore[no-untyped-def]
        self.actions += 1
        locator.click()

    def type(self, locator, text: str) -> None:  # type: ignore[no-untyped-def]
        locator.fill("")
        locator.press_sequentially(text)
        self.keystrokes += len(text)

    def press(self, locator, key: str) -> None:  # type: ignore[no-untyped-def]
        self.keystrokes += 1
        if key == "Enter":
            self.actions += 1
        locator.press(key)


def closer_with_a_past(cast, today: datetime.date) -> tuple[User, datetime.date | None]:
    """The cast's third manager as a closer with a month and a half of reports, all but the
    last working day within the manager's window: the missed day to file."""
    manager = cast.managers[2]
    with tenancy.tenant_context(cast.company):
        User.objects.filter(pk=manager.pk).update(
            sales_role=SalesRole.objects.get(company=cast.company, kind="closer"),
            date_joined=cast.company.day_start(today - datetime.timedelta(days=90)),
        )
        kpis = {k.code: k for k in KPI.objects.filter(company=cast.company)}
        calendar = calendar_for(company=cast.company)
        past = [d for d in calendar.working_days(today - datetime.timedelta(days=80), today)]
        past = [d for d in past if d < today][::-1]
        window = cast.company.report_backdate_days
        missed = past[0] if (today - past[0]).days <= window else None
        for day, deal_sum in zip(past[1:], DEAL_SUMS * 2, strict=False):
            at = cast.company.day_start(day) + datetime.timedelta(hours=18)
            report = DailyReport(company=cast.company, manager=manager, date=day, submitted_at=at)
            report.save()
            deals = 0 if not deal_sum else (2 if deal_sum > 150000 else 1)
            figures = {"meetings": 2, "deals_won": deals, "deals_sum": deal_sum}
            for code, value in figures.items():
                ReportValue(
                    company=cast.company, report=report, kpi=kpis[code], value=Decimal(value)
                ).save()
    return manager, missed


def fill_the_form(track: Tracker, page, figures: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Types each figure and Tab, Enter on the last; confirms if the form asks."""
    codes = list(figures)
    for code in codes:
        field = page.locator(f"#id_{code}")
        track.type(field, figures[code])
        track.press(field, "Enter" if code == codes[-1] else "Tab")
    # Either the manager's page, or the form again asking to confirm a figure.
    page.locator("h1:has-text('Мои показатели'), label.confirm").first.wait_for()
    track.arrived()
    confirm = page.get_by_label("Да, цифры верны")
    if confirm.count():
        track.click(confirm)
        track.click(page.get_by_role("button", name="Отправить отчёт"))
        page.get_by_role("heading", name="Мои показатели").wait_for()
        track.arrived()


def test_a_closer_files_today_with_a_deal_then_a_missed_day(page, live_server):
    cast = make_cast("e2e", "Е2Е Продажи")
    today = cast.company.today()
    closer, missed = closer_with_a_past(cast, today)
    base = live_server.url
    track = Tracker(page)
    started = time.monotonic()

    track.goto(f"{base}/")
    track.type(page.get_by_label("Логин"), closer.username)
    track.press(page.get_by_label("Логин"), "Tab")
    track.type(page.get_by_label("Пароль"), PASSWORD)
    track.press(page.get_by_label("Пароль"), "Enter")
    page.wait_for_url(f"{base}/")
    track.arrived()
    track.click(page.locator("a[href='/report/']").first)
    page.locator("#id_meetings").wait_for()
    track.arrived()
    fill_the_form(track, page, {"meetings": "3", "deals_won": "1", "deals_sum": "92 000"})
    expect(page.get_by_role("heading", name="Мои показатели")).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("отправлен")

    if missed is not None:
        form = f"/report/{missed.isoformat()}/"
        link = page.locator(f"#missed-days a[href='{form}']")
        if link.count():
            track.click(link)
        else:  # no way there but the address
            track.goto(f"{base}{form}")
        page.locator("#id_meetings").wait_for()
        track.arrived()
        fill_the_form(track, page, {"meetings": "2", "deals_won": "0", "deals_sum": "0"})
        expect(page.get_by_role("heading", name="Мои показатели")).to_be_visible()
        with tenancy.tenant_context(cast.company):
            assert DailyReport.objects.filter(manager=closer, date=missed).exists()
    with tenancy.tenant_context(cast.company):
        assert DailyReport.objects.filter(manager=closer, date=today).exists()
    wall_ms = (time.monotonic() - started) * 1000
    print(
        f"\nmanager_report pages={track.pages} actions={track.actions} "
        f"keystrokes={track.keystrokes} browser_ms={track.browser_ms:.0f} wall_ms={wall_ms:.0f}"
        f" missed_day={'yes' if missed else 'none in the window'}"
    )
