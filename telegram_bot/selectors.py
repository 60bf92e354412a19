import datetime
from dataclasses import dataclass

from accounts.models import Company, User
from reports.models import Reminder
from telegram_bot.models import AlertPreferences

# Which preference turns each kind of message off.
PREFERENCE_OF_KIND = {
    Reminder.Kind.MISSING: "reminders",
    Reminder.Kind.SUMMARY: "digest",
    Reminder.Kind.DIGEST: "digest",
    Reminder.Kind.KPI_WARNING: "kpi_warnings",
    Reminder.Kind.CLIENT_CALLS: "client_calls",
}


def preferences_of(*, company: Company, user: User) -> AlertPreferences:
    """The person's choices; an unsaved row with everything on when they made none."""
    found = AlertPreferences.objects.filter(company=company, user=user).first()
    return found or AlertPreferences(company=company, user=user)


def telegram_wanted(*, company: Company, user: User, kind: str) -> bool:
    """A message of this kind goes to the person's chat: a bot, a bound chat, not turned off."""
    if not company.telegram_bot_token or not user.telegram_chat_id:
        return False
    field = PREFERENCE_OF_KIND.get(kind)
    return field is None or getattr(preferences_of(company=company, user=user), field)


@dataclass(frozen=True)
class BindingBlock:
    """The profile's Telegram block."""

    available: bool  # the company has a bot
    bound: bool
    bot_username: str
    link: str  # t.me/<bot>?start=<one-time code>, when not bound
    expires_at: datetime.datetime | None
    preferences: AlertPreferences
    kinds: list[tuple[str, str, bool]]  # (field, label, on) the person may turn off


def preference_fields(*, user: User) -> list[str]:
    """The messages that concern this person's role."""
    fields = ["reminders", "kpi_warnings", "client_calls"] if user.is_manager else []
    if user.is_head:  # the digest and the team's "not reported" go to heads of sales
        fields.append("digest")
    return fields
