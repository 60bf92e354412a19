"""The `data` of each event: plain JSON with codes (UUIDs) and names, numbers as strings.

Stable shapes: fields are only ever added (docs/api.md, "Webhooks")."""

import datetime
from decimal import Decimal
from typing import Any

from accounts.models import User


def person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"code": str(user.code), "name": user.get_full_name() or user.username}


def number(value: Decimal) -> str:
    """A figure as a plain decimal string without a stored scale's zeros: 60, 1500.5."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def report(
    report: Any, *, values: dict[str, Decimal], actor: User | None, reason: str = ""
) -> dict:
    """A daily report filed or corrected: `values` by KPI code (the whole report's figures);
    `by` is null where a source settled a figure."""
    data = {
        "report": str(report.code),
        "manager": person(report.manager),
        "date": report.date.isoformat(),
        "version": report.version,
        "values": {code: number(value) for code, value in sorted(values.items())},
        "by": person(actor),
    }
    if reason:
        data["reason"] = reason
    return data


def month(*, month: datetime.date, actor: User) -> dict:
    return {"month": f"{month:%Y-%m}", "by": person(actor)}


def deal(deal: Any, *, day: datetime.date) -> dict:
    return {
        "deal": str(deal.code),
        "external_id": deal.external_id,
        "source": deal.source,
        "title": deal.title,
        "amount": str(deal.amount),
        "manager": person(deal.manager),
        "won_on": day.isoformat(),
    }


def manager_at_risk(*, manager: User, month: datetime.date, figures: list[dict]) -> dict:
    return {"manager": person(manager), "month": f"{month:%Y-%m}", "kpis": figures}
