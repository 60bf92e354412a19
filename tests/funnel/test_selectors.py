import datetime
from decimal import Decimal

import pytest

from accounts import tenancy
from funnel.selectors import FunnelScope, funnel_of
from kpi.calendar import calendar_for
from tests.funnel.conftest import END, START

TODAY = datetime.date(2026, 4, 15)


def march(known_funnel, **scope):
    cast = known_funnel.cast
    with tenancy.tenant_context(cast.company):
        return funnel_of(
            scope=FunnelScope(company=cast.company, **scope), start=START, end=END, today=TODAY
        )


@pytest.mark.django_db
def test_it_computes_conversion_length_and_velocity_by_hand(known_funnel):
    funnel = march(known_funnel, manager=known_funnel.manager)
    assert (funnel.created, funnel.won, funnel.lost) == (5, 2, 2)
    assert funnel.conversion == Decimal("50.0")
    assert funnel.won_sum == Decimal(300000)
    assert funnel.average_won == Decimal(150000)
    assert funnel.deal_length == Decimal("11.25")
    assert (funnel.time_to_win, funnel.time_to_loss) == (Decimal(19), Decimal("3.5"))
    assert (funnel.open_deals, funnel.open_value) == (2, Decimal(110000))
    assert funnel.velocity == Decimal("13333.33")
    with tenancy.tenant_context(known_funnel.cast.company):
        working = len(calendar_for(company=known_funnel.cast.company).working_days(START, END))
    assert funnel.velocity_month == (Decimal("13333.33") * working).quantize(Decimal("0.01"))
    assert funnel.loss_reasons == [("Дорого", 1), ("Нет бюджета", 1)]


@pytest.mark.django_db
def test_it_computes_stage_conversion_and_time_in_stage_by_hand(known_funnel):
    funnel = march(known_funnel, manager=known_funnel.manager)
    rows = [
        (row.left, row.moved_on, row.conversion, row.days_in_stage, row.open_deals, row.open_value)
        for row in funnel.stages
    ]
    assert rows == [
        (4, 3, Decimal("75.0"), Decimal(2), 1, Decimal(30000)),
        (3, 2, Decimal("66.7"), Decimal(11), 0, Decimal(0)),
        (1, 1, Decimal("100.0"), Decimal(2), 1, Decimal(80000)),
        (0, 0, None, None, 0, Decimal(0)),
        (0, 0, None, None, 0, Decimal(0)),
    ]


@pytest.mark.django_db
def test_it_splits_deals_and_repeat_sales_by_channel(known_funnel):
    funnel = march(known_funnel, manager=known_funnel.manager)
    rows = {
        row.channel: (row.created, row.won, row.lost, row.won_sum, row.repeat_won, row.conversion)
        for row in funnel.channels
    }
    assert rows == {
        "Рекомендация": (1, 1, 0, Decimal(200000), 1, Decimal("100.0")),
        "Сайт": (3, 1, 1, Decimal(100000), 0, Decimal("50.0")),
        "Холодный звонок": (1, 0, 1, Decimal(0), 0, Decimal("0.0")),
    }
    assert funnel.channels[0].channel == "Рекомендация"


@pytest.mark.django_db
def test_one_channel_is_a_funnel_of_its_own_without_a_coverage(known_funnel):
    funnel = march(known_funnel, manager=known_funnel.manager, channel="Сайт")
    assert (funnel.created, funnel.won, funnel.lost, funnel.open_deals) == (3, 1, 1, 1)
    assert funnel.deal_length == Decimal(8)
    assert funnel.coverage is None


@pytest.mark.django_db
def test_the_coverage_compares_the_open_pipeline_with_the_rest_of_the_revenue_plan(known_funnel):
    funnel = march(known_funnel, manager=known_funnel.manager)
    assert (funnel.revenue_plan, funnel.revenue_actual) == (Decimal(400000), Decimal(100000))
    assert funnel.remaining_plan == Decimal(300000)
    assert funnel.coverage == Decimal("0.37")
    assert funnel.coverage_health == "low"


@pytest.mark.django_db
def test_a_team_and_the_company_hold_the_manager_and_an_earlier_month_holds_other_deals(
    known_funnel,
):
    cast = known_funnel.cast
    team = march(known_funnel, team=cast.team)
    company = march(known_funnel)
    assert (team.won, team.lost, company.won, company.lost) == (2, 2, 2, 2)
    with tenancy.tenant_context(cast.company):
        february = funnel_of(
            scope=FunnelScope(company=cast.company, manager=known_funnel.manager),
            start=datetime.date(2026, 2, 1), end=datetime.date(2026, 2, 28), today=TODAY,
        )  # fmt: skip
    # Only D3 existed in February: created on the 20th, on s1 from the 25th.
    assert (february.created, february.won, february.open_deals) == (1, 0, 1)
    assert february.conversion is None and february.velocity is None
    assert [row.open_deals for row in february.stages][:2] == [0, 1]


@pytest.mark.django_db
def test_expected_payments_count_open_deals_due_next_month(known_funnel):
    cast = known_funnel.cast
    with tenancy.tenant_context(cast.company):
        from crm_sync.models import Deal

        Deal.objects.filter(company=cast.company, external_id="D4").update(
            expected_payment_on=datetime.date(2026, 5, 20)
        )
        Deal.objects.filter(company=cast.company, external_id="D5").update(
            expected_payment_on=datetime.date(2026, 6, 1)
        )
    funnel = march(known_funnel, manager=known_funnel.manager)
    assert funnel.expected_month == datetime.date(2026, 5, 1)
    assert (funnel.expected_count, funnel.expected_sum) == (1, Decimal(80000))


@pytest.mark.django_db
def test_another_company_sees_none_of_the_deals(known_funnel, beta):
    with tenancy.tenant_context(beta.company):
        funnel = funnel_of(
            scope=FunnelScope(company=beta.company), start=START, end=END, today=TODAY
        )
    assert (funnel.created, funnel.won, funnel.lost, funnel.open_deals) == (0, 0, 0, 0)
