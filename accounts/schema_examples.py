"""Response examples for the operations that declare none: built from the answer's own
schema (so that each has the real fields, the real page shape with `next`, `previous` and
`results`, and validates against it), with the values of the demo company's December 2026
where a field's name says what it holds.

One home for the values: an operation that declares its own example (a write's
`example_pair`) keeps it; every other 2xx JSON answer, and every error status that has a
body but no example (a report's 409), gets one here (`response_examples`, a
postprocessing hook of drf-spectacular). The codes are the docs' example codes
(`accounts.api_common.EXAMPLE_*`), which stand for the caller's own.
"""

from typing import Any

from accounts.api_common import EXAMPLE_MANAGER, EXAMPLE_ROLE, EXAMPLE_TEAM

EXAMPLE_KPI = "5c4d3e2f-1a0b-4c9d-8e7f-6a5b4c3d2e1f"
EXAMPLE_OBJECT = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
PAGE_NEXT = "https://salesdesk.example{path}?cursor=cD0yMDI2LTEyLTAx&page_size=100"
# Fields that are null while what they record has not happened (a live token, a delivery
# that needs no further attempt), or that only a ratio KPI has (the example's is a count).
NOT_YET = {
    "revoked", "next_attempt_at", "retargeting_at", "closed_at", "last_error", "numerator",
    "denominator",
}  # fmt: skip
# A map's keys, by the field's name (a month's working days, a KPI's figure).
MAP_KEYS = {"months": "12"}

