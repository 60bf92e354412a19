"""The chart builders write plotly's JSON by hand (salesdesk/charts.py): plotly's own
graph_objects must accept every figure a page hands to the browser."""

from django.urls import reverse

from accounts import tenancy
from rollups import services as rollup_services
from salesdesk.charts import validated as valid
from tests.dashboard.conftest import file_report


def test_the_drill_down_and_my_page_charts_are_valid_plotly(client, known):
    cast = known.cast
    with tenancy.tenant_context(cast.company):
        file_report(
            cast, cast.managers[0], known.days[0],
            {"calls": "120", "long_calls": "60", "leads": "1", "talk_time": "1:00:00"},
        )  # fmt: skip
    rollup_services.rollup_run(company_id=cast.company.pk)
    client.force_login(cast.head)
    url = reverse("dashboard-manager", args=[cast.managers[0].code])
    context = client.get(url + f"?month={known.start.isoformat()}").context
    daily = valid(context["daily_chart"])
    assert [trace.type for trace in daily.data] == ["bar", "scatter"]
    assert 120.0 in daily.data[0].y  # the filed day's calls
    weekly = valid(context["weekly_chart"])
    assert [shape.y0 for shape in weekly.layout.shapes] == [0, 60, 80]
    assert [trace.name for trace in weekly.data] == [k.name for k in context["data"].kpis]
    valid(context["cumulative_chart"])
    valid(context["funnel_chart"])

    client.force_login(cast.managers[0])
    trend = valid(client.get(reverse("my-kpis")).context["chart"])
    assert trend.layout.yaxis.title.text == "выполнение, %"
    assert len(trend.layout.shapes) == 3 and trend.data
