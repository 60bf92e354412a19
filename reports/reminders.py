"""Reminders and digests: who gets one, and the delivery of each, one recipient at a time.

A run (the end-of-day reminders here, the heads' digest in dashboard/digest.py) claims each
recipient by writing a `Reminder` row with the message and the channels it goes by; the
unique constraint makes that once per person, day and kind however often the run repeats.
After the run's commit each channel of each row is queued as its own task
(`reports.tasks.deliver_reminder`): it marks the channel `sending` in one transaction, sends
outside any, and records `sent`, or `failed` with the attempt and the error, in another. A
failed channel is retried alone with back-off until MAX_ATTEMPTS; one that is sent, or was
being sent when its worker died, is never sent again. So one bad address delays nobody
else, and nobody gets a message twice.
"""

import datetime
import logging
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from accounts import tenancy
from accounts.models import Company, User
from kpi.calendar import calendar_for
from kpi.models import Absence
from kpi.values import format_date
from reports.models import DailyReport, Reminder

logger = logging.getLogger(__name__)

EMAIL, TELEGRAM = "email", "telegram"
CHANNELS = (EMAIL, TELEGRAM)
# The first attempt and four retries after 1, 2, 4 and 8 × REMINDER_RETRY_SECONDS (15 min
# in all by default): a mail server or the Bot API down for a while still gets it through.
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class ReminderResult:
    reminded: list[str]
    summaries: list[str]


def companies_due(*, now: datetime.datetime, at: datetime.time | None = None) -> list[int]:
    """Companies whose local time has reached their reminder time (or `at`) today."""
    due = []
    for company in Company.objects.all():
        local = company.local_time(now)
        if local.time() >= (at or company.reminder_time):
            due.append(company.pk)
    return due


def missing_managers(*, company: Company, day: datetime.date) -> list[User]:
    """Active managers with no report for the day who are not absent that day."""
    reported = DailyReport.objects.filter(company=company, date=day).values("manager_id")
    absent = Absence.objects.filter(company=company, start__lte=day, end__gte=day).values(
        "manager_id"
    )
    return list(
        User.objects.filter(company=company, role=User.Role.MANAGER, is_active=True)
        .exclude(pk__in=reported)
        .exclude(pk__in=absent)
        .select_related("team__head")
        .order_by("last_name", "first_name")
    )


def reminder_claim(
    *,
    company: Company,
    user: User,
    day: datetime.date,
    kind: str,
    subject: str,
    text: str,
    channels: tuple[str, ...] = CHANNELS,
) -> Reminder | None:
    """Records the reminder and its message before anything is sent; None if it exists.

    The caller queues the deliveries with `deliveries_queue` once it has claimed them all.
    Telegram goes only to a bound chat of a person who has not turned that kind off.
    """
    from telegram_bot.selectors import telegram_wanted

    pending, unused = Reminder.Delivery.PENDING, Reminder.Delivery.NONE
    by_telegram = TELEGRAM in channels and telegram_wanted(company=company, user=user, kind=kind)
    reminder = Reminder(
        company=company, user=user, date=day, kind=kind, subject=subject, text=text,
        email_state=pending if EMAIL in channels and user.email else unused,
        telegram_state=pending if by_telegram else unused,
    )  # fmt: skip
    try:
        with transaction.atomic():
            reminder.save()
    except IntegrityError:
        return None
    return reminder


def deliveries_queue(*, company: Company, day: datetime.date, kinds: list[str]) -> int:
    """Queues, after the commit, every channel of the day's reminders still waiting to go.

    The ones just claimed, and any whose queued task was lost (the broker down at the
    commit, a purged queue): each run of the beat picks those up again. A duplicate in the
    queue is harmless: the first task to mark the channel `sending` sends it, the others
    find it taken.
    """
    count = 0
    for reminder in Reminder.objects.filter(company=company, date=day, kind__in=kinds):
        for channel in CHANNELS:
            if _state(reminder, channel) == Reminder.Delivery.PENDING:
                transaction.on_commit(
                    partial(_enqueue, company.pk, reminder.pk, channel), robust=True
                )
                count += 1
    return count


