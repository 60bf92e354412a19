"""Reading figures as people type them, and writing them as people read them.

Every figure that enters from outside (the end-of-day form and its live check, the API,
plan cells, file imports, CRM and telephony) is read here and held to its unit's bounds
(`BOUNDS`): a value beyond them is refused with a reason, never stored.
"""

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext

from django.core.exceptions import ValidationError
from django.utils import dateformat
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from kpi.models import KPI

CURRENCY_SYMBOLS = {"RUB": "₽", "USD": "$", "EUR": "€", "KZT": "₸", "BYN": "Br"}
_SPACES = re.compile(r"[\s\u00a0\u202f']+")
# Plain digits with one optional decimal separator: no exponent (1e30), no NaN or Infinity.
_PLAIN = re.compile(r"^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_CLOCK = re.compile(r"^(\d{1,6}):([0-5]?\d)(?::([0-5]?\d))?$")
_UNITS = re.compile(
    r"^(?:(\d{1,6}(?:[.,]\d{1,6})?)\s*(?:ч|час|часа|часов|h))?\s*"
    r"(?:(\d{1,8}(?:[.,]\d{1,6})?)\s*(?:мин|м|min|m))?\s*"
    r"(?:(\d{1,9}(?:[.,]\d{1,6})?)\s*(?:сек|с|s|sec))?$"
)
# No figure is longer than this ("1 000 000 000 000,00 ₽" is 22): longer text is refused
# before it is read, and no message repeats more than ECHO_LENGTH characters of it.
MAX_TEXT_LENGTH = 40
ECHO_LENGTH = 30


@dataclass(frozen=True)
class Bounds:
    """What one unit allows: decimals of a day's figure and of a plan, and the ceilings."""

    decimals: int
    plan_decimals: int
    # One day's figure of a summed KPI (its day total).
    day: Decimal
    # A figure of an averaged, last-value or ratio KPI (a day's figure or its target).
    level: Decimal


HOUR = 3600
DAY = 24 * HOUR
BOUNDS: dict[str, Bounds] = {
    # Nobody makes more than 10 000 calls or deals in a day; counts are whole.
    KPI.Unit.COUNT: Bounds(decimals=0, plan_decimals=4, day=Decimal(10_000), level=Decimal(10_000)),
    # Kopecks at most; a trillion a day is beyond any sales department.
    KPI.Unit.MONEY: Bounds(decimals=2, plan_decimals=2, day=Decimal(10**12), level=Decimal(10**12)),
    # Seconds. A day's total cannot exceed the day; an average (a response time, a deal's
    # length) can, up to a year.
    KPI.Unit.DURATION: Bounds(
        decimals=0, plan_decimals=0, day=Decimal(DAY), level=Decimal(365 * DAY)
    ),
    # Conversion, retention, churn stay within 0–100 %; pipeline coverage is healthy at
    # 300–400 %: 1 000 % is the ceiling.
    KPI.Unit.PERCENT: Bounds(decimals=2, plan_decimals=2, day=Decimal(1000), level=Decimal(1000)),
    # A multiple such as LTV : CAC.
    KPI.Unit.NUMBER: Bounds(decimals=2, plan_decimals=2, day=Decimal(10**6), level=Decimal(10**6)),
}
# A summed KPI's plan is a month's total (or a week's): at most 31 days of its day ceiling.
PLAN_DAYS = 31
# The database's CHECK constraints (kpi.models.MAX_DAY_FIGURE, MAX_PLAN_FIGURE) are the
# widest of these bounds; tests/kpi/test_values.py keeps the two in step.
# A single call lasts less than a day.
MAX_CALL_SECONDS = DAY


def echo(text: object) -> str:
    """What a message repeats of the user's input: never more than ECHO_LENGTH characters."""
    text = str(text)
    return text if len(text) <= ECHO_LENGTH else text[:ECHO_LENGTH] + "…"


def _too_long(text: str) -> ValidationError:
    return ValidationError(
        _("«%(text)s» — слишком длинное значение для числа.") % {"text": echo(text)},
        code="too_long",
    )


def parse_plain(text: object) -> Decimal:
    """A number as a program sends it (the API): digits with an optional decimal point, in
    the figure's own unit (seconds for a duration); no spaces, commas, units or exponents."""
    raw = str(text).strip()
    if len(raw) > MAX_TEXT_LENGTH:
        raise _too_long(raw)
    if not _PLAIN.match(raw):
        raise ValidationError(
            _("«%(text)s» — не число. Передайте число в единице KPI, например 1500.50.")
            % {"text": echo(raw)},
            code="invalid",
        )
    return Decimal(raw)


def parse_number(text: str) -> Decimal:
    """'1 500,50', '1500.5', '1 500 ₽', '85 %' → Decimal; refuses anything else, in Russian."""
    if len(str(text).strip()) > MAX_TEXT_LENGTH:
        raise _too_long(str(text).strip())
    cleaned = _SPACES.sub("", str(text)).rstrip("₽$€₸%").replace(",", ".")
    if cleaned.count(".") > 1 or not cleaned:
        raise ValidationError(_("Введите число, например 1500 или 1 500,50."), code="invalid")
    if not _PLAIN.match(cleaned):
        raise ValidationError(
            _("«%(text)s» — не число. Введите, например, 1500 или 1 500,50.")
            % {"text": echo(text)},
            code="invalid",
        )
    try:
        return Decimal(cleaned)
    except InvalidOperation as error:  # pragma: no cover - _PLAIN admits only plain decimals
        raise ValidationError(_("Введите число."), code="invalid") from error


def parse_duration(text: str) -> Decimal:
    """'1:30:00', '1:30' (h:mm), '90 мин', '1 ч 30 мин', '45' (minutes) → seconds."""
    raw = str(text).strip().lower()
    if len(raw) > MAX_TEXT_LENGTH:
        raise _too_long(raw)
    # Every part is at most a few digits long (the patterns), so this precision is exact.
    with localcontext(prec=60):
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
                % {"text": echo(text)},
                code="invalid",
            ) from error


