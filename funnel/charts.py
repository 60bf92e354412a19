"""Plotly figures of a funnel, from the numbers `funnel.selectors` computed."""

import json
from decimal import Decimal

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from funnel.selectors import Funnel

LAYOUT = {
    "height": 300,
    "margin": {"l": 160, "r": 20, "t": 36, "b": 30},
    "legend": {"orientation": "h", "y": -0.2},
}


def _json(figure: go.Figure, title: str) -> dict:
    figure.update_layout(**LAYOUT, title={"text": title, "font": {"size": 14}})
    return json.loads(figure.to_json())


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def stages_figure(funnel: Funnel) -> dict:
    """Open deals on each stage at the period's end: a healthy pipeline bulges mid-way."""
    figure = go.Figure(
        go.Funnel(
            y=[row.stage.name for row in funnel.stages],
            x=[row.open_deals for row in funnel.stages],
            customdata=[_num(row.open_value) for row in funnel.stages],
            hovertemplate="%{y}: %{x} · %{customdata:,.0f}<extra></extra>",
            textinfo="value",
        )
    )
    return _json(figure, _("Сделки по этапам на конец периода"))


def conversion_figure(funnel: Funnel) -> dict:
    rows = [row for row in funnel.stages if row.left]
    figure = go.Figure(
        go.Bar(
            x=[_num(row.conversion) for row in rows],
            y=[row.stage.name for row in rows],
            orientation="h",
            text=[f"{row.moved_on}/{row.left}" for row in rows],
            name=_("перешли дальше, %"),
        )
    )
    figure.update_xaxes(range=[0, 100], ticksuffix=" %")
    figure.update_yaxes(autorange="reversed")
    return _json(figure, _("Конверсия из этапа в следующий"))


def channels_figure(funnel: Funnel) -> dict:
    names = [row.channel or _("без канала") for row in funnel.channels]
    figure = go.Figure()
    figure.add_trace(go.Bar(x=names, y=[row.created for row in funnel.channels], name=_("новые")))
    figure.add_trace(go.Bar(x=names, y=[row.won for row in funnel.channels], name=_("выиграны")))
    figure.add_trace(
        go.Bar(x=names, y=[row.repeat_won for row in funnel.channels], name=_("повторные"))
    )
    figure.update_layout(barmode="group")
    figure = _json(figure, _("Сделки по каналам привлечения"))
    figure["layout"]["margin"]["l"] = 50
    return figure
