"""The company's bot: connecting it, binding chats to people, taking in updates.

One bot per company (docs/telegram.md): its token is the company's, encrypted at rest
(accounts.crypto); its webhook is /telegram/<company code>/webhook/, and Telegram proves
each delivery with a secret only the company's webhook knows (`webhook_secret`).
"""

import datetime
import hashlib
import hmac
import logging
import re
import secrets
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from telegram.error import InvalidToken, TelegramError

from accounts import crypto
from accounts.audit import audit_record
from accounts.models import AuditEvent, Company, User
from telegram_bot import api
from telegram_bot.models import AlertPreferences, BindingCode, Conversation, Update

logger = logging.getLogger(__name__)

BINDING_CODE_TTL = datetime.timedelta(minutes=30)
# What @BotFather issues: the bot's id, a colon, the secret. Anything else never reaches the
# Bot API (a hostile value would end up in its URL).
TOKEN_SHAPE = re.compile(r"\d{3,20}:[A-Za-z0-9_-]{20,80}")


def webhook_secret(*, company: Company, token: str | None = None) -> str:
    """The X-Telegram-Bot-Api-Secret-Token of the company's webhook.

    Derived, not stored: from SECRET_KEY, the company and its token in clear (so a key
    rotation of accounts.crypto changes nothing), so a new token makes a new secret and
    nothing in the database alone lets anyone forge an update.
    """
    token = company.telegram_token() if token is None else token
    message = f"salesdesk-telegram-webhook:{company.code}:{token}"
    digest = hmac.new(settings.SECRET_KEY.encode(), message.encode(), hashlib.sha256)
    return digest.hexdigest()  # 64 of [0-9a-f]: within the 1–256 [A-Za-z0-9_-] Telegram takes


def webhook_url(*, company: Company) -> str:
    path = reverse("telegram-webhook", kwargs={"company": company.code})
    return settings.SITE_URL.rstrip("/") + path


def bot_connect(*, company: Company, token: str) -> None:
    """Checks the token with getMe, stores it encrypted, and points the bot's webhook here.

    A token Telegram refuses, or a Bot API out of reach, is a ValidationError on the token
    field and nothing is stored.
    """
    token = token.strip()
    if not TOKEN_SHAPE.fullmatch(token):
        raise ValidationError(
            {
                "telegram_bot_token": _(
                    "Это не токен бота: @BotFather выдаёт его в виде 123456789:AAE…, "
                    "цифры, двоеточие и 35 знаков."
                )
            }
        )
    try:
        me = api.get_me(token=token)
    except InvalidToken as error:
        raise ValidationError(
            {"telegram_bot_token": _("Telegram не принял этот токен: проверьте его в @BotFather.")}
        ) from error
    except TelegramError as error:
        raise ValidationError(
            {
                "telegram_bot_token": _(
                    "Telegram сейчас недоступен, токен не сохранён. Попробуйте позже."
                )
            }
        ) from error
    try:
        api.set_webhook(
            token=token,
            url=webhook_url(company=company),
            secret=webhook_secret(company=company, token=token),
        )
    except TelegramError as error:
        raise ValidationError(
            {
                "telegram_bot_token": _(
                    "Telegram не принял адрес для обновлений (%(error)s): токен не сохранён."
                )
                % {"error": str(error).replace(token, "***")[:200]}
            }
        ) from error
    company.telegram_bot_token = crypto.encrypt(token)
    company.telegram_bot_username = me.username or ""
    company.save(update_fields=["telegram_bot_token", "telegram_bot_username"])


def bot_disconnect(*, company: Company) -> None:
    """Removes the bot: its webhook (best effort), its token, every chat bound to it."""
    token = company.telegram_token()
    if token:
        try:
            api.delete_webhook(token=token)
        except TelegramError:
            logger.warning(
                "company %s: deleteWebhook failed; the token is removed anyway", company.pk
            )
    company.telegram_bot_token = ""
    company.telegram_bot_username = ""
    company.save(update_fields=["telegram_bot_token", "telegram_bot_username"])
    User.objects.filter(company=company).exclude(telegram_chat_id="").update(telegram_chat_id="")
    Conversation.objects.filter(company=company).delete()


# --- Binding a chat to a person ----------------------------------------------------------


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def binding_code_create(*, user: User) -> tuple[str, datetime.datetime]:
    """A new one-time code for the profile's link; the person's earlier unused ones end."""
    company = user.company
    BindingCode.objects.filter(company=company, user=user, used_at=None).delete()
    code = secrets.token_urlsafe(24)  # 32 of [A-Za-z0-9_-]: what a deep link may carry
    expires = timezone.now() + BINDING_CODE_TTL
    BindingCode.objects.create(
        company=company, user=user, code_hash=_hash(code), expires_at=expires
    )
    return code, expires


