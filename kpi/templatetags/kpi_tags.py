import datetime
from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

from kpi.models import KPI
from kpi.values import (
    format_call_length,
    format_date,
    format_datetime,
    format_every,
    format_month,
    format_percent,
    format_plan,
    format_value,
    input_value,
    within_bounds,
)

register = template.Library()


@register.filter
def kpi_value(value: Decimal | None, kpi: KPI) -> str:
    return format_value(value, kpi)


@register.filter
def kpi_plan(value: Decimal | None, kpi: KPI) -> str:
    """A plan with the decimals it has: a plan of 2,5 is not «2»."""
    return format_plan(value, kpi)


@register.filter
def kpi_input(value: Decimal | None, kpi: KPI) -> str:
    return input_value(value, kpi)


@register.filter
def kpi_figure(value: Decimal | None, kpi: KPI) -> str:
    """A day's figure of a report, marked when it is beyond its unit's bounds: one stored
    before the bounds is shown, never a broken page, for the head to correct."""
    text = format_value(value, kpi)
    if within_bounds(value, kpi):
        return text
    return _("%(value)s ⚠ вне допустимых границ") % {"value": text}


@register.filter
def call_length(seconds: int | None) -> str:
    """A call's length in minutes and seconds, never raw seconds."""
    return format_call_length(seconds)


@register.filter
def every_days(days: Decimal | None) -> str:
    """«раз в 9–10 дней», not «раз в 9,5 дн.»."""
    return format_every(days)


@register.filter
def percent(value: Decimal | None, places: int = 0) -> str:
    """A percent in the page's language: «28,0 %», «28.0%»."""
    return format_percent(value, int(places))


@register.filter(expects_localtime=True)
def day(value: datetime.date | None, form: str = "") -> str:
    """A day in the reader's language: `{{ d|day }}` «30.11.2026» / «11/30/2026»,
    `{{ d|day:"short" }}` without the year."""
    return format_date(value, year=form != "short")


@register.filter(expects_localtime=True)
def moment(value: datetime.datetime | None, form: str = "") -> str:
    """A date and time in the reader's language: `{{ t|moment }}` «30.11.2026 14:05»,
    `{{ t|moment:"short" }}` without the year, `{{ t|moment:"seconds" }}` with seconds."""
    return format_datetime(value, year=form != "short", seconds=form == "seconds")


@register.filter
def month_number(value: datetime.date | None) -> str:
    """A month by number: «11.2026» / «11/2026»."""
    return format_month(value)