# What a field of this name holds in the demo company (Вектор, December 2026).
VALUES: dict[str, object] = {
    "code": EXAMPLE_OBJECT,
    "uid": EXAMPLE_KPI,
    "manager": EXAMPLE_MANAGER,
    "team": EXAMPLE_TEAM,
    "sales_role": EXAMPLE_ROLE,
    "head": EXAMPLE_MANAGER,
    "controller": EXAMPLE_MANAGER,
    "changed_by": EXAMPLE_MANAGER,
    "created_by": EXAMPLE_MANAGER,
    "username": "vector.ivanov",
    "first_name": "Иван",
    "last_name": "Иванов",
    "email": "ivanov@example.com",
    "phone": "+7 912 345-67-89",
    "name": "Звонки",
    "name_ru": "Звонки",
    "name_en": "Calls",
    "title": "Отдел продаж Москва",
    "kpi": "calls",
    "client": "ООО «Ромашка»",
    "client_name": "ООО «Ромашка»",
    "call_type_name": "Холодный звонок",
    "stage": "Переговоры",
    "comment": "Клиент перезвонит после праздников",
    "note": "Клиент перезвонит после праздников",
    "reason": "Опечатка: звонков было 42",
    "role": "manager",
    "band": "green",
    "band_reading": "done",
    "period": "month",
    "scope": "manager",
    "source": "manual",
    "is_active": True,
    "active": True,
    "is_working": True,
    "answered": True,
    "meeting_plan": True,
    "loss_reason": "Дорого",
    "retargeting_reason": "Вернуться в новом квартале",
    "advice": "Назначьте встречу до конца недели.",
    "text": "Клиент перезвонит после праздников",
    "description": "Исходящие звонки клиентам за день",
    "message": "Отчёт сохранён.",
    "subject": "Иванов Иван",
    "url": "https://bi.example.com/salesdesk/webhook",
    "prefix": "sd_3kq9",
    "key": "sd_3kq9w2xYbT7rLm4VfN8c",
    "secret": "whsec_5Jt2QeW9xZ4bN7mK",
    "last_error": "",
    "external_id": "deal-10482",
    "numerator": "won",
    "denominator": "calls",
    "channel": "telegram",
    "state": "delivered",
    "scopes": ["exports:read"],
    "months": 22,
    "payload": {"event": "report.filed", "report": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"},
    "year": 2026,
    "version": 2,
    "weight": 1,
    "decimals": 0,
    "working_days": 21,
    "elapsed_days": 5,
    "days_reported": 5,
    "manager_count": 8,
    "duration": 184,
    "attempts": 1,
    "sequence": 17,
    "last_sequence": 17,
    "last_status": 200,
    "open_deals": 12,
    "won": 3,
    "lost": 1,
    "repeat_won": 1,
    "left": 2,
    "moved_on": 4,
    "retargeting": 1,
    "expected_count": 4,
    "created": 1,
    "date": "2026-12-04",
    "on": "2026-12-04",
    "call_date": "2026-12-04",
    "scored_on": "2026-12-04",
    "start": "2026-12-01",
    "end": "2026-12-31",
    "effective_from": "2026-12-01",
    "class_month": "2026-12-01",
    "expected_month": "2026-12-01",
    "expected_payment_on": "2026-12-20",
    "month": "2026-12",
    "actual": "212.0000",
    "plan": "800.0000",
    "plan_to_date": "190.4762",
    "forecast": "890.4000",
    "completion": "111.30",
    "done_so_far_completion": "111.30",
    "pace_completion": "111.30",
    "value": "42.0000",
    "old_value": "40.0000",
    "new_value": "42.0000",
    "score": "87.50",
    "amount": "150000.00",
    "won_sum": "450000.00",
    "repeat_sum": "150000.00",
    "average_won": "150000.00",
    "open_value": "1800000.00",
    "expected_sum": "600000.00",
    "remaining_plan": "350000.00",
    "velocity": "90000.00",
    "velocity_month": "90000.00",
    "band_green_from": "100.00",
    "band_red_below": "80.00",
    "share_meeting_plan": "62.5",
    "conversion": "25.0",
    "coverage": "1.80",
    "deal_length": "24.00",
    "days_in_stage": "6.00",
    "time_to_win": "24.00",
    "time_to_loss": "18.00",
    "manager_value": "212.0000",
    "source_value": "212.0000",
}
DATE_TIME = "2026-12-04T18:05:00+03:00"
DECIMAL = "42.00"


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def example_of(schema: dict, components: dict, *, name: str = "", path: str = "") -> Any:
    """A value that the schema accepts, the demo's where the field's `name` is known; a page
    of `path` links to its next page."""
    schema = _resolve(schema, components)
    if name in NOT_YET and schema.get("nullable"):
        return None
    if name == "code" and "pattern" in schema:
        return "calls"  # a slug (a KPI's code), not a uuid
    if "example" in schema:
        return schema["example"]
    known = VALUES.get(name)
    if "enum" in schema:
        if known in schema["enum"]:
            return known
        return next(value for value in schema["enum"] if value not in (None, ""))
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return example_of(schema[key][0], components, name=name, path=path)
    if "allOf" in schema:
        merged: dict = {}
        for part in schema["allOf"]:
            value = example_of(part, components, name=name)
            if not isinstance(value, dict):
                return value
            merged.update(value)
        return merged
    kind = schema.get("type")
    if kind == "array":
        return [example_of(schema.get("items", {}), components, name=name)]
    if kind == "object" or "properties" in schema:
        if {"next", "previous", "results"} <= set(schema.get("properties", {})):
            return _page(schema, components, path=path)
        if isinstance(schema.get("additionalProperties"), dict) and not schema.get("properties"):
            item = schema["additionalProperties"]
            return {MAP_KEYS.get(name, "calls"): example_of(item, components, name=name)}
        return {
            key: example_of(value, components, name=key)
            for key, value in schema.get("properties", {}).items()
        }
    if known is not None and _fits(known, schema):
        return known
    return _by_format(schema)


def _fits(value: object, schema: dict) -> bool:
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "string":
        if not isinstance(value, str):
            return False
        if fmt == "uuid":
            return len(value) == 36
        if fmt == "date":
            return len(value) == 10 and value[4] == "-"
        if fmt == "decimal":
            return value.replace(".", "").lstrip("-").isdigit()
        return fmt not in ("date-time", "uri") or value.startswith(("2", "http"))
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return kind is None


def _by_format(schema: dict) -> Any:
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "boolean":
        return False
    if kind == "integer":
        return 1
    if kind == "number":
        return 42.0
    if fmt == "uuid":
        return EXAMPLE_OBJECT
    if fmt == "date":
        return "2026-12-04"
    if fmt == "date-time":
        return DATE_TIME
    if fmt == "uri":
        return "https://salesdesk.example/"
    if fmt == "decimal":
        return DECIMAL
    if kind == "string":
        return ""
    return None


def _page(schema: dict, components: dict, *, path: str) -> dict:
    properties = schema["properties"]
    page = {
        key: example_of(value, components, name=key)
        for key, value in properties.items()
        if key not in ("next", "previous", "results")
    }
    if "count" in page:
        page["count"] = 1
    return {
        **page,
        "next": PAGE_NEXT.format(path=path),
        "previous": None,
        "results": [example_of(properties["results"].get("items", {}), components)],
    }


def response_examples(result: dict, generator: object, request: object, public: bool) -> dict:
    """Every 2xx JSON answer, and every error body, without an example gets one."""
    components = result.get("components", {}).get("schemas", {})
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {}).get("application/json")
                if content is None or content.get("examples") or "schema" not in content:
                    continue
                shape = _resolve(content["schema"], components)
                label = "a page" if "results" in str(shape) else "the answer"
                if not str(status).startswith("2"):
                    label = f"error {status}"
                content["examples"] = {
                    label.title().replace(" ", ""): {
                        "value": example_of(content["schema"], components, path=path),
                        "summary": label,
                    }
                }
    return result
