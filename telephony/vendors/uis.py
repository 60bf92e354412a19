"""UIS and CoMagic (one platform), «Уведомления» (https://www.uiscom.ru/academiya/spravochnyj-centr/uis2.0/nastrojka-uvedomlenij/,
https://www.comagic.ru/support/article/86/): the admin adds an HTTP notification for the
events «Входящий звонок на виртуальный номер», «Исходящий звонок», «Начало разговора» and
«Завершение звонка», method POST, and the body below (the platform's variables in double
braces). UIS signs nothing: the secret in our URL proves the request; any 2xx is taken.

    {"event": "<одно из: call, answer, end>", "call_session_id": "{{call_session_id}}",
     "notification_time": "{{notification_time}}", "direction": "{{direction}}",
     "start_time": "{{start_time}}", "contact_phone_number": "{{contact_phone_number}}",
     "employee_id": "{{employee_id}}", "employee_phone_number": "{{employee_phone_number}}",
     "virtual_phone_number": "{{virtual_phone_number}}", "is_lost": "{{is_lost}}",
     "talk_time_duration": "{{talk_time_duration}}",
     "full_record_file_link": "{{full_record_file_link}}"}

Times are «YYYY-MM-DD HH:MM:SS.ffffff» on the account's clock (the company's here);
`direction` is "in" or "out"; `is_lost` true is a missed call.
"""

import datetime
import json
from typing import Any

from django.http import HttpRequest, HttpResponse

from telephony.vendors.base import BadPayload, Event, Secrets, digest, link, local, whole

KINDS = ("call", "answer", "end")


class UIS:
    code = "uis"
    signs = False

    def handshake(self, request: HttpRequest) -> HttpResponse | None:
        return None

    def verify(self, request: HttpRequest, secrets: Secrets) -> bool:
        return True

    def events(self, request: HttpRequest, *, path: str, zone: datetime.tzinfo) -> list[Event]:
        try:
            data = json.loads(request.body or b"{}")
        except ValueError as error:
            raise BadPayload("body is not JSON") from error
        if not isinstance(data, dict):
            raise BadPayload("body is not an object")
        kind, call_id = str(data.get("event", "")), str(data.get("call_session_id", ""))
        if kind not in KINDS or not call_id:
            return []
        occurred = local(data.get("notification_time"), zone)
        direction = str(data.get("direction"))
        if direction not in ("in", "out"):
            raise BadPayload("direction is neither in nor out")
        facts: dict[str, Any] = {
            "direction": direction,
            "phone": str(data.get("contact_phone_number") or ""),
            "number": str(data.get("employee_phone_number") or ""),
            "sip_login": str(data.get("employee_id") or ""),
        }
        if data.get("start_time"):
            facts["started_at"] = local(data["start_time"], zone)
        if kind == "answer":
            facts["answered"] = True
        elif kind == "end":
            lost = str(data.get("is_lost")).lower() in ("true", "1")
            talk = whole(data.get("talk_time_duration"))
            facts.update(
                answered=not lost and talk > 0,
                duration=0 if lost else talk,
                ended=True,
                recording_url=link(data.get("full_record_file_link")),
            )
        if not facts["phone"]:
            raise BadPayload("no client number")
        return [Event(call_id, digest(self.code, data), occurred, facts)]

    def reply(self) -> HttpResponse:
        return HttpResponse(status=200)


VENDOR = UIS()