def chat_bind(*, company: Company, code: str, chat_id: str) -> User | None:
    """Binds the chat to the person whose unused, unexpired code it is; None otherwise.

    The code is spent either way it is found; a chat is one person's, so anyone else of the
    company bound to it is unbound.
    """
    found = (
        BindingCode.objects.select_for_update()
        .select_related("user")
        .filter(company=company, code_hash=_hash(code), used_at=None)
        .first()
    )
    if found is None:
        return None
    found.used_at = timezone.now()
    found.save(update_fields=["used_at"])
    user = found.user
    if found.expires_at < timezone.now() or not user.is_active:
        return None
    User.objects.filter(company=company, telegram_chat_id=chat_id).exclude(pk=user.pk).update(
        telegram_chat_id=""
    )
    Conversation.objects.filter(company=company, chat_id=chat_id).delete()
    user.telegram_chat_id = chat_id
    user.save(update_fields=["telegram_chat_id"])
    audit_record(
        company=company, action=AuditEvent.Action.SETTINGS_CHANGED,
        target=f"{user.username}: telegram bound", actor=user,
    )  # fmt: skip
    return user


def chat_unbind(*, company: Company, user: User) -> None:
    """The person's chat no longer gets anything (from the profile, or /stop in the chat)."""
    if not user.telegram_chat_id:
        return
    Conversation.objects.filter(company=company, chat_id=user.telegram_chat_id).delete()
    user.telegram_chat_id = ""
    user.save(update_fields=["telegram_chat_id"])
    audit_record(
        company=company, action=AuditEvent.Action.SETTINGS_CHANGED,
        target=f"{user.username}: telegram unbound", actor=user,
    )  # fmt: skip


def preferences_set(*, company: Company, user: User, **choices: bool) -> AlertPreferences:
    unknown = set(choices) - {"reminders", "digest", "kpi_warnings", "client_calls"}
    if unknown:
        raise ValueError(f"not a preference: {sorted(unknown)}")
    preferences, _created = AlertPreferences.objects.get_or_create(company=company, user=user)
    for field, value in choices.items():
        setattr(preferences, field, bool(value))
    preferences.save()
    return preferences


# --- Updates -------------------------------------------------------------------------------


def update_receive(*, company: Company, payload: dict) -> Update | None:
    """Stores a verified update once and queues its processing after the commit.

    An update delivered again (Telegram retries until it gets a 200) finds its row and is
    neither stored nor queued again. If the queueing fails (the broker down) the row waits
    for `updates_sweep`.
    """
    update_id = payload.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None
    try:
        with transaction.atomic():
            update = Update.objects.create(company=company, update_id=update_id, payload=payload)
    except IntegrityError:
        return None
    transaction.on_commit(partial(_enqueue, company.pk, update.pk), robust=True)
    return update


def _enqueue(company_id: int, update_pk: int) -> None:
    from telegram_bot.tasks import process_update

    process_update.delay(company_id, update_pk)


def updates_waiting(
    *, company: Company, older_than: datetime.timedelta, max_attempts: int
) -> list[int]:
    """Updates not processed a while after they came: their task was lost or failed."""
    moment = timezone.now() - older_than
    return list(
        Update.objects.filter(
            company=company, processed_at=None, received_at__lt=moment, attempts__lt=max_attempts
        )
        .order_by("update_id")
        .values_list("pk", flat=True)
    )


def update_process(*, company: Company, update_pk: int) -> bool:
    """Processes one stored update once, in the caller's transaction; False if done before.

    The row is locked for the whole processing, so a duplicate task waits and then finds it
    done. A failure (the Bot API down) rolls back the answer's effects with it and the task
    is retried; the row stays unprocessed until then.
    """
    from telegram_bot import dialogue

    update = Update.objects.select_for_update().filter(company=company, pk=update_pk).first()
    if update is None or update.processed_at is not None:
        return False
    dialogue.handle(company=company, payload=update.payload)
    update.processed_at = timezone.now()
    update.attempts += 1
    update.error = ""
    update.save(update_fields=["processed_at", "attempts", "error"])
    return True


def update_failed(*, company: Company, update_pk: int, error: str) -> None:
    """Records a failed attempt (its effects were rolled back with it); the token masked."""
    token = company.telegram_token()
    if token:
        error = error.replace(token, "***")
    Update.objects.filter(company=company, pk=update_pk, processed_at=None).update(
        error=error[:500], attempts=models.F("attempts") + 1
    )
