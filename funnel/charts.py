"""Plotly figures of a funnel, from the numbers `funnel.selectors` computed."""

from django.utils.translation import gettext as _

from funnel.selectors import Funnel
from salesdesk.charts import num, titled

# Room on the left for the stage names.
MARGIN = {"l": 160, "r": 20, "t": 36, "b": 30}


def _figure(traces: list[dict], title: str, **layout: object) -> dict:
    return titled(traces, title, **{"height": 300, "margin": MARGIN, **layout})


def stages_figure(funnel: Funnel) -> dict:
    """Open deals on each stage at the period's end: a healthy pipeline bulges mid-way."""
    trace = {
        "type": "funnel",
        "y": [str(row.stage) for row in funnel.stages],
        "x": [row.open_deals for row in funnel.stages],
        "customdata": [num(row.open_value) for row in funnel.stages],
        "hovertemplate": "%{y}: %{x} · %{customdata:,.0f}<extra></extra>",
        "textinfo": "value",
    }
    return _figure([trace], _("Сделки по этапам на конец периода"))


def conversion_figure(funnel: Funnel) -> dict:
    rows = [row for row in funnel.stages if row.left]
    trace = {
        "type": "bar",
        "x": [num(row.conversion) for row in rows],
        "y": [str(row.stage) for row in rows],
        "orientation": "h",
        "text": [f"{row.moved_on}/{row.left}" for row in rows],
        "name": _("перешли дальше, %"),
    }
    return _figure(
        [trace],
        _("Конверсия из этапа в следующий"),
        xaxis={"range": [0, 100], "ticksuffix": " %"},
        yaxis={"autorange": "reversed"},
    )


def channels_figure(funnel: Funnel) -> dict:
    names = [row.channel or _("без канала") for row in funnel.channels]
    series = (("created", _("новые")), ("won", _("выиграны")), ("repeat_won", _("повторные")))
    traces = [
        {"type": "bar", "x": names, "y": [getattr(r, f) for r in funnel.channels], "name": name}
        for f, name in series
    ]
    return _figure(
        traces,
        _("Сделки по каналам привлечения"),
        barmode="group",
        margin={**MARGIN, "l": 50},
    )
