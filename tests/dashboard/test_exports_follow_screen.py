"""Exports and print follow what is on screen: the links carry the period, sort and week
swapped in by htmx; a past period's print and Excel have that period's attention list; the
Excel cells carry their KPI's number format."""

import datetime
import io

from django.urls import reverse
from django.utils.formats import date_format
from openpyxl import load_workbook

from tests.dashboard.test_views import month_query


def test_the_export_and_print_links_are_in_the_swapped_block_with_its_period(client, known):
    client.force_login(known.cast.head)
    headers = {"HX-Request": "true", "HX-Target": "figures"}
    body = client.get(reverse("dashboard") + month_query(known) + "&sort=calls&dir=desc",
                      headers=headers).content.decode()  # fmt: skip
    query = f"period=month&amp;start={known.start.isoformat()}&amp;sort=calls&amp;dir=desc"
    assert f"{reverse('dashboard-export')}?{query}" in body
    assert f"{reverse('dashboard-print')}?{query}" in body


def test_the_print_of_a_past_month_has_that_months_conversations(client, known):
    """The known month, three months back: A's red calls are its finding, not today's list."""
    client.force_login(known.cast.head)
    body = client.get(reverse("dashboard-print") + month_query(known)).content.decode()
    end = known.end.strftime("%d.%m.%Y")
    assert f"Нужен разговор по итогам на {end}" in body
    assert "Нужен разговор сегодня" not in body
    listed = body.split("data-attention>")[1].split("</ol>")[0]
    assert "красные KPI за месяц:" in listed and "Звонки 30 %" in listed
    today = client.get(reverse("dashboard-print")).content.decode()
    assert "Звонки 30 %" not in today.split("data-attention>")[1].split("</ol>")[0]


def test_the_excel_file_has_time_and_money_formats_and_the_conversations(client, known):
    client.force_login(known.cast.head)
    response = client.get(reverse("dashboard-export") + month_query(known))
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    talk = next(
        r
        for r in sheet.iter_rows(min_row=4)
        if r[1].value == str(known.cast.managers[0]) and r[3].value == "Время разговоров"
    )
    assert talk[4].number_format == "[h]:mm"
    assert talk[4].value == datetime.timedelta(hours=1, minutes=30)  # 1:00:00 + 0:30:00
    calls = next(r for r in sheet.iter_rows(min_row=4) if r[3].value == "Звонки")
    assert calls[4].number_format == "#,##0" and calls[6].number_format == "0.0"
    talks = book["Нужен разговор"]
    assert any("Звонки 30 %" in str(r[2].value) for r in talks.iter_rows(min_row=4))


def test_a_past_days_page_shows_that_days_reports_in_print_and_excel_too(client, known):
    """The known month's second working day: B reported it (late: filed for the test now),
    C did not. The status column says so, headed by that day, not today's reports."""
    client.force_login(known.cast.head)
    day = known.days[1]
    query = f"?period=day&start={day.isoformat()}"
    heading = "Отчёт за " + date_format(day, "D d.m")
    body = client.get(reverse("dashboard") + query).content.decode()
    _a, b, c = known.cast.managers

    def status_cell(manager) -> str:
        row = body.split(f'<tr data-manager="{manager.username}">')[1].split("</tr>")[0]
        return row.split("</td>")[1]

    assert f">{heading}</a></th>" in body and "Отчёт сегодня" not in body
    assert f'data-label="{heading}"' in status_cell(b) and "с опозданием" in status_cell(b)
    assert "нет отчёта" in status_cell(c)
    printed = client.get(reverse("dashboard-print") + query).content.decode()
    assert f"<th>{heading}</th>" in printed and "сдан с опозданием" in printed
    book = load_workbook(io.BytesIO(client.get(reverse("dashboard-export") + query).content))
    rows = list(book.worksheets[0].iter_rows(min_row=3, values_only=True))
    assert rows[0][2] == heading
    by_manager = {r[1]: r[2] for r in rows[1:]}
    assert by_manager[str(b)] == "сдан с опозданием" and by_manager[str(c)] == "нет отчёта"
