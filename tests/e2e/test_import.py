from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import make_cast
from tests.e2e.htmx import settled
from tests.e2e.test_smoke import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DEALS = Path(__file__).parent.parent / "crm_sync" / "files" / "deals.csv"


def test_the_head_imports_deals_from_a_file(page, live_server):
    make_cast("e2e", "Е2Е Продажи")
    content = DEALS.read_text().replace("alpha.", "e2e.").encode()
    log_in(page, live_server.url, "e2e.head")
    page.goto(f"{live_server.url}/imports/")
    page.get_by_label("Сделки").check()
    page.get_by_label("Файл CSV или Excel (XLSX, XLS)").set_input_files(
        files=[{"name": "сделки.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_role("button", name="Загрузить и сопоставить колонки").click()

    # The preview shows each row's problems before anything is written.
    mapping = page.locator("#mapping")
    expect(mapping).to_contain_text("Не понимаю дату «31.02.2026»")
    expect(mapping).to_contain_text("Сумма не может быть отрицательной.")
    amount = page.get_by_label("Сумма, руб.")
    expect(amount).to_have_value("amount")
    with settled(page):
        amount.select_option("")  # HTMX re-renders the preview without the amount
    expect(mapping).not_to_contain_text("Сумма не может быть отрицательной.")
    with settled(page):
        page.get_by_label("Сумма, руб.").select_option("amount")
    expect(mapping).to_contain_text("Сумма не может быть отрицательной.")

    page.get_by_role("button", name="Загрузить", exact=True).click()
    progress = page.locator("#progress")
    expect(progress.get_by_role("status")).to_contain_text("Готово")
    counts = progress.locator("table.counts")
    expect(counts.get_by_role("row", name="Добавлено")).to_contain_text("3")
    expect(counts.get_by_role("row", name="Пропущено из-за ошибок")).to_contain_text("3")
    errors = progress.locator("table.errors tbody tr")
    expect(errors).to_have_count(3)
    expect(errors.nth(1)).to_contain_text("Менеджер «beta.manager1» не найден")

    # The same file again: nothing new, all three unchanged.
    page.goto(f"{live_server.url}/imports/")
    page.get_by_label("Файл CSV или Excel (XLSX, XLS)").set_input_files(
        files=[{"name": "сделки.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_role("button", name="Загрузить и сопоставить колонки").click()
    page.get_by_role("button", name="Загрузить", exact=True).click()
    again = page.locator("#progress table.counts")
    expect(again.get_by_role("row", name="Добавлено")).to_contain_text("0")
    expect(again.get_by_role("row", name="Без изменений")).to_contain_text("3")


@pytest.mark.celery_worker
def test_a_big_file_shows_its_progress_until_done(page, live_server, celery_worker):
    from tests.crm_sync.test_imports_worker import ROWS, calls_file

    make_cast("imp", "Импортная")
    log_in(page, live_server.url, "imp.admin")
    page.goto(f"{live_server.url}/imports/")
    page.get_by_label("Звонки").check()
    page.get_by_label("Файл CSV или Excel (XLSX, XLS)").set_input_files(
        files=[{"name": "звонки.csv", "mimeType": "text/csv", "buffer": calls_file(ROWS)}]
    )
    page.get_by_role("button", name="Загрузить и сопоставить колонки").click()
    page.get_by_role("button", name="Загрузить", exact=True).click()
    # The worker's progress arrives by polling; the page is never reloaded.
    progress = page.locator("#progress")
    expect(progress.get_by_role("status")).to_contain_text("Готово", timeout=90_000)
    expect(progress.locator("progress")).to_have_attribute("value", str(ROWS))
    expect(progress.locator("table.counts").get_by_role("row", name="Добавлено")).to_contain_text(
        str(ROWS)
    )
    expect(progress).not_to_have_attribute("hx-trigger", "every 1s")
