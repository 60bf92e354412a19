"""End-of-day reminders: who has not reported by the company's reminder time."""

import datetime
import json
import logging
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import Company, User
from kpi.calendar import calendar_for
from kpi.models import Absence
from reports.models import DailyReport, Reminder

logger = logging.getLogger(__name__)


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


def claim_reminder(company: Company, user: User, day: datetime.date, kind: str) -> Reminder | None:
    """Records the reminder before sending it: the constraint makes it once, even if run twice."""
    try:
        with transaction.atomic():
            reminder = Reminder(company=company, user=user, date=day, kind=kind)
            reminder.save()
            return reminder
    except IntegrityError:
        return None


def send_reminders(*, company: Company, now: datetime.datetime) -> ReminderResult:
    local = company.local_time(now)
    day = local.date()
    if local.time() < company.reminder_time or not calendar_for(company=company).is_working(day):
        return ReminderResult([], [])
    missing = missing_managers(company=company, day=day)
    reminded = []
    with translation.override(settings.LANGUAGE_CODE):
        for manager in missing:
            reminder = claim_reminder(company, manager, day, Reminder.Kind.MISSING)
            if reminder is None:
                continue
            text = _(
                "%(name)s, вы ещё не сдали отчёт за сегодня (%(day)s). Это займёт две минуты: "
                "%(url)s"
            ) % {
                "name": manager.first_name or manager.username,
                "day": day.strftime("%d.%m"),
                "url": settings.SITE_URL.rstrip("/") + "/report/",
            }
            reminder.channels = deliver(company, manager, _("Отчёт за день"), text)
            reminder.save(update_fields=["channels"])
            reminded.append(manager.username)
        summaries = []
        by_head: dict[User, list[User]] = {}
        for manager in missing:
            if manager.team and manager.team.head:
                by_head.setdefault(manager.team.head, []).append(manager)
        for head, managers in by_head.items():
            reminder = claim_reminder(company, head, day, Reminder.Kind.SUMMARY)
            if reminder is None:
                continue
            names = "\n".join(f"— {m}" for m in managers)
            text = _("Не сдали отчёт за %(day)s (%(count)d):\n%(names)s") % {
                "day": day.strftime("%d.%m"),
                "count": len(managers),
                "names": names,
            }
            reminder.channels = deliver(company, head, _("Кто не сдал отчёт"), text)
            reminder.save(update_fields=["channels"])
            summaries.append(head.username)
    return ReminderResult(reminded, summaries)


def deliver(company: Company, user: User, subject: str, text: str) -> str:
    channels = []
    if user.email:
        send_mail(subject, text, None, [user.email])
        channels.append("email")
    if company.telegram_bot_token and user.telegram_chat_id:
        try:
            telegram_send(
                token=company.telegram_bot_token, chat_id=user.telegram_chat_id, text=text
            )
        except OSError:
            # The e-mail went out; Telegram being down must not stop the other reminders.
            logger.warning("telegram delivery failed for company %s", company.pk)
        else:
            channels.append("telegram")
    return ",".join(channels)


def telegram_send(*, token: str, chat_id: str, text: str) -> None:
    url = f"{settings.TELEGRAM_API_URL.rstrip('/')}/bot{token}/sendMessage"
    body = json.dumps({"chat_id": chat_id, "text": text}).encode()
    request = urllib.request.Request(  # noqa: S310 - the URL is our setting, https in production
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()
