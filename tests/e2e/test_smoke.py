import pytest
from playwright.sync_api import expect

from tests.conftest import make_cast
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/")
    page.get_by_label("Логин").fill(username)
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()


def test_the_head_of_sales_logs_in_and_sees_the_home_page(page, live_server):
    cast = make_cast("e2e", "Е2Е Продажи")
    log_in(page, live_server.url, "e2e.head")
    page.get_by_role("heading", name="Отчёты команды").wait_for()
    assert page.url == f"{live_server.url}/"
    assert "Е2Е Продажи" in page.locator("header").inner_text()
    assert page.get_by_role("cell", name=str(cast.managers[0])).count() == 1


def test_a_wrong_password_shows_the_reason(page, live_server):
    make_cast("e2e", "Е2Е Продажи")
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Логин").fill("e2e.head")
    page.get_by_label("Пароль").fill("wrong")
    page.get_by_role("button", name="Войти").click()
    page.get_by_role("alert").wait_for()
    assert "Неверный логин или пароль" in page.get_by_role("alert").inner_text()


def test_the_admin_filters_users_with_htmx_on_a_phone(phone, live_server):
    make_cast("e2e", "Е2Е Продажи")
    log_in(phone, live_server.url, "e2e.admin")
    phone.goto(f"{live_server.url}/company/users/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    requests = []
    phone.on("request", lambda r: requests.append(r.headers.get("hx-request")))
    phone.get_by_label("Роль").select_option("head")
    phone.locator("#user-table").get_by_text("e2e.head").wait_for()
    expect(phone.locator("#user-table")).not_to_contain_text("e2e.manager1")
    assert "true" in requests  # swapped in by htmx, not a full reload


def test_the_english_switch_in_the_browser(page, live_server):
    make_cast("e2e", "Е2Е Продажи")
    log_in(page, live_server.url, "e2e.admin")
    page.get_by_role("button", name="EN").click()
    page.locator("summary", has_text="Company").click()
    page.get_by_role("link", name="Employees").wait_for()


def test_the_demo_head_of_sales_logs_in_and_sees_the_team(page, live_server):
    from accounts.demo import DEMO_PASSWORD, demo_load

    demo_load()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Логин").fill("vector.head")
    page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.get_by_role("heading", name="Здравствуйте, Ольга!").wait_for()
    team = page.locator("table").first
    expect(team).to_contain_text("Иван Иванов")
    expect(team).not_to_contain_text("Фёдоров")  # the other demo company's manager
