"""The chart builders write plotly's JSON by hand (salesdesk/charts.py): plotly's own
graph_objects must accept every figure a page hands to the browser."""

import pytest

from salesdesk.charts import validated as valid
from tests.funnel.test_views import march_url


@pytest.mark.django_db
def test_the_funnel_charts_are_valid_plotly(client, known_funnel):
    client.force_login(known_funnel.cast.head)
    context = client.get(march_url(manager=known_funnel.manager.code)).context
    stages = valid(context["stages_chart"])
    assert list(stages.data[0].y) == [row.stage.name for row in context["funnel"].stages]
    conversion = valid(context["conversion_chart"])
    assert conversion.layout.yaxis.autorange == "reversed"
    channels = valid(context["channels_chart"])
    assert [trace.name for trace in channels.data] == ["новые", "выиграны", "повторные"]
    assert channels.layout.margin.l == 50
