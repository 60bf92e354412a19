"""Reminders go out through the real Celery worker, at a frozen moment passed to the task."""

import datetime
import logging
import time
import zoneinfo
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from accounts import crypto, tenancy
from accounts.models import Company, User
from kpi import services as kpi_services
from kpi.models import Absence
from reports import reminders, services
from reports.models import DailyReport, Reminder
from reports.tasks import send_company_reminders, send_due_reminders
from tests.conftest import make_cast
from tests.factories import UserFactory
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
        cast.company.telegram_bot_token = crypto.encrypt("123:TEST")
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


@dataclass
class Crowd:
    """Five managers without a report (in the order they are reminded) and their head."""

    company: Company
    managers: list[User]
    head: User
    chats: dict[str, str]  # username: Telegram chat id


@pytest.fixture
def crowd() -> Crowd:
    cast = make_cast("crowd", "Людная")
    for number in (4, 5):
        UserFactory(company=cast.company, username=f"crowd.manager{number}", team=cast.team)
    with tenancy.tenant_context(cast.company):
        DailyReport.objects.all().delete()
        Absence.objects.all().delete()
        Reminder.objects.all().delete()
        cast.company.telegram_bot_token = crypto.encrypt("123:TEST")
        cast.company.save(update_fields=["telegram_bot_token"])
        chats = {}
        for number, user in enumerate(
            User.objects.filter(company=cast.company, role__in=["manager", "head"])
        ):
            chats[user.username] = f"77{number}"
            User.objects.filter(pk=user.pk).update(telegram_chat_id=chats[user.username])
        managers = reminders.missing_managers(company=cast.company, day=TUESDAY)
    assert len(managers) == 5
    return Crowd(cast.company, managers, cast.head, chats)


