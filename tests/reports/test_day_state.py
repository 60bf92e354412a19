"""The form says what the day is before any typing, and offers only what is possible on it."""

import datetime

import pytest
from django.urls import reverse
from django.utils.formats import date_format

from accounts.models import User
from kpi import services as kpi_services
from kpi.calendar import calendar_for
from reports import selectors
from reports.models import ClosedMonth, DailyReport, ReportDraft
from tests.reports.conftest import FIGURES

HX = {"HX-Request": "true"}


def form_url(day: datetime.date, name: str = "report-form") -> str:
    return reverse(name, args=[day.isoformat()])


def page(client, day: datetime.date) -> str:
    response = client.get(form_url(day))
    assert response.status_code == 200
    return response.content.decode().replace("\xa0", " ")


def test_today_is_titled_with_a_lower_case_weekday_and_offers_sending(client, ctx, today):
    client.force_login(ctx.managers[1])
    body = page(client, today)
    weekday = date_format(today, "l")
    assert f"Отчёт за сегодня, {date_format(today, 'j E')}, {weekday.lower()}" in body
    assert f"({weekday})" not in body
    assert "Отправить отчёт" in body and "прошедший день" not in body
    assert 'id="day-state"' in body


def test_a_future_day_says_so_and_has_no_sending(client, ctx, today):
    client.force_login(ctx.managers[1])
    tomorrow = today + datetime.timedelta(days=1)
    body = page(client, tomorrow)
    assert "Нельзя сдать отчёт за будущий день" in body
    assert "Отправить отчёт" not in body and "прошедший день" not in body
    assert "hx-post" not in body and "autofocus" not in body and "readonly" in body
    # Nothing is kept for a day that cannot be filed, whatever is posted.
    client.post(
        form_url(tomorrow, "report-check"), FIGURES, headers={**HX, "HX-Trigger-Name": "calls"}
    )
    assert not ReportDraft.objects.filter(manager=ctx.managers[1], date=tomorrow).exists()


def test_a_day_outside_the_window_is_read_only_and_says_who_corrects(client, ctx, today):
    client.force_login(ctx.managers[1])
    old = today - datetime.timedelta(days=ctx.company.report_backdate_days + 1)
    body = page(client, old)
    assert "исправить его может руководитель отдела продаж" in body
    assert "Отправить отчёт" not in body and "Сохранить исправления" not in body
    assert "hx-post" not in body
    # The window's first working day (a day off in it says instead that no report is due).
    calendar = calendar_for(company=ctx.company)
    within = today - datetime.timedelta(days=ctx.company.report_backdate_days)
    while not calendar.is_working(within):
        within += datetime.timedelta(days=1)
    body = page(client, within)
    until = date_format(within + datetime.timedelta(days=ctx.company.report_backdate_days), "j E")
    assert "Отправить отчёт" in body and f"Отправить или исправить можно до {until}" in body


def test_a_closed_month_is_read_only_and_says_who_reopens(client, ctx, today):
    client.force_login(ctx.managers[1])
    month = ClosedMonth.objects.get(company=ctx.company).month  # the cast closed one
    body = page(client, month + datetime.timedelta(days=9))
    assert "Месяц закрыт руководителем отдела продаж: изменения вносит администратор" in body
    assert "Отправить отчёт" not in body and "hx-post" not in body


def test_an_absence_and_a_day_off_say_so_and_still_take_a_report(client, ctx, today):
    manager = ctx.managers[1]
    kpi_services.absence_create(
        company=ctx.company, manager=manager, kind="sick", start=today, end=today
    )
    client.force_login(manager)
    body = page(client, today)
    assert "у вас больничный" in body and "Отчёт нужен, только если вы работали" in body
    assert "Отправить отчёт" in body
    yesterday = today - datetime.timedelta(days=1)
    kpi_services.calendar_day_set(
        company=ctx.company, date=yesterday, is_working=False, note="Субботник"
    )
    body = page(client, yesterday)
    assert "выходной: Субботник" in body and "Отправить отчёт" in body


def test_the_state_names_holidays_for_any_way_in(ctx, today):
    manager = ctx.managers[1]
    new_year = selectors.day_state(
        company=ctx.company, manager=manager, day=datetime.date(today.year, 1, 1)
    )
    assert new_year.kind == "day_off" and new_year.label == "выходной: Новогодние каникулы"
    assert new_year.lock.code == "too_old" and not new_year.editable
    corporate = selectors.day_state(
        company=ctx.company, manager=manager, day=datetime.date(2035, 12, 31)
    )
    assert corporate.label == "выходной: Корпоратив" and corporate.future
    # The head of the manager's team may still correct an old day; the manager may not.
    old = today - datetime.timedelta(days=10)
    as_head = selectors.day_state(company=ctx.company, manager=manager, day=old, actor=ctx.head)
    assert as_head.editable or as_head.lock.code == "closed"


def test_the_sent_message_says_the_date_in_words(client, ctx, today):
    client.force_login(ctx.managers[1])
    response = client.post(form_url(today), {**FIGURES, "version": "0"}, follow=True)
    body = response.content.decode().replace("\xa0", " ")
    assert f"Отчёт за {date_format(today, 'j E')} отправлен." in body
    assert today.isoformat() + " отправлен" not in body


@pytest.fixture
def joined_long_ago(ctx, today):
    manager = ctx.managers[1]
    User.objects.filter(pk=manager.pk).update(
        date_joined=ctx.company.day_start(today - datetime.timedelta(days=70))
    )
    manager.refresh_from_db()
    return manager


def test_missed_working_days_link_to_their_forms(client, ctx, today, joined_long_ago):
    manager = joined_long_ago
    calendar = calendar_for(company=ctx.company)
    first = today.replace(day=1)
    working = [d for d in calendar.working_days(first, today) if d < today]
    missed = selectors.missed_days(company=ctx.company, manager=manager)
    assert [m.day for m in missed if m.day >= first] == working
    if not working:
        return  # the first working day of a month: nothing missed yet
    reported = working[-1]
    kpi_services.absence_create(
        company=ctx.company, manager=manager, kind="vacation", start=working[0], end=working[0]
    )
    DailyReport(
        company=ctx.company, manager=manager, date=reported, submitted_at=ctx.company.now()
    ).save()
    missed = {m.day: m for m in selectors.missed_days(company=ctx.company, manager=manager)}
    assert reported not in missed and working[0] not in missed
    client.force_login(manager)
    for url in (reverse("my-kpis"), reverse("home")):
        body = client.get(url).content.decode()
        assert 'id="missed-days"' in body
        for day, found in missed.items():
            assert form_url(day) in body
            window = (today - day).days <= ctx.company.report_backdate_days
            assert (found.lock is None) == window
