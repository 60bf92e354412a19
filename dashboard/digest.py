"""The head of sales' digest: the attention list by e-mail (and Telegram), daily or weekly."""

import datetime

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import Company, User
from dashboard.models import DashboardVisit
from dashboard.selectors import attention_list
from kpi.calendar import calendar_for
from reports.models import Reminder
from reports.reminders import claim_reminder, deliver

# The digest goes out once the company's clock passes this time.
DIGEST_TIME = datetime.time(9, 0)


def digest_text(*, company: Company, head: User, now: datetime.datetime) -> str:
    items = attention_list(company=company, viewer=head, now=now)
    day = company.local_time(now).date()
    if not items:
        body = _("Сегодня никто не требует внимания: все отчёты сданы, красных KPI нет.")
    else:
        body = "\n".join(f"— {item.manager}: " + "; ".join(item.reasons) for item in items)
    link = settings.SITE_URL.rstrip("/") + "/dashboard/"
    return _("Кому нужен разговор сегодня, %(day)s:\n%(body)s\n\nДашборд: %(link)s") % {
        "day": day.strftime("%d.%m"),
        "body": body,
        "link": link,
    }


def send_digests(*, company: Company, now: datetime.datetime) -> list[str]:
    """Sends the digest to every head of sales due today, once; returns their logins."""
    local = company.local_time(now)
    day = local.date()
    if local.time() < DIGEST_TIME or not calendar_for(company=company).is_working(day):
        return []
    choices = dict(DashboardVisit.objects.filter(company=company).values_list("user_id", "digest"))
    sent = []
    heads = User.objects.filter(company=company, role=User.Role.HEAD, is_active=True)
    with translation.override(settings.LANGUAGE_CODE):
        for head in heads.order_by("pk"):
            choice = choices.get(head.pk, DashboardVisit.Digest.DAILY)
            if choice == DashboardVisit.Digest.OFF:
                continue
            if choice == DashboardVisit.Digest.WEEKLY and day.weekday() != 0:
                continue
            reminder = claim_reminder(company, head, day, Reminder.Kind.DIGEST)
            if reminder is None:
                continue
            text = digest_text(company=company, head=head, now=now)
            reminder.channels = deliver(company, head, _("Сводка для руководителя"), text)
            reminder.save(update_fields=["channels"])
            sent.append(head.username)
    return sent
