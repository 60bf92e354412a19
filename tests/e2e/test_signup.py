import os
import re
from pathlib import Path

import pytest
from django.core.cache import cache

from accounts.models import Company
from tests.e2e.walks import walk_signup_to_dashboard

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_company_signs_up_sets_up_and_its_head_sees_a_report(page, live_server, clear_mail):
    cache.clear()  # the sign-up rate limits of earlier tests

    def read_outbox() -> list[str]:
        return [mail.get_content() for mail in clear_mail.sent_mail(count=0, timeout=0)]

    shots = os.environ.get("E2E_SCREENSHOTS")
    walk = walk_signup_to_dashboard(
        page, live_server.url, read_outbox, shots=Path(shots) if shots else None
    )
    assert Company.objects.filter(name=walk.company).exists()


@pytest.mark.parametrize("width", [1440, 375])
def test_the_sign_up_pages_and_the_checklist_fit_the_screen(browser, live_server, width):
    from playwright.sync_api import expect

    from accounts import services

    cache.clear()
    context = browser.new_context(locale="ru-RU", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    shots = os.environ.get("E2E_SCREENSHOTS")
    page.goto(f"{live_server.url}/signup/")
    page.get_by_role("button", name="Зарегистрироваться").click()
    expect(page.get_by_role("alert").first).to_contain_text("Обязательное поле")
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow
    if shots:
        page.screenshot(path=f"{shots}/signup_errors_{width}.png", full_page=True)
    services.signup_start(
        company_name="ООО «Экран»", timezone="Europe/Moscow", email="screen@example.com",
        password="Sunny-Meadow-42", ip="192.0.2.9",
    )  # fmt: skip
    from accounts.models import PendingSignup

    pending = PendingSignup.objects.get(email="screen@example.com")
    path = re.sub(r"^https?://[^/]+", "", services.signup_confirm_url(pending=pending))
    page.goto(live_server.url + path)
    if shots:
        page.screenshot(path=f"{shots}/signup_confirm_{width}.png", full_page=True)
    page.get_by_role("button", name="Подтвердить и создать компанию").click()
    page.get_by_role("heading", name="Что осталось настроить").wait_for()
    if shots:
        page.screenshot(path=f"{shots}/checklist_{width}.png", full_page=True)
    wider = page.evaluate(
        "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right"
        " > window.innerWidth + 1).map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert wider == []
    context.close()
