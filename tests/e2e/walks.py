"""User journeys in Chromium that any harness can drive: pytest's live server, or the
production topology (gunicorn, worker, beat, PostgreSQL, Redis, an SMTP sink).

A walk needs only a Playwright page, the site's base URL and `read_outbox`, a callable
returning the bodies of the e-mails sent so far (in any order). It makes its own company with
names unique to the run, so it can run against an installation that holds other data.
"""

import datetime
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, expect

PASSWORD = "Walk-Meadow-2026!"
MAIL_TIMEOUT = 30.0
TOTALS_TIMEOUT = 30.0


@dataclass(frozen=True)
class SignupWalk:
    company: str
    admin_email: str
    head_login: str
    manager_login: str
    manager_name: str


def _wait_for_mail(read_outbox: Callable[[], list[str]], *, containing: str, pattern: str) -> str:
    """The first match of `pattern` in an e-mail that mentions `containing`, once it arrives."""
    deadline = time.monotonic() + MAIL_TIMEOUT
    while True:
        for body in read_outbox():
            if containing in body and (found := re.search(pattern, body)):
                return found[1]
        if time.monotonic() > deadline:
            raise AssertionError(f"no e-mail mentioning {containing} with {pattern} arrived")
        time.sleep(0.3)


def _shot(page: Page, shots: Path | None, name: str) -> None:
    if shots is not None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def _accept_invitation(
    page: Page, base_url: str, read_outbox: Callable[[], list[str]], login: str
) -> None:
    page.context.clear_cookies()  # the next person, in a browser of their own
    path = _wait_for_mail(
        read_outbox, containing=f"Ваш логин: {login}", pattern=r"https?://[^/\s]+(/invite/\S+/)"
    )
    page.goto(base_url + path)
    page.locator("#id_new_password1").fill(PASSWORD)
    page.locator("#id_new_password2").fill(PASSWORD)
    page.get_by_role("button", name="Задать пароль и войти").click()
    expect(page.locator(".messages")).to_contain_text("Пароль задан")


def _invite(
    page: Page,
    base_url: str,
    *,
    first: str,
    last: str,
    email: str,
    login_suffix: str,
    role: str,
    team: str | None = None,
    sales_role: str | None = None,
) -> str:
    page.goto(f"{base_url}/company/users/new/")
    page.locator("#id_first_name").fill(first)
    page.locator("#id_last_name").fill(last)
    page.locator("#id_email").fill(email)
    login_field = page.locator("#id_username")
    login = login_field.input_value() + login_suffix  # the company's namespace, prefilled
    login_field.fill(login)
    page.locator("#id_role").select_option(label=role)
    if team:
        page.locator("#id_team").select_option(label=team)
    if sales_role:
        page.locator("#id_sales_role").select_option(label=sales_role)
    page.get_by_role("button", name="Сохранить").click()
    expect(page.locator(".messages")).to_contain_text("добавлен")
    return login


