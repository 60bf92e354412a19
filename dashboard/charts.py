"""Plotly figures of one manager's month, from numbers the selectors computed."""

import datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from dashboard.selectors.drilldown import TREND_WEEKS, ManagerMonth
from kpi.models import KPI
from kpi.values import chart_day_format
from salesdesk.charts import completion_scale, kpi_axis, kpi_series, num, titled


def _figure(
    traces: list[dict], title: str, start: datetime.date, end: datetime.date, **layout: object
) -> dict:
    """The figure, its x axis the whole span in days (one point does not zoom in)."""
    span = [start.isoformat(), end.isoformat()]
    return titled(
        traces, title, **layout, height=280, margin={"l": 50, "r": 10, "t": 36, "b": 30},
        xaxis={"type": "date", "range": span, "tickformat": chart_day_format()},
    )  # fmt: skip


def daily_figure(month: ManagerMonth, kpi: KPI) -> dict:
    """Each reported day's actual as a bar against the day plan."""
    points = month.days.get(kpi.pk, [])
    days = [p.day.isoformat() for p in points]
    traces = [
        {
            "type": "bar",
            "x": days,
            **kpi_series(kpi, [p.actual for p in points]),
            "name": _("факт"),
        },
        {
            "type": "scatter",
            "x": days,
            **kpi_series(kpi, [p.plan for p in points]),
            "mode": "lines+markers",
            "name": _("план дня"),
        },
    ]
    title = _("%(kpi)s по дням: факт и план дня") % {"kpi": kpi.name}
    return _figure(traces, title, month.month.start, month.month.end, **kpi_axis(kpi))


def cumulative_figure(month: ManagerMonth, kpi: KPI) -> dict:
    """Month to date, added up day by day, against the even pace to the month's plan."""
    points = [p for p in month.days.get(kpi.pk, []) if p.actual is not None]
    running, xs, ys = Decimal(0), [], []
    for point in points:
        running += point.actual  # type: ignore[operator]
        xs.append(point.day.isoformat())
        ys.append(running)
    traces = [
        {
            "type": "scatter",
            "x": xs,
            **kpi_series(kpi, ys),
            "mode": "lines+markers",
            "name": _("факт с начала месяца"),
        }
    ]
    total = month.figures.get(kpi.pk)
    if total is not None and total.plan is not None and month.working_days:
        step = total.plan / len(month.working_days)
        traces.append(
            {
                "type": "scatter",
                "x": [d.isoformat() for d in month.working_days],
                **kpi_series(kpi, [step * (i + 1) for i in range(len(month.working_days))]),
                "mode": "lines",
                "line": {"dash": "dash"},
                "name": _("ровный темп к плану"),
            }
        )
    title = _("%(kpi)s нарастающим итогом") % {"kpi": kpi.name}
    return _figure(traces, title, month.month.start, month.month.end, **kpi_axis(kpi))


def weekly_figure(month: ManagerMonth) -> dict:
    """Week-by-week completion of every KPI, on the red/yellow/green bands."""
    traces = []
    for kpi in month.kpis:
        weeks = month.weeks.get(kpi.pk, [])
        traces.append(
            {
                "type": "scatter",
                "x": [start.isoformat() for start, _f in weeks],
                # The running week's point is its light, the pace, as in «Мои показатели».
                "y": [num(f.shown_completion) for _s, f in weeks],
                "mode": "lines+markers",
                "name": kpi.name,
            }
        )
    first = month.month.end - datetime.timedelta(weeks=TREND_WEEKS)
    return _figure(
        traces,
        _("Выполнение плана по неделям"),
        first,
        month.month.end,
        **completion_scale(),
    )
