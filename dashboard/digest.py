"""The head of sales' digest: the attention list by e-mail (and Telegram), daily or weekly."""

import datetime

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import Company, User
from dashboard.models import DashboardVisit
from dashboard.selectors.attention import attention_list
from kpi.calendar import calendar_for
from kpi.values import format_date
from reports.models import Reminder
from reports.reminders import deliveries_queue, reminder_claim

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
        "day": format_date(day, year=False),
        "body": body,
        "link": link,
    }


def send_digests(*, company: Company, now: datetime.datetime) -> list[str]:
    """Claims the digest of every head of sales due today, once; returns their logins.

    Each digest is then delivered on its own (reports/reminders.py): one that fails is
    retried alone, and a run repeated by the beat sends none twice.
    """
    local = company.local_time(now)
    day = local.date()
    if local.time() < DIGEST_TIME or not calendar_for(company=company).is_working(day):
        return []
    choices = dict(DashboardVisit.objects.filter(company=company).values_list("user_id", "digest"))
    claimed = set(
        Reminder.objects.filter(company=company, date=day, kind=Reminder.Kind.DIGEST).values_list(
            "user_id", flat=True
        )
    )
    sent = []
    heads = User.objects.filter(company=company, role=User.Role.HEAD, is_active=True)
    with translation.override(settings.LANGUAGE_CODE):
        for head in heads.order_by("pk"):
            choice = choices.get(head.pk, DashboardVisit.Digest.DAILY)
            if choice == DashboardVisit.Digest.OFF or head.pk in claimed:
                continue
            if choice == DashboardVisit.Digest.WEEKLY and day.weekday() != 0:
                continue
            reminder = reminder_claim(
                company=company, user=head, day=day, kind=Reminder.Kind.DIGEST,
                subject=_("Сводка для руководителя"),
                text=digest_text(company=company, head=head, now=now),
            )  # fmt: skip
            if reminder is not None:
                sent.append(head.username)
    deliveries_queue(company=company, day=day, kinds=[Reminder.Kind.DIGEST])
    return sent
