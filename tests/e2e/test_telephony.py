"""In Chromium: the admin gives a PBX's unmatched calls to their employee, at 1440 px and on
a 375 px phone; the controller and the manager reach the recording in one click."""

import datetime

import pytest

from accounts import tenancy
from crm_sync import services
from crm_sync.models import Call, Source
from tests.conftest import ROOT, make_cast
from tests.e2e.test_smoke import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ARTIFACTS = ROOT / "test-artifacts"
RECORDING = "https://records.example.net/e2e.mp3"


def _calls(cast) -> None:
    with tenancy.tenant_context(cast.company):
        started = cast.company.now() - datetime.timedelta(hours=2)
        for number in range(3):
            services.call_upsert(
                company=cast.company,
                source=Source.TELEPHONY,
                data=services.CallData(
                    external_id=f"mango:e2e-{number}", direction="out",
                    started_at=started + datetime.timedelta(minutes=number),
                    duration=60 + number, answered=True, phone=f"7912555010{number}",
                    pbx_call_id=f"e2e-{number}", pbx_user="ext:555",
                ),
            )  # fmt: skip
        Call.objects.filter(company=cast.company).update(recording_url=RECORDING)


def test_the_admin_assigns_unmatched_calls_at_1440_and_on_a_phone(browser, phone, live_server):
    cast = make_cast("e2e", "Е2Е Продажи")
    _calls(cast)
    ARTIFACTS.mkdir(exist_ok=True)
    wide = browser.new_context(locale="ru-RU", viewport={"width": 1440, "height": 900})
    page = wide.new_page()
    try:
        log_in(page, live_server.url, "e2e.admin")
        page.goto(f"{live_server.url}/settings/telephony/unmatched/")
        row = page.locator("#unmatched-table tbody tr").filter(has_text="внутр. 555")
        assert "3" in row.inner_text()
        page.screenshot(path=str(ARTIFACTS / "telephony-unmatched-1440.png"), full_page=True)
    finally:
        wide.close()

    log_in(phone, live_server.url, "e2e.admin")
    phone.goto(f"{live_server.url}/settings/telephony/unmatched/")
    row = phone.locator("#unmatched-table tbody tr").filter(has_text="внутр. 555")
    phone.screenshot(path=str(ARTIFACTS / "telephony-unmatched-375.png"), full_page=True)
    row.get_by_label("Сотрудник").select_option(label=str(cast.manager))
    row.get_by_role("button", name="Назначить").click()
    phone.get_by_text("Звонков передано: 3.").wait_for()
    phone.get_by_text("Все звонки АТС нашли своих сотрудников.").wait_for()
    phone.screenshot(path=str(ARTIFACTS / "telephony-assigned-375.png"), full_page=True)
    with tenancy.tenant_context(cast.company):
        cast.manager.refresh_from_db()
        assert cast.manager.extension == "555"


def test_the_recording_is_one_click_from_the_queue(browser, phone, live_server):
    cast = make_cast("e2e", "Е2Е Продажи")
    with tenancy.tenant_context(cast.company):
        Call.objects.filter(company=cast.company).update(recording_url=RECORDING)
    wide = browser.new_context(locale="ru-RU", viewport={"width": 1440, "height": 900})
    page = wide.new_page()
    try:
        log_in(page, live_server.url, "e2e.quality")
        page.get_by_role("heading", name="Звонки на проверку").first.wait_for()
        link = page.locator("#quality-queue a.recording").first
        assert link.inner_text().endswith("Запись")
        assert "/recording/" in link.get_attribute("href")
        page.screenshot(path=str(ARTIFACTS / "recording-queue-1440.png"), full_page=True)
    finally:
        wide.close()
    log_in(phone, live_server.url, "e2e.quality")
    phone.get_by_role("heading", name="Звонки на проверку").first.wait_for()
    phone.screenshot(path=str(ARTIFACTS / "recording-queue-375.png"), full_page=True)
    phone.locator("#quality-queue a.button.primary", has_text="Оценить").first.click()
    listen = phone.get_by_role("link", name="▶ Слушать запись")
    listen.wait_for()
    phone.screenshot(path=str(ARTIFACTS / "recording-score-375.png"), full_page=True)
    # The click leaves for the PBX's file (unreachable here): the browser's own session is
    # sent there by the one redirect.
    answer = phone.context.request.get(
        live_server.url + listen.get_attribute("href"), max_redirects=0
    )
    assert answer.status == 302 and answer.headers["location"] == RECORDING


def test_the_admin_connects_a_pbx_and_sees_its_address_once(page, live_server):
    make_cast("e2e", "Е2Е Продажи")
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server.url, "e2e.admin")
    page.goto(f"{live_server.url}/settings/telephony/")
    page.locator("#id_vendor").select_option(label="Sipuni")
    page.get_by_role("button", name="Подключить", exact=True).click()
    address = page.locator("#receiver-url").input_value()
    assert address.startswith("http") and "/telephony/sipuni/" in address
    page.screenshot(path=str(ARTIFACTS / "telephony-connected-1440.png"), full_page=True)
    page.reload()
    assert page.locator("#receiver-url").count() == 0  # shown once
