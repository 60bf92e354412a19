"""Reminders go out through the real Celery worker, at a frozen moment passed to the task."""

import datetime
import zoneinfo

import pytest

from accounts import tenancy
from accounts.models import User
from kpi import services as kpi_services
from reports import services
from reports.models import DailyReport, Reminder
from reports.tasks import send_company_reminders, send_due_reminders
from tests.conftest import make_cast
from tests.reports.conftest import FIGURES

pytestmark = pytest.mark.django_db(transaction=True)

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
TUESDAY = datetime.date(2026, 11, 24)  # a working day


def at(day: datetime.date, hour: int, minute: int = 5) -> str:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=MOSCOW).isoformat()


@pytest.fixture
def cast():
    cast = make_cast("rem", "Напоминающая")
    with tenancy.tenant_context(cast.company):
        DailyReport.objects.all().delete()
        Reminder.objects.all().delete()
        # managers[0] reported on Tuesday, managers[2] was on sick leave, managers[1] forgot.
        services.report_submit(
            company=cast.company, manager=cast.managers[0], day=TUESDAY, values=FIGURES,
            actor=cast.head, version=0,
        )  # fmt: skip
        kpi_services.absence_create(
            company=cast.company, manager=cast.managers[2], kind="sick",
            start=TUESDAY, end=TUESDAY,
        )  # fmt: skip
        cast.company.telegram_bot_token = "123:TEST"
        cast.company.save(update_fields=["telegram_bot_token"])
        User.objects.filter(pk=cast.managers[1].pk).update(telegram_chat_id="4242")
    return cast


def test_the_forgotten_manager_and_the_head_are_told_once(cast, clear_mail, telegram):
    due = send_due_reminders.delay(at(TUESDAY, 18)).get(timeout=30)
    assert cast.company.pk in due
    mails = clear_mail.sent_mail(count=2)
    by_recipient = {mail["To"]: mail.get_content() for mail in mails}
    assert set(by_recipient) == {"rem.manager2@example.com", "rem.head@example.com"}
    assert "вы ещё не сдали отчёт за сегодня (24.11)" in by_recipient["rem.manager2@example.com"]
    summary = by_recipient["rem.head@example.com"]
    assert str(cast.managers[1]) in summary
    assert str(cast.managers[0]) not in summary and str(cast.managers[2]) not in summary
    (message,) = telegram.wait_for(1)
    assert message["path"] == "/bot123:TEST/sendMessage"
    assert message["chat_id"] == "4242"
    # Beat fires again five minutes later: nobody is told twice.
    again = send_company_reminders.delay(cast.company.pk, at(TUESDAY, 18, 10)).get(timeout=30)
    assert again == {"reminded": [], "summaries": []}
    with tenancy.tenant_context(cast.company):
        assert Reminder.objects.count() == 2


def test_nothing_before_the_reminder_time_or_on_a_day_off(cast, clear_mail):
    early = send_company_reminders.delay(cast.company.pk, at(TUESDAY, 17, 59)).get(timeout=30)
    assert early == {"reminded": [], "summaries": []}
    sunday = send_company_reminders.delay(cast.company.pk, at(datetime.date(2026, 11, 22), 18)).get(
        timeout=30
    )
    assert sunday == {"reminded": [], "summaries": []}
    assert clear_mail.sent_mail(timeout=1) == []


def test_the_reminder_time_is_the_companys_own(cast, clear_mail):
    with tenancy.tenant_context(cast.company):
        cast.company.reminder_time = datetime.time(19, 30)
        cast.company.save(update_fields=["reminder_time"])
    assert cast.company.pk not in send_due_reminders.delay(at(TUESDAY, 19)).get(timeout=30)
    result = send_company_reminders.delay(cast.company.pk, at(TUESDAY, 19, 31)).get(timeout=30)
    assert result["reminded"] == ["rem.manager2"]
