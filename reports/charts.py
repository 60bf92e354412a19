"""Plotly figures from numbers the selectors computed; the browser draws them (static/js)."""

import json

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from reports.selectors import TrendPoint

BAND_COLOURS = {
    "red": "rgba(198,40,40,0.08)",
    "yellow": "rgba(183,121,31,0.10)",
    "green": "rgba(46,125,50,0.08)",
}


def trend_figure(trend: list[TrendPoint]) -> dict:
    """Weekly completion per KPI over the last eight weeks, on the red/yellow/green bands."""
    weeks = [point.week_start.strftime("%d.%m") for point in trend]
    names = list(trend[0].completion) if trend else []
    figure = go.Figure()
    for low, high, colour in ((0, 60, "red"), (60, 80, "yellow"), (80, 200, "green")):
        figure.add_hrect(
            y0=low, y1=high, fillcolor=BAND_COLOURS[colour], line_width=0, layer="below"
        )
    for name in names:
        figure.add_trace(
            go.Scatter(
                x=weeks,
                y=[
                    float(p.completion[name]) if p.completion[name] is not None else None
                    for p in trend
                ],
                mode="lines+markers",
                name=name,
                connectgaps=False,
            )
        )
    figure.update_layout(
        height=280,
        margin={"l": 40, "r": 10, "t": 30, "b": 30},
        yaxis={"title": _("выполнение, %"), "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.2},
        title={"text": _("Выполнение плана по неделям"), "font": {"size": 14}},
    )
    return json.loads(figure.to_json())