def figure_ceiling(
    unit: str, *, aggregation: str = KPI.Aggregation.SUM, plan: bool = False
) -> Decimal:
    bounds = BOUNDS[unit]
    if aggregation != KPI.Aggregation.SUM:
        return bounds.level
    return bounds.day * PLAN_DAYS if plan else bounds.day


def _ceiling_text(unit: str, ceiling: Decimal) -> str:
    if unit == KPI.Unit.DURATION:
        hours = int(ceiling) // HOUR
        if hours > 48:
            return _("%(days)d дн.") % {"days": hours // 24}
        return _("%(h)d ч") % {"h": hours}
    text = f"{ceiling:,.0f}".replace(",", "\u202f")
    return f"{text}\u00a0%" if unit == KPI.Unit.PERCENT else text


def ceiling_check(
    value: Decimal, unit: str, *, aggregation: str = KPI.Aggregation.SUM, plan: bool = False
) -> Decimal:
    """Refuses a negative figure or one above its unit's ceiling; returns it otherwise."""
    value = Decimal(value)  # code may pass an int; Decimal(int) is exact
    if not value.is_finite():
        raise ValidationError(_("Введите число."), code="invalid")
    if value < 0:
        if plan:
            raise ValidationError(_("План не может быть отрицательным."), code="negative")
        raise ValidationError(_("Значение не может быть отрицательным."), code="negative")
    ceiling = figure_ceiling(unit, aggregation=aggregation, plan=plan)
    if value > ceiling:
        message = (
            _("Слишком большой план: не больше %(max)s. Проверьте, нет ли лишних цифр.")
            if plan
            else _("Слишком большое значение: не больше %(max)s. Проверьте, нет ли лишних цифр.")
        )
        raise ValidationError(message % {"max": _ceiling_text(unit, ceiling)}, code="out_of_bounds")
    return value


def value_check(
    value: Decimal, unit: str, *, aggregation: str = KPI.Aggregation.SUM, plan: bool = False
) -> Decimal:
    """A figure within its unit's bounds: the sign, the ceiling and the decimals."""
    value = ceiling_check(value, unit, aggregation=aggregation, plan=plan)
    bounds = BOUNDS[unit]
    decimals = bounds.plan_decimals if plan else bounds.decimals
    if value != value.quantize(Decimal(10) ** -decimals):
        if decimals == 0:
            raise ValidationError(
                _("Введите целое число: здесь не бывает дробей."), code="decimals"
            )
        raise ValidationError(
            _("Не больше %(n)d знаков после запятой.") % {"n": decimals}, code="decimals"
        )
    return value


def parse_value(
    text: str, unit: str, *, aggregation: str = KPI.Aggregation.SUM, plan: bool = False
) -> Decimal:
    """What a person typed for a figure of this unit (a day's, or with `plan` a plan's),
    read and held to the unit's bounds."""
    value = parse_duration(text) if unit == KPI.Unit.DURATION else parse_number(text)
    return value_check(value, unit, aggregation=aggregation, plan=plan)


def kpi_value_check(value: Decimal, kpi: KPI, *, plan: bool = False) -> Decimal:
    return value_check(value, kpi.unit, aggregation=kpi.aggregation, plan=plan)


def within_bounds(value: Decimal | None, kpi: KPI, *, plan: bool = False) -> bool:
    """A stored figure is within its KPI's bounds (one stored before them may not be)."""
    if value is None:
        return True
    try:
        ceiling_check(value, kpi.unit, aggregation=kpi.aggregation, plan=plan)
    except ValidationError:
        return False
    return True


# A plan is shown with the decimals it has (2.5 calls a day is «2,5», not «2»), but a split
# plan (1 320 × 4 / 23) stops at two: 229,57, not 229,5652.
PLAN_SHOWN_DECIMALS = 2


def plan_decimals(value: Decimal, kpi: KPI) -> int:
    """The KPI's own decimals, or more where the plan has them (at most PLAN_SHOWN_DECIMALS)."""
    if not value.is_finite():
        return kpi.decimals
    rounded = value.quantize(Decimal(10) ** -PLAN_SHOWN_DECIMALS).normalize()
    exponent = rounded.as_tuple().exponent
    own = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return max(kpi.decimals, min(own, PLAN_SHOWN_DECIMALS))


def format_plan(value: Decimal | None, kpi: KPI) -> str:
    """A plan as people read it: format_value with the plan's own significant decimals."""
    if value is None or kpi.unit == KPI.Unit.DURATION:
        return format_value(value, kpi)
    return format_value(value, kpi, decimals=plan_decimals(value, kpi))


def _english() -> bool:
    return (get_language() or "ru").startswith("en")


def format_number(value: Decimal | int | float, places: int = 0) -> str:
    """A number as the reader's language writes it, grouped by thousands: «1 056 000,50» in
    Russian (a narrow no-break space, a decimal comma), «1,056,000.50» in English. The one
    home of number formatting: figures, percents, explanations and charts' hover all call it."""
    text = f"{Decimal(str(value)) if isinstance(value, float) else value:,.{places}f}"
    if _english():
        return text
    return text.replace(",", "\u202f").replace(".", ",")


def _date_pattern(*, year: bool) -> str:
    # English as the English form inputs show a date (Django's SHORT_DATE_FORMAT «m/d/Y»).
    if _english():
        return "m/d/Y" if year else "m/d"
    return "d.m.Y" if year else "d.m"


def format_date(day: datetime.date | None, *, year: bool = True) -> str:
    """A day as the reader's language writes it: «30.11.2026» (or «30.11» without the year)
    in Russian, «11/30/2026» («11/30») in English. The one home of date formatting for
    people; machine-facing dates (URLs, hidden inputs, the API, CSV) stay ISO."""
    if day is None:
        return ""
    return dateformat.format(day, _date_pattern(year=year))


def format_datetime(
    moment: datetime.datetime | None, *, year: bool = True, seconds: bool = False
) -> str:
    """A moment (already in the reader's time zone): «30.11.2026 14:05» / «11/30/2026 14:05»."""
    if moment is None:
        return ""
    time = "H:i:s" if seconds else "H:i"
    return dateformat.format(moment, f"{_date_pattern(year=year)} {time}")


def format_month(day: datetime.date | None) -> str:
    """A month by number: «11.2026» in Russian, «11/2026» in English."""
    if day is None:
        return ""
    return dateformat.format(day, "m/Y" if _english() else "m.Y")


def chart_day_format() -> str:
    """A chart's day without the year in d3's notation, as `format_date(year=False)` writes it."""
    return "%m/%d" if _english() else "%d.%m"


def format_percent(value: Decimal | int | float | None, places: int = 0) -> str:
    """«128,8 %» in Russian (a space before the sign), «128.8%» in English."""
    if value is None:
        return "—"
    number = format_number(value, places)
    return f"{number}%" if _english() else f"{number} %"


def format_duration(seconds: Decimal | int | None) -> str:
    """A duration in words, never raw seconds: «1 ч 05 мин», «45 мин» (English: «1 h 05 min»)."""
    if seconds is None:
        return "—"
    total = int(Decimal(seconds).to_integral_value())
    hours, rest = divmod(total, 3600)
    minutes = rest // 60
    if hours:
        return _("%(h)d ч %(m)02d мин") % {"h": hours, "m": minutes}
    return _("%(m)d мин") % {"m": minutes}


def format_call_length(seconds: int | None) -> str:
    """One call's length: «5 мин 07 с», «45 с» (English «5 min 07 s»)."""
    if seconds is None:
        return "—"
    minutes, rest = divmod(int(seconds), 60)
    if minutes:
        return pgettext("длина звонка", "%(m)d мин %(s)02d с") % {"m": minutes, "s": rest}
    return pgettext("длина звонка", "%(s)d с") % {"s": rest}


def _days_word(n: int) -> str:
    """«день», «дня» or «дней» after n (Russian has three forms; English two)."""
    if _english():
        form = 0 if n == 1 else 2
    elif n % 10 == 1 and n % 100 != 11:
        form = 0
    elif 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        form = 1
    else:
        form = 2
    return (pgettext("дни", "день"), pgettext("дни", "дня"), pgettext("дни", "дней"))[form]


def format_every(days: Decimal | float | None) -> str:
    """How often, in words: «раз в 14 дней», «раз в 9–10 дней» for 9,5 (English «every 14
    days», «every 9–10 days»): a median gap is an estimate, not a measurement."""
    if days is None:
        return "—"
    value = Decimal(str(days))
    low = int(value)
    span = str(low) if value == low else f"{low}–{low + 1}"
    return _("раз в %(days)s") % {
        "days": f"{span}\u00a0{_days_word(low if value == low else low + 1)}"
    }


def format_clock(seconds: Decimal | int | None) -> str:
    """A duration as ч:мм («25:05»): a cell of an export or a chart's hover, where a clock
    reads best and sorts as written."""
    if seconds is None:
        return ""
    total = int(Decimal(seconds).to_integral_value())
    return f"{total // 3600}:{total % 3600 // 60:02d}"


def format_value(value: Decimal | None, kpi: KPI, *, decimals: int | None = None) -> str:
    """A figure of `kpi` as people read it, in the reader's language."""
    if value is None:
        return "—"
    if kpi.unit == KPI.Unit.DURATION:
        return format_duration(value)
    places = kpi.decimals if decimals is None else decimals
    text = format_number(value, places)
    if kpi.unit == KPI.Unit.PERCENT:
        return f"{text}%" if _english() else f"{text}\u00a0%"
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
