"""The alerts that go only to Telegram, once a day from the digest time of the company's
clock: a manager's red KPIs and month at risk (the dashboard's attention list, as it reads
for the manager), and a farmer's «Пора позвонить» clients. Each is a `Reminder` row, so it
goes once a day, is retried like a reminder, and can be turned off on the profile."""

import datetime

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import Company, User
from clients.selectors import open_alerts
from dashboard.digest import DIGEST_TIME
from dashboard.selectors.attention import attention_list
from kpi.calendar import calendar_for
from kpi.values import format_date
from reports.models import Reminder
from reports.reminders import TELEGRAM, deliveries_queue, reminder_claim
from telegram_bot.selectors import telegram_wanted

CLIENTS_LISTED = 10


def kpi_warning_text(*, company: Company, manager: User, now: datetime.datetime) -> str | None:
    items = [
        i for i in attention_list(company=company, viewer=manager, now=now) if i.manager == manager
    ]
    if not items:
        return None
    reasons = "\n".join(f"— {reason}" for reason in items[0].reasons)
    link = settings.SITE_URL.rstrip("/") + "/my/"
    return _("Внимание к вашим показателям:\n%(reasons)s\n\nМои показатели: %(link)s") % {
        "reasons": reasons,
        "link": link,
    }


def client_calls_text(*, company: Company, manager: User) -> str | None:
    alerts = list(open_alerts(company=company, viewer=manager).filter(manager=manager))
    if not alerts:
        return None
    line = _("%(client)s — последний заказ %(day)s")
    lines = [
        line % {"client": alert.client, "day": format_date(alert.last_order_on, year=False)}
        for alert in alerts[:CLIENTS_LISTED]
    ]
    more = len(alerts) - CLIENTS_LISTED
    if more > 0:
        lines.append(_("и ещё %(count)d") % {"count": more})
    link = settings.SITE_URL.rstrip("/") + "/clients/alerts/"
    return _("Пора позвонить:\n%(lines)s\n\n%(link)s") % {
        "lines": "\n".join(f"— {line}" for line in lines),
        "link": link,
    }


def send_alerts(*, company: Company, now: datetime.datetime) -> list[str]:
    """Claims today's alerts of every bound manager who wants them; returns what was claimed."""
    local = company.local_time(now)
    day = local.date()
    if not company.telegram_bot_token or local.time() < DIGEST_TIME:
        return []
    if not calendar_for(company=company).is_working(day):
        return []
    claimed = []
    managers = User.objects.filter(company=company, role=User.Role.MANAGER, is_active=True).exclude(
        telegram_chat_id=""
    )
    with translation.override(settings.LANGUAGE_CODE):
        for manager in managers.order_by("pk"):
            kinds = (
                (Reminder.Kind.KPI_WARNING, _("Показатели"), kpi_warning_text),
                (Reminder.Kind.CLIENT_CALLS, _("Пора позвонить"), client_calls_text),
            )
            for kind, subject, build in kinds:
                if not telegram_wanted(company=company, user=manager, kind=kind):
                    continue
                if Reminder.objects.filter(
                    company=company, user=manager, date=day, kind=kind
                ).exists():
                    continue
                if kind == Reminder.Kind.KPI_WARNING:
                    text = build(company=company, manager=manager, now=now)
                else:
                    text = build(company=company, manager=manager)
                if text and reminder_claim(
                    company=company, user=manager, day=day, kind=kind, subject=subject,
                    text=text, channels=(TELEGRAM,),
                ):  # fmt: skip
                    claimed.append(f"{manager.username}:{kind}")
    deliveries_queue(
        company=company, day=day, kinds=[Reminder.Kind.KPI_WARNING, Reminder.Kind.CLIENT_CALLS]
    )
    return claimed
