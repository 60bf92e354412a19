"""The chart builders write plotly's JSON by hand (salesdesk/charts.py): plotly's own
graph_objects must accept every figure a page hands to the browser."""

from django.urls import reverse

from salesdesk.charts import validated as valid


def charts_are_valid_plotly(context) -> None:
    """The drill-down's figures (test_views files a report of 120 calls before asking)."""
    daily = valid(context["daily_chart"])
    assert [trace.type for trace in daily.data] == ["bar", "scatter"]
    assert 120.0 in daily.data[0].y  # the filed day's calls
    weekly = valid(context["weekly_chart"])
    assert [shape.y0 for shape in weekly.layout.shapes] == [0, 60, 80]
    assert [trace.name for trace in weekly.data] == [k.name for k in context["data"].kpis]
    valid(context["cumulative_chart"])
    valid(context["funnel_chart"])


def test_my_page_chart_is_valid_plotly(client, known):
    client.force_login(known.cast.managers[0])
    trend = valid(client.get(reverse("my-kpis")).context["chart"])
    assert trend.layout.yaxis.title.text == "выполнение, %"
    assert len(trend.layout.shapes) == 3 and trend.data
