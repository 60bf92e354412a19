"""manager_plans answers exactly as period_plan and month_plan, whatever the span."""

import datetime
from decimal import Decimal

import pytest

from accounts import tenancy
from kpi import selectors, services
from kpi.calendar import calendar_for, manager_working_days
from kpi.models import KPI, Plan
from kpi.periods import month_bounds

D = Decimal
AUG, SEP, OCT = datetime.date(2026, 8, 1), datetime.date(2026, 9, 1), datetime.date(2026, 10, 1)
# Month start (a Tuesday), mid-month inside an absence, a week across September and October
# (Monday 28 September), the Sunday ending it, and the last day of a month.
DAYS = [
    SEP,
    datetime.date(2026, 9, 16),
    datetime.date(2026, 9, 28),
    datetime.date(2026, 9, 30),
    datetime.date(2026, 10, 4),
    datetime.date(2026, 8, 31),
]


def own_extra(kpi: KPI) -> Decimal:
    """What a manager's own plan adds to the role's: a fraction where the unit has one."""
    return D(7) if kpi.unit == KPI.Unit.DURATION else D("7.5")  # durations are whole seconds


@pytest.fixture
def ctx(alpha):
    with tenancy.tenant_context(alpha.company):
        yield alpha


@pytest.fixture
def planned(ctx):
    """The role's defaults and a manager's own plans, month and week, and an absence."""
    company, manager, role = ctx.company, ctx.manager, ctx.manager.sales_role
    services.role_kpi_add(
        company=company,
        sales_role=role,
        kpi=KPI.objects.get(company=company, code="avg_check"),
        effective_from=AUG,
    )
    kpis = selectors.role_kpis_on(company=company, sales_role=role, on=SEP)
    assert len(kpis) == 5 and {k.is_summed for k in kpis} == {True, False}
    for number, kpi in enumerate(kpis):
        for month in (AUG, SEP, OCT):
            value = D(310 + 10 * number + month.month)
            services.plan_set(company=company, kpi=kpi, start=month, value=value, sales_role=role)
            if number % 2 == 0 and month != OCT:
                services.plan_set(
                    company=company,
                    kpi=kpi,
                    start=month,
                    value=value + own_extra(kpi),
                    manager=manager,
                )
    monday = datetime.date(2026, 9, 28)
    calls, talk_time = (k for k in kpis if k.code in ("calls", "talk_time"))
    for kpi, target in ((calls, {"sales_role": role}), (talk_time, {"manager": manager})):
        services.plan_set(
            company=company, kpi=kpi, start=monday, value=D(99), period=Plan.Period.WEEK, **target
        )
    services.plan_set(
        company=company, kpi=calls, start=monday - datetime.timedelta(weeks=2), value=D(77),
        period=Plan.Period.WEEK, manager=manager,
    )  # fmt: skip
    services.absence_create(
        company=company,
        manager=manager,
        kind="sick",
        start=datetime.date(2026, 9, 14),
        end=datetime.date(2026, 9, 18),
    )
    return kpis


def spans(day: datetime.date) -> list[tuple[datetime.date, datetime.date]]:
    """Every span the manager's page and report form ask a plan for on that day."""
    first, last = month_bounds(day)
    monday = day - datetime.timedelta(days=day.weekday())
    sunday = monday + datetime.timedelta(days=6)
    trend = [
        (start, min(start + datetime.timedelta(days=6), day))
        for start in (monday - datetime.timedelta(weeks=w) for w in range(3))
    ]
    return [(day, day), (first, day), (first, last), (monday, sunday), (monday, day), *trend]


@pytest.mark.parametrize("day", DAYS, ids=str)
@pytest.mark.parametrize("who", [0, 1], ids=["own_plans", "role_defaults"])
def test_it_matches_period_plan_for_every_kpi_and_span(ctx, planned, day, who):
    manager = ctx.managers[who]
    calendar = calendar_for(company=ctx.company)
    plans = selectors.manager_plans(
        company=ctx.company, manager=manager, start=AUG, end=OCT, calendar=calendar
    )
    for kpi in planned:
        assert plans.month_plan(kpi, day) == selectors.month_plan(
            company=ctx.company, manager=manager, kpi=kpi, month=day
        )
        for start, end in spans(day):
            expected = selectors.period_plan(
                company=ctx.company, manager=manager, kpi=kpi, start=start, end=end
            )
            assert plans.period_plan(kpi, start, end) == expected, (kpi.code, start, end)
    assert plans.working_days(day, month_bounds(day)[1]) == manager_working_days(
        company=ctx.company, manager=manager, start=day, end=month_bounds(day)[1]
    )


def test_the_checked_cases_are_not_trivial(ctx, planned):
    """The comparison above covers a week plan, the split of a month and an absence."""
    plans = selectors.manager_plans(company=ctx.company, manager=ctx.manager, start=AUG, end=OCT)
    calls = next(k for k in planned if k.code == "calls")
    week = (datetime.date(2026, 9, 28), datetime.date(2026, 10, 4))
    assert plans.period_plan(calls, *week) == D(99)  # the role's week plan
    assert plans.period_plan(calls, datetime.date(2026, 9, 14), datetime.date(2026, 9, 20)) == D(
        77
    )  # the manager's own week plan
    assert plans.period_plan(calls, datetime.date(2026, 9, 16), datetime.date(2026, 9, 16)) == 0
    assert plans.period_plan(calls, datetime.date(2026, 9, 28), datetime.date(2026, 10, 3)) > 0


def test_it_refuses_a_span_it_did_not_read(ctx, planned):
    plans = selectors.manager_plans(company=ctx.company, manager=ctx.manager, start=SEP, end=SEP)
    with pytest.raises(ValueError):
        plans.period_plan(planned[0], datetime.date(2026, 9, 28), datetime.date(2026, 10, 4))


def test_it_reads_in_two_queries(ctx, planned, django_assert_num_queries):
    calendar = calendar_for(company=ctx.company)
    with django_assert_num_queries(2):
        selectors.manager_plans(
            company=ctx.company, manager=ctx.manager, start=AUG, end=OCT, calendar=calendar
        )
