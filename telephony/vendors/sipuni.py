"""Sipuni, «Отправка событий HTTP» (https://doc.sipuni.com/articles/626-636-640--otpravka-sobytij-http):
GET or POST parameters `event` (1 the call begins, 2 it ends, 3 an operator answers,
4 a transferred leg ends), `call_id`, `src_num`/`src_type` and `dst_num`/`dst_type` (type 1
an outside number, 2 an employee's extension), `timestamp` (Unix), and at the end `status`
(ANSWER, BUSY, NOANSWER, CANCEL, CONGESTION, CHANUNAVAIL), `call_start_timestamp`,
`call_answer_timestamp`, `call_record_link`. Sipuni signs nothing: the secret in our URL
proves the request. It must get back JSON with `success`, or it pauses the sending.
"""

import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from telephony.vendors.base import BadPayload, Event, Secrets, digest, fields, link, unix, whole

OUTSIDE, EMPLOYEE = "1", "2"
CALL, HANGUP, ANSWER, SECONDARY_HANGUP = "1", "2", "3", "4"


class Sipuni:
    code = "sipuni"
    signs = False

    def handshake(self, request: HttpRequest) -> HttpResponse | None:
        return None

    def verify(self, request: HttpRequest, secrets: Secrets) -> bool:
        return True

    def events(self, request: HttpRequest, *, path: str, zone: datetime.tzinfo) -> list[Event]:
        data = fields(request)
        kind, call_id = data.get("event", ""), data.get("call_id", "")
        if kind not in (CALL, HANGUP, ANSWER) or not call_id:
            return []  # a transferred leg's end: the call's own end follows
        occurred = unix(data.get("timestamp"))
        outgoing = data.get("src_type") == EMPLOYEE and data.get("dst_type") == OUTSIDE
        ours, theirs = ("src_num", "dst_num") if outgoing else ("dst_num", "src_num")
        facts: dict[str, Any] = {
            "direction": "out" if outgoing else "in",
            "phone": data.get(theirs, ""),
        }
        employee = data.get(ours, "")
        if data.get("src_type" if outgoing else "dst_type") == EMPLOYEE and employee:
            facts["extension"] = employee
        if kind == CALL:
            facts["started_at"] = occurred
        elif kind == ANSWER:
            facts["answered"] = True
        else:
            started = unix(data.get("call_start_timestamp") or data.get("timestamp"))
            answered_at = whole(data.get("call_answer_timestamp"))
            answered = data.get("status") == "ANSWER" and answered_at > 0
            facts.update(
                started_at=started,
                answered=answered,
                duration=max(whole(data.get("timestamp")) - answered_at, 0) if answered else 0,
                ended=True,
                recording_url=link(data.get("call_record_link")),
            )
        if not facts["phone"]:
            raise BadPayload("no client number")
        return [Event(call_id, digest(self.code, sorted(data.items())), occurred, facts)]

    def reply(self) -> HttpResponse:
        return JsonResponse({"success": True})


VENDOR = Sipuni()
