"""Sipuni, «Отправка событий HTTP» (https://doc.sipuni.com/articles/626-636-640--otpravka-sobytij-http):
GET or POST parameters `event` (1 the call begins, 2 it ends, 3 an operator answers,
4 a transferred leg ends), `call_id`, `src_num`/`src_type` and `dst_num`/`dst_type` (type 1
an outside number, 2 an employee's), `timestamp` (Unix), and at the end `status` (ANSWER,
BUSY, NOANSWER, CANCEL, CONGESTION, CHANUNAVAIL), `call_start_timestamp`,
`call_answer_timestamp`, `call_record_link` and `last_called` (the employee's number the
call reached last). Sipuni signs nothing: the secret in our URL proves the request. It must
get back JSON with `success`, or it pauses the sending.

An employee's number in `src_num`/`dst_num` is the account's number followed by the
extension («012345201» for extension 201 of account 012345, `user_id`); `short_src_num` and
`short_dst_num` carry the extension alone, and are what the employee's card holds. Checked
against events Sipuni sends and integrations that read them (tests/telephony/payloads/
sipuni.json names them). An incoming call rung through a scenario names no employee as its
`dst` (it is the company's number): the one who answered is `last_called`.
"""

import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from telephony.vendors.base import BadPayload, Event, Secrets, digest, fields, link, unix, whole

OUTSIDE, EMPLOYEE = "1", "2"
CALL, HANGUP, ANSWER, SECONDARY_HANGUP = "1", "2", "3", "4"


def _extension(data: dict[str, str], number: str) -> str:
    """An employee's number without the account's prefix (`user_id`)."""
    account = data.get("user_id", "")
    if account and number.startswith(account) and len(number) > len(account):
        return number[len(account) :]
    return number


def _employee(data: dict[str, str], side: str) -> str:
    """The extension of the employee on one side ("src" or "dst"), or ""."""
    if data.get(f"{side}_type") != EMPLOYEE:
        return ""
    return data.get(f"short_{side}_num") or _extension(data, data.get(f"{side}_num", ""))


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
        theirs = "dst_num" if outgoing else "src_num"
        facts: dict[str, Any] = {
            "direction": "out" if outgoing else "in",
            "phone": data.get(theirs, ""),
        }
        employee = _employee(data, "src" if outgoing else "dst")
        if kind == HANGUP and not outgoing and data.get("last_called"):
            # Who the incoming call reached last: the one who answered, whoever was rung.
            employee = _extension(data, data["last_called"])
        if employee:
            facts["extension"] = employee
        if kind == CALL:
            facts["started_at"] = occurred
        elif kind == ANSWER:
            facts["answered"] = True
        else:
            started_at = whole(data.get("call_start_timestamp") or data.get("timestamp"))
            # A leg through an outside number can report its answer before the start.
            answered_at = max(whole(data.get("call_answer_timestamp")), started_at)
            answered = (
                data.get("status") == "ANSWER" and whole(data.get("call_answer_timestamp")) > 0
            )
            facts.update(
                started_at=unix(started_at),
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
