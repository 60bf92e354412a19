"""Reading figures as people type them, and writing them as people read them."""

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kpi.models import KPI

CURRENCY_SYMBOLS = {"RUB": "₽", "USD": "$", "EUR": "€", "KZT": "₸", "BYN": "Br"}
_SPACES = re.compile(r"[\s\u00a0\u202f']+")
_CLOCK = re.compile(r"^(\d+):([0-5]?\d)(?::([0-5]?\d))?$")
_UNITS = re.compile(
    r"^(?:(\d+(?:[.,]\d+)?)\s*(?:ч|час|часа|часов|h))?\s*"
    r"(?:(\d+(?:[.,]\d+)?)\s*(?:мин|м|min|m))?\s*"
    r"(?:(\d+(?:[.,]\d+)?)\s*(?:сек|с|s|sec))?$"
)


def parse_number(text: str) -> Decimal:
    """'1 500,50', '1500.5', '1 500 ₽', '85 %' → Decimal; refuses anything else, in Russian."""
    cleaned = _SPACES.sub("", str(text)).rstrip("₽$€₸%").replace(",", ".")
    if cleaned.count(".") > 1 or not cleaned:
        raise ValidationError(_("Введите число, например 1500 или 1 500,50."), code="invalid")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as error:
        raise ValidationError(
            _("«%(text)s» — не число. Введите, например, 1500 или 1 500,50.") % {"text": text},
            code="invalid",
        ) from error
    if not value.is_finite():
        raise ValidationError(_("Введите число."), code="invalid")
    return value


def parse_duration(text: str) -> Decimal:
    """'1:30:00', '1:30' (h:mm), '90 мин', '1 ч 30 мин', '45' (minutes) → seconds."""
    raw = str(text).strip().lower()
    clock = _CLOCK.match(raw)
    if clock:
        hours, minutes, seconds = (int(part or 0) for part in clock.groups())
        return Decimal(hours * 3600 + minutes * 60 + seconds)
    units = _UNITS.match(raw)
    if units and any(units.groups()):
        hours, minutes, seconds = (
            Decimal(part.replace(",", ".")) if part else Decimal(0) for part in units.groups()
        )
        return (hours * 3600 + minutes * 60 + seconds).quantize(Decimal(1))
    try:
        return (parse_number(raw) * 60).quantize(Decimal(1))
    except ValidationError as error:
        raise ValidationError(
            _(
                "Не понимаю длительность «%(text)s». Напишите в минутах (90), "
                "как 1:30:00 или как «1 ч 30 мин»."
            )
            % {"text": text},
            code="invalid",
        ) from error


def parse_value(text: str, unit: str) -> Decimal:
    value = parse_duration(text) if unit == KPI.Unit.DURATION else parse_number(text)
    if value < 0:
        raise ValidationError(_("Значение не может быть отрицательным."), code="negative")
    return value


def format_value(value: Decimal | None, kpi: KPI) -> str:
    if value is None:
        return "—"
    if kpi.unit == KPI.Unit.DURATION:
        total = int(value.to_integral_value())
        hours, rest = divmod(total, 3600)
        minutes = rest // 60
        if hours:
            return _("%(h)d ч %(m)02d мин") % {"h": hours, "m": minutes}
        return _("%(m)d мин") % {"m": minutes}
    text = f"{value:,.{kpi.decimals}f}".replace(",", "\u202f").replace(".", ",")
    if kpi.unit == KPI.Unit.PERCENT:
        return f"{text}\u00a0%"
    if kpi.unit == KPI.Unit.MONEY:
        currency = kpi.company.currency
        return f"{text}\u00a0{CURRENCY_SYMBOLS.get(currency, currency)}"
    return text


def input_value(value: Decimal | None, kpi: KPI) -> str:
    """The value as it goes back into an input: what parse_value reads back unchanged."""
    if value is None:
        return ""
    if kpi.unit == KPI.Unit.DURATION:
        total = int(value.to_integral_value())
        return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"
    return f"{value:.{kpi.decimals}f}".replace(".", ",")
