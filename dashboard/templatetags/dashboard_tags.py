from django import template

from dashboard.figures import Figure
from dashboard.selectors import formula_lines
from kpi.values import format_value

register = template.Library()

ICONS = {"red": "▼", "yellow": "●", "green": "✓", "none": "·"}


@register.filter
def formula(figure: Figure | None) -> str:
    """The figure's formula as one line, for the hover title of a cell."""
    return "; ".join(formula_lines(figure)) if figure else ""


@register.filter
def band_icon(band: str) -> str:
    """A shape per colour, so that colour is never the only signal."""
    return ICONS.get(band, "·")


@register.filter
def get_item(mapping: dict, key: object) -> object:
    return mapping.get(key) if mapping else None


@register.filter
def kpi_figure(value: object, kpi: object) -> str:
    return format_value(value, kpi) if kpi is not None else str(value)  # type: ignore[arg-type]
