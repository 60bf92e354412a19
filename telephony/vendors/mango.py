"""Mango Office, «API Виртуальной АТС» (https://www.mango-office.ru/support/api/): form posts
of `vpbx_api_key`, `sign` and `json`, to our URL with the event's path appended
(/events/call, /events/summary, /events/recording). `sign` = hex SHA-256 of
key + json + salt, the key and salt issued in the VPBX's «Интеграции → API» settings. Mango
wants a bare 200.

A call is its `entry_id`: /events/call reports its states (Appeared, Connected,
Disconnected), /events/summary its outcome once it ends (call_direction 1 incoming,
2 outgoing, 0 internal; entry_result 1 answered; create/talk/end times in Unix seconds),
/events/recording the finished recording (a `recording_id`; the file is fetched by a signed
link made when somebody plays it, `recording_link`).
"""

import datetime
import hashlib
import hmac
import json
import time
from typing import Any

from django.http import HttpRequest, HttpResponse

from telephony.vendors.base import BadPayload, Event, Secrets, digest, unix, whole

API_URL = "https://app.mango-office.ru/vpbx"
RECORDING_PREFIX = "mango:"
# Calls between two employees: not a client's call, nobody's KPI.
INTERNAL = 0
DIRECTIONS = {1: "in", 2: "out"}


def sign(*, key: str, text: str, salt: str) -> str:
    return hashlib.sha256(f"{key}{text}{salt}".encode()).hexdigest()


def recording_link(*, recording_id: str, secrets: Secrets, seconds: int = 300) -> str:
    """A play link valid for a few minutes («Получение ссылки на запись разговора»): its
    sign is SHA-256 of key + expiry + recording id + salt."""
    expires = int(time.time()) + seconds
    signature = hashlib.sha256(
        f"{secrets.key}{expires}{recording_id}{secrets.secret}".encode()
    ).hexdigest()
    return (
        f"{API_URL}/queries/recording/link/{recording_id}/play/{secrets.key}/{expires}/{signature}"
    )


def _party(data: dict, side: str) -> dict:
    party = data.get(side)
    return party if isinstance(party, dict) else {}


class Mango:
    code = "mango"
    signs = True

    def handshake(self, request: HttpRequest) -> HttpResponse | None:
        return None

    def verify(self, request: HttpRequest, secrets: Secrets) -> bool:
        key, text = request.POST.get("vpbx_api_key", ""), request.POST.get("json", "")
        expected = sign(key=secrets.key, text=text, salt=secrets.secret)
        return hmac.compare_digest(key, secrets.key) and hmac.compare_digest(
            request.POST.get("sign", ""), expected
        )

    def events(self, request: HttpRequest, *, path: str, zone: datetime.tzinfo) -> list[Event]:
        text = request.POST.get("json", "")
        try:
            data: dict[str, Any] = json.loads(text)
        except ValueError as error:
            raise BadPayload("json is not JSON") from error
        if not isinstance(data, dict):
            raise BadPayload("json is not an object")
        kind = path.strip("/").removeprefix("events/")
        entry = str(data.get("entry_id") or "")
        if kind not in ("call", "summary", "recording") or not entry:
            return []  # dtmf, sms, ping: nothing about a call's figures
        event_id = digest(self.code, kind, text)
        if kind == "call":
            facts: dict[str, Any] = {}
            if data.get("call_state") == "Connected":
                facts["answered"] = True
            return [Event(entry, event_id, unix(data.get("timestamp")), facts)]
        if kind == "recording":
            if data.get("recording_state") != "Completed" or not data.get("recording_id"):
                return []
            facts = {"recording_url": RECORDING_PREFIX + str(data["recording_id"])}
            return [Event(entry, event_id, unix(data.get("timestamp")), facts)]
        direction = whole(data.get("call_direction"))
        if direction == INTERNAL or direction not in DIRECTIONS:
            return []
        ours, theirs = ("to", "from") if direction == 1 else ("from", "to")
        talk, end = whole(data.get("talk_time")), whole(data.get("end_time"))
        answered = str(data.get("entry_result")) == "1" and talk > 0
        facts = {
            "direction": DIRECTIONS[direction],
            "started_at": unix(data.get("create_time")),
            "duration": max(end - talk, 0) if answered else 0,
            "answered": answered,
            "ended": True,
            "extension": str(_party(data, ours).get("extension") or ""),
            "number": str(_party(data, ours).get("number") or ""),
            "phone": str(_party(data, theirs).get("number") or ""),
        }
        return [
            Event(entry, event_id, unix(data.get("end_time") or data.get("create_time")), facts)
        ]

    def reply(self) -> HttpResponse:
        return HttpResponse(status=200)


VENDOR = Mango()
