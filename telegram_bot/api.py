"""The Bot API, through python-telegram-bot's `Bot`, for code that is not async.

Django views and Celery tasks here are synchronous; each call runs one short event loop with
a `Bot` of its own (an httpx client is bound to the loop it was made in). The URL is
`TELEGRAM_API_URL` (tests point it at a fake on loopback). A failure raises
`telegram.error.TelegramError` (`NetworkError`, `TimedOut`, `RetryAfter` are worth a retry;
`InvalidToken`, `Forbidden`, `BadRequest` are not).
"""

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, User
from telegram.request import HTTPXRequest

# What the bot reads: messages (answers, /start, /stop) and button presses. Nothing else is
# delivered, so nothing else is stored.
ALLOWED_UPDATES = ["message", "callback_query"]

Keyboard = list[list[tuple[str, str]]]  # rows of (label, callback data)


def _bot(token: str) -> Bot:
    base = settings.TELEGRAM_API_URL.rstrip("/")
    return Bot(
        token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=HTTPXRequest(connect_timeout=5, read_timeout=10, write_timeout=10),
    )


def _run[T](token: str, call: Callable[[Bot], Awaitable[T]]) -> T:
    async def run() -> T:
        bot = _bot(token)
        # Only the HTTP client: Bot.initialize() would add a getMe to every call.
        await bot.request.initialize()
        try:
            return await call(bot)
        finally:
            await bot.request.shutdown()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run())
    # This thread already runs an event loop (an ASGI server, or Playwright's sync API in the
    # same test process): asyncio.run() refuses to nest, so the call gets a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


def markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in keyboard
        ]
    )


def get_me(*, token: str) -> User:
    return _run(token, lambda bot: bot.get_me())


def set_webhook(*, token: str, url: str, secret: str) -> bool:
    return _run(
        token,
        lambda bot: bot.set_webhook(
            url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, max_connections=10
        ),
    )


def delete_webhook(*, token: str) -> bool:
    return _run(token, lambda bot: bot.delete_webhook())


def send_message(
    *, token: str, chat_id: str | int, text: str, keyboard: Keyboard | None = None
) -> Any:
    return _run(
        token,
        lambda bot: bot.send_message(chat_id=chat_id, text=text, reply_markup=markup(keyboard)),
    )


def edit_message_text(
    *, token: str, chat_id: str | int, message_id: int, text: str, keyboard: Keyboard | None = None
) -> Any:
    return _run(
        token,
        lambda bot: bot.edit_message_text(
            chat_id=chat_id, message_id=message_id, text=text, reply_markup=markup(keyboard)
        ),
    )


def answer_callback_query(*, token: str, callback_query_id: str, text: str = "") -> bool:
    return _run(
        token,
        lambda bot: bot.answer_callback_query(callback_query_id, text=text or None),
    )


def parse_update(payload: dict, *, token: str) -> Any:
    """The stored JSON of an update as python-telegram-bot's `Update`."""
    from telegram import Update

    return Update.de_json(payload, _bot(token))
