import os

import pytest
from playwright.sync_api import expect

from accounts import services, tenancy
from accounts.models import SalesRole, User
from tests.conftest import make_cast

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TEMPORARY = "Sunny-Meadow-42"
OWN = "Quiet-River-Stone-7"


def test_a_first_login_with_a_temporary_password_asks_for_a_new_one_then_lands_home(
    page, live_server
):
    cast = make_cast("e2e", "Е2Е Продажи")
    with tenancy.tenant_context(cast.company):
        hunter = SalesRole.objects.get(company=cast.company, kind=SalesRole.Kind.HUNTER)
        services.user_create(
            company=cast.company, username="e2e.vera", password=TEMPORARY, first_name="Вера",
            last_name="Новая", role=User.Role.MANAGER, sales_role=hunter, team=cast.team,
        )  # fmt: skip
    page.goto(f"{live_server.url}/")
    page.get_by_label("Логин").fill("e2e.vera")
    page.get_by_label("Пароль").fill(TEMPORARY)
    page.get_by_role("button", name="Войти").click()

    page.get_by_role("heading", name="Смена пароля").wait_for()
    expect(page.get_by_role("status")).to_contain_text("Вы вошли с временным паролем")
    page.get_by_label("Старый пароль").fill(TEMPORARY)
    page.locator("#id_new_password1").fill(OWN)
    page.get_by_label("Подтверждение нового пароля").fill(OWN)
    if shots := os.environ.get("E2E_SCREENSHOTS"):
        page.screenshot(path=f"{shots}/first_login_password_change.png", full_page=True)
    page.get_by_role("button", name="Сменить пароль").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator(".messages")).to_contain_text("Пароль изменён.")
    page.get_by_role("heading", name="Здравствуйте, Вера!").wait_for()
    if shots:
        page.screenshot(path=f"{shots}/first_login_home.png", full_page=True)
    # A page of the menu opens now.
    page.get_by_role("link", name="Мои показатели").click()
    expect(page).to_have_url(f"{live_server.url}/my/")