def _enqueue(company_id: int, reminder_id: int, channel: str) -> None:
    from reports.tasks import deliver_reminder

    deliver_reminder.delay(company_id, reminder_id, channel)


def _state(reminder: Reminder, channel: str) -> str:
    return getattr(reminder, f"{channel}_state")


def send_reminders(*, company: Company, now: datetime.datetime) -> ReminderResult:
    """Claims today's reminders (managers without a report) and summaries (their heads)."""
    local = company.local_time(now)
    day = local.date()
    if local.time() < company.reminder_time or not calendar_for(company=company).is_working(day):
        return ReminderResult([], [])
    missing = missing_managers(company=company, day=day)
    reminded = []
    summaries = []
    with translation.override(settings.LANGUAGE_CODE):
        for manager in missing:
            text = _(
                "%(name)s, вы ещё не сдали отчёт за сегодня (%(day)s). Это займёт две минуты: "
                "%(url)s"
            ) % {
                "name": manager.first_name or manager.username,
                "day": format_date(day, year=False),
                "url": settings.SITE_URL.rstrip("/") + "/report/",
            }
            claimed = reminder_claim(
                company=company, user=manager, day=day, kind=Reminder.Kind.MISSING,
                subject=_("Отчёт за день"), text=text,
            )  # fmt: skip
            if claimed:
                reminded.append(manager.username)
        by_head: dict[User, list[User]] = {}
        for manager in missing:
            if manager.team and manager.team.head:
                by_head.setdefault(manager.team.head, []).append(manager)
        for head, managers in by_head.items():
            names = "\n".join(f"— {m}" for m in managers)
            text = _("Не сдали отчёт за %(day)s (%(count)d):\n%(names)s") % {
                "day": format_date(day, year=False),
                "count": len(managers),
                "names": names,
            }
            claimed = reminder_claim(
                company=company, user=head, day=day, kind=Reminder.Kind.SUMMARY,
                subject=_("Кто не сдал отчёт"), text=text,
            )  # fmt: skip
            if claimed:
                summaries.append(head.username)
    deliveries_queue(company=company, day=day, kinds=[Reminder.Kind.MISSING, Reminder.Kind.SUMMARY])
    return ReminderResult(reminded, summaries)


@dataclass(frozen=True)
class Outgoing:
    """One channel of one reminder, taken for one attempt."""

    reminder_id: int
    user_id: int
    channel: str
    address: str  # the e-mail address or the Telegram chat id
    token: str  # the company's bot token (Telegram only)
    company_id: int
    kind: str
    subject: str
    text: str
    attempt: int


@dataclass(frozen=True)
class DeliveryResult:
    state: str  # the channel's state after this attempt, or "skipped"
    retry_in: float | None = None  # seconds until the next attempt, when one is due


def reminder_deliver(
    *, company_id: int, reminder_id: int, channel: str, attempt: int
) -> DeliveryResult:
    """One attempt at one channel of one reminder, in three steps of its own.

    Taking the channel and recording the outcome are two short transactions; the send
    between them holds no lock and no transaction, so a slow mail server blocks nobody and
    a rollback can never undo the record of a message that went out. `attempt` is the one
    the task was queued for: a duplicate or stale task finds the channel moved on and does
    nothing.
    """
    with tenancy.tenant_context(company_id):
        outgoing = _delivery_take(reminder_id=reminder_id, channel=channel, attempt=attempt)
    if outgoing is None:
        return DeliveryResult("skipped")
    try:
        _send(outgoing)
    except Exception as error:
        failure = _describe(error, token=outgoing.token)
    else:
        failure = ""
    with tenancy.tenant_context(company_id):
        return _delivery_record(outgoing, failure=failure)


