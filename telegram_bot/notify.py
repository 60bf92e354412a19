"""What the company's bot sends on its own: reminders and digests (delivered by
reports/reminders.py) and the alerts of telegram_bot/alerts.py."""

import logging

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from accounts import permissions, tenancy
from accounts.models import User
from reports import selectors as report_selectors
from reports.models import Reminder
from telegram_bot import api

logger = logging.getLogger(__name__)


def reminder_send(
    *, company_id: int, user_id: int, kind: str, token: str, chat_id: str, text: str
) -> None:
    """One reminder to one chat. A manager's end-of-day reminder also carries today's KPIs,
    plan and what is left, and a button that starts the report right in the chat."""
    keyboard = None
    if kind == Reminder.Kind.MISSING:
        try:
            text, keyboard = _with_report(company_id, user_id, text)
        except Exception:
            # The figures are a help; the reminder itself must go whatever happens to them.
            logger.exception("reminder to user %s: today's figures left out", user_id)
    api.send_message(token=token, chat_id=chat_id, text=text, keyboard=keyboard)


def _with_report(company_id: int, user_id: int, text: str) -> tuple[str, api.Keyboard | None]:
    from telegram_bot.dialogue import day_overview

    with tenancy.tenant_context(company_id), translation.override(settings.LANGUAGE_CODE):
        user = User.objects.select_related("company").get(pk=user_id)
        if not permissions.may_report(user):
            return text, None
        form = report_selectors.report_form(
            company=user.company, manager=user, day=user.company.today()
        )
        if form.report is not None:
            return text, None
        overview = day_overview(form=form)
        return f"{text}\n\n{overview}", [[(_("Заполнить отчёт здесь"), "report")]]
