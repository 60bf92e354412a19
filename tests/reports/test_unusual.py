"""«Намного больше обычного»: asked only when a figure really is unusual for the KPI."""

import datetime
from decimal import Decimal
from statistics import quantiles

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import SalesRole, User
from kpi.models import KPI
from reports import selectors, services
from reports.models import DailyReport, ReportValue
from tests.reports.conftest import working_day_before

D = Decimal
HX = {"HX-Request": "true"}
# A closer's days: most without a deal, a deal of 60–110 thousand now and then, two deals
# twice. The median of the last 20 days was 0, so every real deal sum asked.
DEAL_SUMS = [0, 0, 85000, 0, 0, 0, 62000, 0, 170000, 0, 0, 98000, 0, 0, 0, 75000, 0, 0, 110000]
DEAL_SUMS += [0, 0, 160000, 0, 91000, 0, 0, 0, 70000, 0, 0]


@pytest.fixture
def closer(ctx, today):
    closer = ctx.managers[2]
    User.objects.filter(pk=closer.pk).update(
        sales_role=SalesRole.objects.get(company=ctx.company, kind="closer")
    )
    closer.refresh_from_db()
    kpis = {k.code: k for k in KPI.objects.filter(company=ctx.company)}
    for back, deal_sum in enumerate(DEAL_SUMS, start=1):
        day = working_day_before(today, ctx, back)
        at = datetime.datetime.combine(day, datetime.time(18), tzinfo=datetime.UTC)
        report = DailyReport(company=ctx.company, manager=closer, date=day, submitted_at=at)
        report.save()
        deals = 0 if not deal_sum else (2 if deal_sum > 150000 else 1)
        for code, value in {"meetings": 2, "deals_won": deals, "deals_sum": deal_sum}.items():
            ReportValue(company=ctx.company, report=report, kpi=kpis[code], value=D(value)).save()
    return closer


def plain(text: str) -> str:
    """Money is formatted with no-break spaces; the tests read it with plain ones."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def submit(ctx, closer, today, deal_sum, deals="1", **options):
    values = {"meetings": "2", "deals_won": deals, "deals_sum": deal_sum}
    return services.report_submit(
        company=ctx.company, manager=closer, day=today, values=values, actor=closer, **options
    )


@pytest.mark.parametrize(("deal_sum", "deals"), [("95 000", "1"), ("260 000", "3"), ("0", "0")])
def test_a_closers_real_deal_sum_does_not_ask(ctx, closer, today, deal_sum, deals):
    assert submit(ctx, closer, today, deal_sum, deals).created


@pytest.mark.parametrize("deal_sum", ["950 000", "95 000 000"])
def test_a_deal_sum_with_an_extra_zero_or_three_asks(ctx, closer, today, deal_sum):
    with pytest.raises(services.NeedsConfirmation) as question:
        submit(ctx, closer, today, deal_sum)
    text = plain(question.value.questions["deals_sum"])
    assert "намного больше обычного" in text
    assert "обычно около 0,00" not in text and "обычно около 91 000,00 ₽" in text
    assert set(question.value.questions) == {"deals_sum"}  # one deal is a usual count
    assert not DailyReport.objects.filter(manager=closer, date=today).exists()
    assert submit(ctx, closer, today, deal_sum, confirmed=True).created


def test_the_usual_is_never_zero_and_needs_a_history(ctx, closer, today):
    kpi = KPI.objects.get(company=ctx.company, code="deals_sum")
    usual = selectors.usual_values(company=ctx.company, manager=closer, kpis=[kpi], before=today)
    assert usual[kpi.pk].typical == D(91000)  # the median of the days with a deal
    assert selectors.usual_of([D(0)] * 30 + [D(50000)] * 4) is None  # four deals: too few
    assert selectors.usual_of([D(0)] * 40) is None
    assert not selectors.is_unusual(D(1), selectors.usual_of([D(0)] * 40))


def test_the_live_check_asks_the_same_question(client, ctx, closer, today):
    client.force_login(closer)
    url = reverse("report-check", args=[today.isoformat()])
    values = {"meetings": "2", "deals_won": "1"}
    headers = {**HX, "HX-Trigger-Name": "deals_sum"}
    normal = client.post(url, {**values, "deals_sum": "95000"}, headers=headers)
    assert "больше обычного" not in normal.content.decode()
    typo = client.post(url, {**values, "deals_sum": "950000"}, headers=headers)
    assert "намного больше обычного (обычно около 91 000,00 ₽)" in plain(typo.content.decode())


@given(
    st.lists(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**9), places=2),
        min_size=2,
        max_size=60,
    ),
    st.integers(min_value=1, max_value=99),
)
def test_the_one_percentile_is_statistics_quantiles_cut(figures, percent):
    """usual_of computes the one cut it needs: the very Decimal statistics.quantiles gives."""
    ordered = sorted(figures)
    expected = Decimal(quantiles(ordered, n=100, method="inclusive")[percent - 1])
    found = selectors._percentile(ordered, percent)
    assert (found, str(found)) == (expected, str(expected))