def _delivery_take(*, reminder_id: int, channel: str, attempt: int) -> Outgoing | None:
    reminder = (
        Reminder.objects.select_for_update(of=("self",))
        .select_related("user", "company")
        .filter(pk=reminder_id)
        .first()
    )
    if reminder is None:  # deleted with its user since it was queued
        return None
    state = _state(reminder, channel)
    attempts = getattr(reminder, f"{channel}_attempts")
    expected = Reminder.Delivery.PENDING if attempt == 1 else Reminder.Delivery.FAILED
    if state != expected or attempts != attempt - 1 or attempt > MAX_ATTEMPTS:
        if state == Reminder.Delivery.SENDING:
            # Another task is sending it, or a worker died mid-send: it may have gone out.
            logger.warning(
                "reminder %s: %s to user %s is or was being sent; not sent again",
                reminder.pk, channel, reminder.user_id,
            )  # fmt: skip
        return None
    user = reminder.user
    address = user.email if channel == EMAIL else user.telegram_chat_id
    token = reminder.company.telegram_token() if channel == TELEGRAM else ""
    if not address or (channel == TELEGRAM and not token):
        # The address or the bot was removed since the claim: nowhere to send it.
        setattr(reminder, f"{channel}_state", Reminder.Delivery.NONE)
        reminder.save(update_fields=[f"{channel}_state"])
        return None
    setattr(reminder, f"{channel}_state", Reminder.Delivery.SENDING)
    setattr(reminder, f"{channel}_attempts", attempt)
    reminder.save(update_fields=[f"{channel}_state", f"{channel}_attempts"])
    return Outgoing(
        reminder_id=reminder.pk, user_id=user.pk, channel=channel, address=address,
        token=token, company_id=reminder.company_id, kind=reminder.kind,
        subject=reminder.subject, text=reminder.text, attempt=attempt,
    )  # fmt: skip


def _send(outgoing: Outgoing) -> None:
    if outgoing.channel == EMAIL:
        send_mail(outgoing.subject, outgoing.text, None, [outgoing.address])
    else:
        # The bot adds what only a chat can: today's figures and a button to file the report.
        from telegram_bot.notify import reminder_send

        reminder_send(
            company_id=outgoing.company_id, user_id=outgoing.user_id, kind=outgoing.kind,
            token=outgoing.token, chat_id=outgoing.address, text=outgoing.text,
        )  # fmt: skip


def _describe(error: Exception, *, token: str) -> str:
    text = f"{type(error).__name__}: {error}"
    if token:
        text = text.replace(token, "***")
    return text[:500]


def _delivery_record(outgoing: Outgoing, *, failure: str) -> DeliveryResult:
    channel = outgoing.channel
    reminder = Reminder.objects.select_for_update().filter(pk=outgoing.reminder_id).first()
    if reminder is None:
        return DeliveryResult("skipped")
    who = (reminder.pk, channel, outgoing.user_id, outgoing.attempt, MAX_ATTEMPTS)
    if not failure:
        setattr(reminder, f"{channel}_state", Reminder.Delivery.SENT)
        reminder.channels = ",".join([*filter(None, reminder.channels.split(",")), channel])
        reminder.save(update_fields=[f"{channel}_state", "channels"])
        if outgoing.attempt > 1:
            logger.info("reminder %s: %s to user %s sent on attempt %d of %d", *who)
        return DeliveryResult(Reminder.Delivery.SENT)
    setattr(reminder, f"{channel}_state", Reminder.Delivery.FAILED)
    setattr(reminder, f"{channel}_error", failure)
    reminder.save(update_fields=[f"{channel}_state", f"{channel}_error"])
    if outgoing.attempt >= MAX_ATTEMPTS:
        logger.error(
            "reminder %s: %s to user %s failed, attempt %d of %d, given up: %s", *who, failure
        )
        return DeliveryResult(Reminder.Delivery.FAILED)
    delay = settings.REMINDER_RETRY_SECONDS * 2 ** (outgoing.attempt - 1)
    logger.warning(
        "reminder %s: %s to user %s failed, attempt %d of %d, next in %g s: %s",
        *who, delay, failure,
    )  # fmt: skip
    return DeliveryResult(Reminder.Delivery.FAILED, retry_in=delay)
