"""Exports and print follow what is on screen: the links carry the period, sort and week
swapped in by htmx; a past period's print and Excel have that period's attention list; the
Excel cells carry their KPI's number format."""

import datetime
import io

from django.urls import reverse
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
