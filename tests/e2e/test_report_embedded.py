"""The day's report on the embedded profile, served as `scripts/run` serves it: SQLite, Celery
eager, `manage.py runserver` (threaded; here without the autoreloader). Submitting right
after typing sends the field's live check (which keeps the draft) and the form in the same
moment: both must be answered, and a check answered after the submission keeps no draft."""

import datetime
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.e2e.test_smoke import log_in
from tests.test_settings import ROOT, run_manage

pytestmark = pytest.mark.e2e

MANAGERS = ("emb.manager1", "emb.manager2", "emb.manager3")
DAYS_BACK = 4  # today and the three days a manager may still report (the company's default)
FIGURES = {"calls": "60", "long_calls": "25", "talk_time": "1:30:00", "leads": "4"}

SCENARIO = """
from tests.factories import CompanyFactory, TeamFactory, UserFactory

company = CompanyFactory(name="Встроенная")
team = TeamFactory(company=company)
for login in {managers!r}:
    UserFactory(company=company, username=login, team=team)
print("today", company.local_time().date().isoformat())
"""

LEFT_OVER = """
from accounts import tenancy
from accounts.models import Company
from reports.models import DailyReport, ReportDraft

with tenancy.tenant_context(Company.objects.get(name="Встроенная")):
    print("reports", DailyReport.objects.count(), "drafts", ReportDraft.objects.count())
"""


@dataclass
class EmbeddedServer:
    url: str
    log: Path
    env: dict[str, str]
    today: datetime.date


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def embedded_server(tmp_path, embedded_env) -> Iterator[EmbeddedServer]:
    env = embedded_env
    made = run_manage("shell", "-v0", "-c", SCENARIO.format(managers=MANAGERS), **env)
    assert made.returncode == 0, made.stdout + made.stderr
    today = datetime.date.fromisoformat(made.stdout.split("today ")[1].strip())
    port = _free_port()
    log = tmp_path / "runserver.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env={**_bare_environment(), **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield EmbeddedServer(url=f"http://127.0.0.1:{port}", log=log, env=env, today=today)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _bare_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}


def _fill_and_submit(page, url: str, day: datetime.date, *, by_click: bool) -> str:  # type: ignore[no-untyped-def]
    """Types the day's figures as a manager does and submits at once: what went wrong, if
    anything."""
    page.goto(f"{url}/report/{day.isoformat()}/")
    expect(page.locator("#id_calls")).to_be_focused()
    *first, last = FIGURES
    for code in first:
        page.keyboard.type(FIGURES[code])
        page.keyboard.press("Tab")
    page.locator(f"#id_{last}").focus()
    page.keyboard.type(FIGURES[last])
    # Submitted right away: the last field's change sends its live check as the form goes.
    with page.expect_navigation() as navigation:
        if by_click:
            page.get_by_role("button", name="Отправить отчёт").click()
        else:
            page.keyboard.press("Enter")
    answer = navigation.value  # after the redirect, if there was one
    if answer.ok and answer.url.endswith("/my/"):
        expect(page.get_by_role("status").first).to_contain_text("отправлен")
        return ""
    return f"{answer.status} {page.title()}"  # the error page's title names the error


def _watched_page(context, errors: list[str]):  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.request.method} {response.url}")
            if response.status >= 500
            else None
        ),
    )
    return page


def test_the_report_is_submitted_right_after_typing_by_enter_and_by_click(browser, embedded_server):
    server = embedded_server
    errors: list[str] = []  # every request answered with a 5xx, the live checks' included
    failed: list[str] = []  # submissions that did not end on «Мои показатели»
    submissions = 0
    pages = {}
    for login in MANAGERS:
        context = browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 800})
        page = pages[login] = _watched_page(context, errors)
        log_in(page, server.url, login)
        page.wait_for_url(lambda address: "/login" not in address)
        for back in range(DAYS_BACK):
            day = server.today - datetime.timedelta(days=back)
            by_click = bool(submissions % 2)
            submissions += 1
            try:
                wrong = _fill_and_submit(page, server.url, day, by_click=by_click)
            except PlaywrightError as error:
                wrong = error.message.splitlines()[0]
            if wrong:
                failed.append(f"{login} {day}: {wrong}")
    time.sleep(1)  # the last live checks, answered after their page was left, reach the log
    log = server.log.read_text()
    locked = log.count("OperationalError: database is locked")
    assert not failed, f"{len(failed)} of {submissions} failed ({locked} locked): {failed}"
    assert not errors, errors
    assert not locked and '" 500 ' not in log, log[-5000:]
    for page in pages.values():
        # A filed day's form is the correction form, with the stored figures.
        page.goto(f"{server.url}/report/{server.today.isoformat()}/")
        expect(page.locator("#id_leads")).to_have_value(FIGURES["leads"])
        expect(page.get_by_role("button", name="Сохранить исправления")).to_be_visible()
        page.context.close()
    # Every report filed, and no draft kept by a live check answered after its submission.
    left = run_manage("shell", "-v0", "-c", LEFT_OVER, **server.env)
    assert left.returncode == 0, left.stdout + left.stderr
    assert f"reports {len(MANAGERS) * DAYS_BACK} drafts 0" in left.stdout, left.stdout
