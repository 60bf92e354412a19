"""Plotly figures of one manager's month, from numbers the selectors computed."""

import datetime
import json
from decimal import Decimal

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from dashboard.selectors import TREND_WEEKS, ManagerMonth
from kpi.models import KPI
from reports.charts import BAND_COLOURS

LAYOUT = {
    "height": 280,
    "margin": {"l": 50, "r": 10, "t": 36, "b": 30},
    "legend": {"orientation": "h", "y": -0.2},
}


def _figure(figure: go.Figure, title: str, start: datetime.date, end: datetime.date) -> dict:
    """The figure as JSON, its x axis the whole span in days (one point does not zoom in)."""
    span = [start.isoformat(), end.isoformat()]
    figure.update_layout(
        **LAYOUT,
        title={"text": title, "font": {"size": 14}},
        xaxis={"type": "date", "range": span, "tickformat": "%d.%m"},
    )
    return json.loads(figure.to_json())


def daily_figure(month: ManagerMonth, kpi: KPI) -> dict:
    """Each reported day's actual as a bar against the day plan."""
    points = month.days.get(kpi.pk, [])
    days = [p.day.isoformat() for p in points]
    figure = go.Figure()
    figure.add_trace(go.Bar(x=days, y=[_num(p.actual) for p in points], name=_("факт")))
    figure.add_trace(
        go.Scatter(
            x=days, y=[_num(p.plan) for p in points], mode="lines+markers", name=_("план дня")
        )
    )
    title = _("%(kpi)s по дням: факт и план дня") % {"kpi": kpi.name}
    return _figure(figure, title, month.month.start, month.month.end)


def cumulative_figure(month: ManagerMonth, kpi: KPI) -> dict:
    """Month to date, added up day by day, against the even pace to the month's plan."""
    figure = go.Figure()
    points = [p for p in month.days.get(kpi.pk, []) if p.actual is not None]
    running, xs, ys = Decimal(0), [], []
    for point in points:
        running += point.actual  # type: ignore[operator]
        xs.append(point.day.isoformat())
        ys.append(float(running))
    figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=_("факт с начала месяца")))
    total = month.figures.get(kpi.pk)
    if total is not None and total.plan is not None and month.working_days:
        step = total.plan / len(month.working_days)
        figure.add_trace(
            go.Scatter(
                x=[d.isoformat() for d in month.working_days],
                y=[float(step * (i + 1)) for i in range(len(month.working_days))],
                mode="lines",
                line={"dash": "dash"},
                name=_("ровный темп к плану"),
            )
        )
    title = _("%(kpi)s нарастающим итогом") % {"kpi": kpi.name}
    return _figure(figure, title, month.month.start, month.month.end)


def weekly_figure(month: ManagerMonth) -> dict:
    """Week-by-week completion of every KPI, on the red/yellow/green bands."""
    figure = go.Figure()
    for low, high, colour in ((0, 60, "red"), (60, 80, "yellow"), (80, 200, "green")):
        figure.add_hrect(
            y0=low, y1=high, fillcolor=BAND_COLOURS[colour], line_width=0, layer="below"
        )
    for kpi in month.kpis:
        weeks = month.weeks.get(kpi.pk, [])
        figure.add_trace(
            go.Scatter(
                x=[start.isoformat() for start, _f in weeks],
                y=[_num(f.completion) for _s, f in weeks],
                mode="lines+markers",
                name=kpi.name,
            )
        )
    figure.update_layout(yaxis={"title": _("выполнение, %"), "rangemode": "tozero"})
    first = month.month.end - datetime.timedelta(weeks=TREND_WEEKS)
    return _figure(figure, _("Выполнение плана по неделям"), first, month.month.end)


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
