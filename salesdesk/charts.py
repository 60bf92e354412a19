"""Plotly figures as the JSON plotly.js draws, built as plain dicts.

plotly.graph_objects validates every property as it is set: a chart cost 15–30 ms of a page
(the manager's page at the 18:00 peak spent 40 % of its time there). The builders write the
same JSON (the default template included, so the charts look as before), and
tests/dashboard/test_charts.py and tests/funnel/test_charts.py validate their output with
graph_objects instead.
"""

import functools
from decimal import Decimal
from typing import TYPE_CHECKING

import plotly.io as pio
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kpi.models import KPI
from kpi.values import chart_day_format, format_clock, format_value

if TYPE_CHECKING:
    import plotly.graph_objects as go

BAND_COLOURS = {
    "red": "rgba(198,40,40,0.08)",
    "yellow": "rgba(183,121,31,0.10)",
    "green": "rgba(46,125,50,0.08)",
}


@functools.cache
def _template() -> dict:
    return pio.templates[pio.templates.default].to_plotly_json()


def separators() -> str:
    """Plotly's decimal and thousands separators in the reader's language (kpi.values)."""
    return ".," if (get_language() or "ru").startswith("en") else ",\u202f"


def figure(data: list[dict], layout: dict) -> dict:
    """A figure of `data` (traces) and `layout`, in the default template, its numbers
    written as the reader's language writes them."""
    return {"data": data, "layout": {"template": _template(), "separators": separators(), **layout}}


def kpi_series(kpi: KPI, values: list[Decimal | None]) -> dict:
    """A trace's y values of one KPI and its hover, which reads each value as every page
    does (format_value): a duration is drawn in hours and hovers as ч:мм, never seconds."""
    if kpi.unit == KPI.Unit.DURATION:
        ys = [None if v is None else round(float(v) / 3600, 3) for v in values]
        shown = [format_clock(v) for v in values]
    else:
        ys, shown = [num(v) for v in values], [format_value(v, kpi) for v in values]
    return {
        "y": ys,
        "customdata": shown,
        "hovertemplate": f"%{{x|{chart_day_format()}}}: "
        "%{customdata}<extra>%{fullData.name}</extra>",
    }


def kpi_axis(kpi: KPI) -> dict:
    """The y axis of a chart of one KPI's values: hours for a duration."""
    if kpi.unit == KPI.Unit.DURATION:
        return {"yaxis": {"title": {"text": _("часы")}, "rangemode": "tozero"}}
    return {}


def titled(traces: list[dict], title: str, **layout: object) -> dict:
    """A figure in the pages' common frame (a small title, the legend below the plot);
    `layout` adds the rest (height, margins, axes) or overrides it."""
    common = {
        "legend": {"orientation": "h", "y": -0.2},
        "title": {"text": title, "font": {"size": 14}},
    }
    return figure(traces, {**common, **layout})


def band_shapes() -> list[dict]:
    """The red/yellow/green completion bands (0–60–80–200 %) behind a chart's traces."""
    return [
        {
            "type": "rect",
            "xref": "x domain",
            "x0": 0,
            "x1": 1,
            "yref": "y",
            "y0": low,
            "y1": high,
            "fillcolor": BAND_COLOURS[colour],
            "line": {"width": 0},
            "layer": "below",
        }
        for low, high, colour in ((0, 60, "red"), (60, 80, "yellow"), (80, 200, "green"))
    ]


def completion_scale() -> dict:
    """Layout of a chart of plan completion: the bands behind it, its y axis in percent."""
    return {
        "shapes": band_shapes(),
        "yaxis": {"title": {"text": _("выполнение, %")}, "rangemode": "tozero"},
    }


def num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def validated(figure_: dict) -> "go.Figure":
    """The figure as plotly's graph_objects reads it: raises ValueError on an unknown property.
    For tests: it costs what the builders avoid."""
    from plotly.graph_objects import Figure

    return Figure(figure_)
