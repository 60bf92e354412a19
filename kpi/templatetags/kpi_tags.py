from decimal import Decimal

from django import template

from kpi.models import KPI
from kpi.values import format_value, input_value

register = template.Library()


@register.filter
def kpi_value(value: Decimal | None, kpi: KPI) -> str:
    return format_value(value, kpi)


@register.filter
def kpi_input(value: Decimal | None, kpi: KPI) -> str:
    return input_value(value, kpi)
