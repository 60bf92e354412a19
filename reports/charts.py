"""Plotly figures from numbers the selectors computed; the browser draws them (static/js)."""

from django.utils.translation import gettext as _

from kpi.values import format_date
from reports.selectors import TrendPoint
from salesdesk.charts import completion_scale, num, titled


def trend_figure(trend: list[TrendPoint]) -> dict:
    """Weekly completion per KPI over the last eight weeks, on the red/yellow/green bands."""
    weeks = [format_date(point.week_start, year=False) for point in trend]
    names = list(trend[0].completion) if trend else []
    traces = [
        {
            "type": "scatter",
            "x": weeks,
            "y": [num(p.completion[name]) for p in trend],
            "mode": "lines+markers",
            "name": name,
            "connectgaps": False,
        }
        for name in names
    ]
    return titled(
        traces, _("Выполнение плана по неделям"), **completion_scale(),
        height=280, margin={"l": 40, "r": 10, "t": 30, "b": 30},
    )  # fmt: skip
