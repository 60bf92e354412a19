"""Secrets never reach a log: `SecretsFilter` masks them in every record a handler writes.

Configured on the handlers in `settings.LOGGING`, so it sees what any library logs (Django's
request warnings with their paths, httpx's request lines with their URLs, tracebacks).
"""

import logging
import re

MASK = "[скрыто]"

_NAMES = (
    r"password|passwd|pwd|secret|token|api[_-]?key|apikey|credentials|authorization"
    r"|sessionid|csrfmiddlewaretoken"
)

PATTERNS = [
    # Authorization: Token … / Bearer … / Basic … (headers, curl lines, reprs)
    (re.compile(r"(?i)\b(token|bearer|basic)(\s+)[A-Za-z0-9._~+/=:-]{8,}"), r"\1\2" + MASK),
    # password=…, "token": "…", 'api_key': '…', secret: … (forms, JSON, dict reprs, queries)
    (
        re.compile(
            rf"(?i)([\"']?[\w-]*(?:{_NAMES})[\w-]*[\"']?\s*[:=]\s*)([\"']?)[^\s\"'&,;}}]+\2"
        ),
        r"\1\2" + MASK + r"\2",
    ),
    # Our API keys: <company id>.<43 url-safe characters>
    (re.compile(r"\b\d+\.[A-Za-z0-9_-]{43}\b"), MASK),
    # JSON web tokens (amoCRM's long-lived tokens)
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), MASK),
    # amoCRM webhook addresses carry their secret as the last segment.
    (re.compile(r"(/hooks/amocrm/[0-9a-f-]{36}/[0-9a-f-]{36}/)[^/\s\"']+"), r"\1" + MASK),
    # Bitrix24 inbound webhooks: /rest/<user id>/<secret>/
    (re.compile(r"(/rest/\d+/)[^/\s\"']+"), r"\1" + MASK),
    # Telegram bot tokens, alone or in the Bot API's /bot<token>/ paths.
    (re.compile(r"(?<![0-9])\d{5,}:[A-Za-z0-9_-]{30,}"), MASK),
]


_SQL_LITERAL = re.compile(r"'(?:[^']|'')*'")


def mask(text: str) -> str:
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class SecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        sql = getattr(record, "sql", None)
        if record.name.startswith("django.db.backends") and isinstance(sql, str):
            # Statements (logged in DEBUG) carry every value written, password hashes and
            # webhook secrets included: the statement is kept, its values are not.
            duration = getattr(record, "duration", None)
            timing = f"({duration:.3f}) " if isinstance(duration, float) else ""
            message = timing + _SQL_LITERAL.sub("'…'", sql)
        else:
            try:
                message = record.getMessage()
            except Exception:  # a broken format string is logged as it is
                message = str(record.msg)
        record.msg, record.args = mask(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True