def walk_signup_to_dashboard(
    page: Page,
    base_url: str,
    read_outbox: Callable[[], list[str]],
    *,
    shots: Path | None = None,
) -> SignupWalk:
    """Sign up → confirm the e-mail → a sales role with its KPIs → a head and a team → a
    manager invited → this month's plans → the manager files a report → the head sees it on
    the dashboard."""
    base_url = base_url.rstrip("/")
    run = secrets.token_hex(3)
    company = f"ООО «Проверка {run}»"
    admin_email = f"owner-{run}@example.com"

    # 1. Sign-up, from the login page.
    page.goto(f"{base_url}/login/")
    page.get_by_role("link", name="Зарегистрировать компанию").click()
    page.get_by_label("Название компании").fill(company)
    expect(page.get_by_label("Часовой пояс")).to_have_value("Europe/Moscow")
    page.get_by_label("Ваш e-mail").fill(admin_email)
    page.get_by_label("Пароль").fill(PASSWORD)
    _shot(page, shots, "signup_form")
    page.get_by_role("button", name="Зарегистрироваться").click()
    page.get_by_role("heading", name="Проверьте почту").wait_for()
    _shot(page, shots, "signup_sent")

    # 2. The one-time link from the e-mail.
    path = _wait_for_mail(
        read_outbox, containing=admin_email, pattern=r"https?://[^/\s]+(/signup/confirm/\S+/)"
    )
    page.goto(base_url + path)
    _shot(page, shots, "signup_confirm")
    page.get_by_role("button", name="Подтвердить и создать компанию").click()
    expect(page).to_have_url(f"{base_url}/")
    expect(page.locator(".messages")).to_contain_text(f"Ваш логин: {admin_email}")
    _shot(page, shots, "signup_home")

    # 3. A sales role of the company's own and its KPIs.
    page.goto(f"{base_url}/company/sales-roles/")
    page.locator("#id_name").fill("Телемаркетинг")
    page.get_by_role("button", name="Добавить роль").click()
    page.get_by_role("link", name="Телемаркетинг").click()
    role_set = page.locator("#role-set")
    for kpi in ("Звонки", "Созданные лиды"):
        # From the month's first day, so that this month's plans have the role's KPIs.
        day = role_set.locator("input[name=effective_from]")
        day.fill(datetime.date.fromisoformat(day.input_value()).replace(day=1).isoformat())
        role_set.locator("select[name=kpi]").select_option(label=kpi)
        role_set.get_by_role("button", name="Добавить KPI").click()
        expect(role_set.locator("ol li", has_text=kpi)).to_have_count(1)
    expect(role_set.locator("ol li")).to_have_count(2)

    # 4. The head of sales, their team, and a manager in it.
    head_login = _invite(
        page, base_url, first="Ольга", last="Руководова", email=f"head-{run}@example.com",
        login_suffix="head", role="Руководитель отдела продаж",
    )  # fmt: skip
    page.goto(f"{base_url}/company/teams/new/")
    page.locator("#id_name").fill("Отдел продаж")
    page.locator("#id_head").select_option(label="Ольга Руководова")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.locator(".messages")).to_contain_text("Команда создана")
    manager_login = _invite(
        page, base_url, first="Иван", last="Звонарёв", email=f"manager-{run}@example.com",
        login_suffix="ivan", role="Менеджер", team="Отдел продаж", sales_role="Телемаркетинг",
    )  # fmt: skip
    manager_name = "Иван Звонарёв"

    # 5. This month's plans.
    page.goto(f"{base_url}/plans/")
    for kpi, value in (("Звонки", "1200"), ("Созданные лиды", "80")):
        cell = page.get_by_label(f"{manager_name}: {kpi}")
        cell.fill(value)
        cell.press("Tab")
        expect(page.get_by_label(f"{manager_name}: {kpi}")).to_have_value(value)
    expect(page.get_by_role("status").first).to_contain_text("сохранено")
    _shot(page, shots, "walk_plans")

    # 6. The manager accepts the invitation and files today's report.
    _accept_invitation(page, base_url, read_outbox, manager_login)
    page.goto(f"{base_url}/report/")
    page.locator("#id_calls").fill("57")
    page.locator("#id_leads").fill("3")
    page.get_by_role("button", name="Отправить отчёт").click()
    page.get_by_role("heading", name="Мои показатели").wait_for()

    # 7. The head accepts theirs and sees the report on the dashboard (the worker computes
    # the totals within seconds; the page polls, a reload is quicker). The dashboard opens on
    # the last working day under review; today is the day view.
    _accept_invitation(page, base_url, read_outbox, head_login)
    page.goto(f"{base_url}/dashboard/?period=day")
    # The manager's row of the figures (the week's report strip has a row of theirs too).
    row = page.get_by_role("row").filter(has_text=manager_name).filter(has_text="57")
    deadline = time.monotonic() + TOTALS_TIMEOUT
    while not row.count():
        if time.monotonic() > deadline:
            rows = page.get_by_role("row").filter(has_text=manager_name).all_inner_texts()
            raise AssertionError(f"the dashboard does not show the report: {rows}")
        time.sleep(1)
        page.reload()
    _shot(page, shots, "walk_dashboard")
    return SignupWalk(
        company=company,
        admin_email=admin_email,
        head_login=head_login,
        manager_login=manager_login,
        manager_name=manager_name,
    )
