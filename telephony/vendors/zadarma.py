"""Zadarma and Novofon (Novofon is Zadarma's Russian platform: the same API and
notifications), «Уведомления о звонках в АТС» (https://zadarma.com/ru/support/api/#api_webhooks,
https://novofon.com/instructions/api/): form posts with `event` NOTIFY_START, NOTIFY_INTERNAL,
NOTIFY_ANSWER, NOTIFY_END (incoming), NOTIFY_OUT_START, NOTIFY_OUT_END (outgoing),
NOTIFY_RECORD. The `Signature` header is base64 of the hex HMAC-SHA1 (PHP's hash_hmac) of
the event's signed fields with the API secret. The URL is checked first by a GET with
`zd_echo`, which must be echoed back.

A call is its `pbx_call_id`; `call_start` is «YYYY-MM-DD HH:MM:SS» on the clock set in the
cabinet, taken here as the company's. `disposition` "answered" is a conversation; busy,
cancel, no answer and the rest are not.
"""

import base64
import datetime
import hashlib
import hmac
from typing import Any

from django.http import HttpRequest, HttpResponse

from telephony.vendors.base import (
    BadPayload,
    Event,
    Secrets,
    digest,
    fields,
    local,
    services_now,
    whole,
)

# The fields each event signs, in order (the vendor's PHP library, getSignatureString).
SIGNED = {
    "NOTIFY_START": ("caller_id", "called_did", "call_start"),
    "NOTIFY_INTERNAL": ("caller_id", "called_did", "call_start"),
    "NOTIFY_END": ("caller_id", "called_did", "call_start"),
    "NOTIFY_ANSWER": ("caller_id", "destination", "call_start"),
    "NOTIFY_OUT_START": ("internal", "destination", "call_start"),
    "NOTIFY_OUT_END": ("internal", "destination", "call_start"),
    "NOTIFY_RECORD": ("pbx_call_id", "call_id_with_rec"),
}
RECORDING_PREFIX = "zadarma:"


def signature(data: dict[str, str], secret: str) -> str:
    text = "".join(data.get(name, "") for name in SIGNED[data.get("event", "")])
    hexdigest = hmac.new(secret.encode(), text.encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(hexdigest.encode()).decode()


class Zadarma:
    code = "zadarma"
    signs = True

    def handshake(self, request: HttpRequest) -> HttpResponse | None:
        echo = request.GET.get("zd_echo")
        if request.method == "GET" and echo is not None:
            return HttpResponse(echo[:200], content_type="text/plain")
        return None

    def verify(self, request: HttpRequest, secrets: Secrets) -> bool:
        data = fields(request)
        if data.get("event") not in SIGNED:
            # Events of no call (SMS, IVR menus) are acknowledged unread.
            return True
        given = str(request.headers.get("Signature", ""))
        return hmac.compare_digest(given, signature(data, secrets.secret))

    def events(self, request: HttpRequest, *, path: str, zone: datetime.tzinfo) -> list[Event]:
        data = fields(request)
        kind = data.get("event", "")
        call_id = data.get("pbx_call_id", "")
        if kind not in SIGNED or not call_id:
            return []
        event_id = digest(self.code, sorted(data.items()))
        if kind == "NOTIFY_RECORD":
            facts: dict[str, Any] = {"recording_url": RECORDING_PREFIX + data["call_id_with_rec"]}
            # It names no time: taken as sent now (its id still refuses a replay).
            return [Event(call_id, event_id, services_now(), facts)]
        started = local(data.get("call_start"), zone)
        outgoing = kind.startswith("NOTIFY_OUT")
        facts = {
            "direction": "out" if outgoing else "in",
            "started_at": started,
            "extension": data.get("internal", ""),
            "phone": data.get("destination" if outgoing else "caller_id", ""),
        }
        if kind == "NOTIFY_ANSWER":
            facts["answered"] = True
        occurred = started
        if kind in ("NOTIFY_END", "NOTIFY_OUT_END"):
            answered = data.get("disposition") == "answered"
            duration = whole(data.get("duration"))
            facts.update(answered=answered, duration=duration if answered else 0, ended=True)
            if data.get("is_recorded") == "1" and data.get("call_id_with_rec"):
                facts["recording_url"] = RECORDING_PREFIX + data["call_id_with_rec"]
            occurred = started + datetime.timedelta(seconds=duration)
        if not facts["phone"]:
            raise BadPayload("no client number")
        return [Event(call_id, event_id, occurred, facts)]

    def reply(self) -> HttpResponse:
        return HttpResponse(status=200)


VENDOR = Zadarma()