def wait_until(company: Company, done: Callable[[list[Reminder]], bool]) -> list[Reminder]:
    """The company's reminders once `done` holds for them (the retries run in the worker)."""
    deadline = time.monotonic() + 20
    while True:
        with tenancy.tenant_context(company):
            rows = list(Reminder.objects.select_related("user"))
        if done(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def all_sent(rows: list[Reminder]) -> bool:
    return bool(rows) and all(r.email_state == r.telegram_state == "sent" for r in rows)


def test_a_refused_address_is_retried_alone_and_nobody_is_told_twice(crowd, clear_mail, telegram):
    # In the middle of the list: one manager's mail server refuses twice, then accepts;
    # the next manager's Telegram answers 502 twice, then delivers.
    bounced, blocked = crowd.managers[2], crowd.managers[3]
    (clear_mail.mail_dir / f"{bounced.email}.refuse").write_text("2")
    telegram.refuse[crowd.chats[blocked.username]] = 2
    assert crowd.company.pk in send_due_reminders.delay(at(TUESDAY, 18)).get(timeout=30)

    everyone = [*crowd.managers, crowd.head]
    mails = clear_mail.sent_mail(count=len(everyone))
    assert Counter(mail["To"] for mail in mails) == Counter(user.email for user in everyone)
    telegram.wait_for(len(everyone))
    assert Counter(m["chat_id"] for m in telegram.messages) == Counter(crowd.chats.values())
    assert [m["chat_id"] for m in telegram.refused] == [crowd.chats[blocked.username]] * 2
    summary = next(mail for mail in mails if mail["To"] == crowd.head.email).get_content()
    assert all(str(manager) in summary for manager in crowd.managers)

    # Each channel recorded its own attempts: the refused ones alone were tried again.
    rows = {row.user.username: row for row in wait_until(crowd.company, all_sent)}
    attempts = {name: (row.email_attempts, row.telegram_attempts) for name, row in rows.items()}
    expected = {user.username: (1, 1) for user in everyone}
    expected |= {bounced.username: (3, 1), blocked.username: (1, 3)}
    assert attempts == expected
    assert {(row.email_state, row.telegram_state) for row in rows.values()} == {("sent", "sent")}
    assert "SMTPRecipientsRefused" in rows[bounced.username].email_error
    assert "Bad Gateway" in rows[blocked.username].telegram_error
    assert "123:TEST" not in rows[blocked.username].telegram_error
    assert rows[blocked.username].channels == "email,telegram"

    # Beat fires again, and again: nobody is told twice.
    again = send_company_reminders.delay(crowd.company.pk, at(TUESDAY, 18, 10)).get(timeout=30)
    assert again == {"reminded": [], "summaries": []}
    send_due_reminders.delay(at(TUESDAY, 18, 15)).get(timeout=30)
    assert len(clear_mail.sent_mail(count=len(everyone) + 1, timeout=3)) == len(everyone)
    assert len(telegram.messages) == len(everyone)


def test_a_refused_telegram_is_retried_alone_and_the_mail_is_not_sent_again(
    crowd, clear_mail, telegram
):
    blocked = crowd.managers[2]
    telegram.refuse[crowd.chats[blocked.username]] = 1
    send_company_reminders.delay(crowd.company.pk, at(TUESDAY, 18)).get(timeout=30)
    everyone = [*crowd.managers, crowd.head]
    telegram.wait_for(len(everyone))
    assert Counter(m["chat_id"] for m in telegram.messages) == Counter(crowd.chats.values())
    rows = {row.user.username: row for row in wait_until(crowd.company, all_sent)}
    row = rows[blocked.username]
    assert (row.email_attempts, row.telegram_attempts) == (1, 2)
    mails = clear_mail.sent_mail(count=len(everyone) + 1, timeout=3)
    assert Counter(mail["To"] for mail in mails) == Counter(user.email for user in everyone)


def test_an_address_refused_every_time_is_given_up_after_five_attempts(crowd, clear_mail, telegram):
    bounced = crowd.managers[2]
    marker = clear_mail.mail_dir / f"{bounced.email}.refuse"
    marker.write_text("100")
    send_company_reminders.delay(crowd.company.pk, at(TUESDAY, 18)).get(timeout=30)
    others = [user for user in [*crowd.managers, crowd.head] if user != bounced]
    mails = clear_mail.sent_mail(count=len(others))
    assert Counter(mail["To"] for mail in mails) == Counter(user.email for user in others)

    rows = wait_until(
        crowd.company,
        lambda rows: any(
            r.email_state == "failed" and r.email_attempts == reminders.MAX_ATTEMPTS for r in rows
        ),
    )
    (failed,) = [row for row in rows if row.email_state == "failed"]
    assert failed.user == bounced
    assert failed.email_attempts == reminders.MAX_ATTEMPTS
    assert failed.telegram_state == "sent" and failed.channels == "telegram"
    assert marker.read_text() == str(100 - reminders.MAX_ATTEMPTS)

    # Given up: later runs of the beat neither retry it nor send the others again.
    send_company_reminders.delay(crowd.company.pk, at(TUESDAY, 18, 5)).get(timeout=30)
    assert len(clear_mail.sent_mail(count=len(others) + 1, timeout=3)) == len(others)
    assert marker.read_text() == str(100 - reminders.MAX_ATTEMPTS)


def test_each_failed_attempt_is_logged_with_its_back_off(crowd, settings, tmp_path, caplog):
    """The delivery step itself, in this process: what the worker logs on each attempt."""
    settings.MAILERS = {
        "default": {"BACKEND": "tests.mail.EmailBackend", "OPTIONS": {"file_path": str(tmp_path)}}
    }
    settings.REMINDER_RETRY_SECONDS = 60
    bounced = crowd.managers[0]
    (tmp_path / f"{bounced.email}.refuse").write_text("100")
    with tenancy.tenant_context(crowd.company):
        reminder = reminders.reminder_claim(
            company=crowd.company, user=bounced, day=TUESDAY, kind=Reminder.Kind.MISSING,
            subject="Отчёт за день", text="Сдайте отчёт",
        )  # fmt: skip
    delays = []
    with caplog.at_level(logging.INFO, logger="reports.reminders"):
        for attempt in range(1, reminders.MAX_ATTEMPTS + 1):
            result = reminders.reminder_deliver(
                company_id=crowd.company.pk, reminder_id=reminder.pk, channel="email",
                attempt=attempt,
            )  # fmt: skip
            assert result.state == "failed"
            delays.append(result.retry_in)
        # A stale or duplicate task for an attempt already made sends nothing.
        stale = reminders.reminder_deliver(
            company_id=crowd.company.pk, reminder_id=reminder.pk, channel="email", attempt=2
        )
    assert delays == [60, 120, 240, 480, None]
    assert stale.state == "skipped"
    assert not list(tmp_path.glob("*.log"))
    records = [r for r in caplog.records if r.name == "reports.reminders"]
    assert [r.levelname for r in records] == ["WARNING"] * 4 + ["ERROR"]
    assert f"reminder {reminder.pk}: email to user {bounced.pk} failed, attempt 1 of 5" in (
        records[0].getMessage()
    )
    assert "next in 60 s: SMTPRecipientsRefused" in records[0].getMessage()
    assert "attempt 5 of 5, given up" in records[-1].getMessage()


def test_without_a_broker_the_deliveries_and_their_retries_run_in_process(
    crowd, settings, tmp_path
):
    """The embedded profile runs tasks eagerly: a refused address is retried right away."""
    from salesdesk.celery import app

    settings.MAILERS = {
        "default": {"BACKEND": "tests.mail.EmailBackend", "OPTIONS": {"file_path": str(tmp_path)}}
    }
    settings.TELEGRAM_API_URL = "http://127.0.0.1:9"  # nothing listens: every chat fails
    bounced = crowd.managers[2]
    (tmp_path / f"{bounced.email}.refuse").write_text("1")
    app.conf.task_always_eager = True
    try:
        result = send_company_reminders.delay(crowd.company.pk, at(TUESDAY, 18)).get()
    finally:
        app.conf.task_always_eager = False
    assert len(result["reminded"]) == 5 and result["summaries"] == ["crowd.head"]
    with tenancy.tenant_context(crowd.company):
        rows = {row.user_id: row for row in Reminder.objects.all()}
    assert {(r.email_state, r.telegram_state) for r in rows.values()} == {("sent", "failed")}
    assert rows[bounced.pk].email_attempts == 2
    assert {r.telegram_attempts for r in rows.values()} == {reminders.MAX_ATTEMPTS}
    assert len(list(tmp_path.glob("*.log"))) == 6
