import datetime
from decimal import Decimal

import pytest

from kpi.aggregation import period_value
from kpi.models import KPI

D = Decimal
MON, TUE, WED = (datetime.date(2026, 11, day) for day in (16, 17, 18))


def kpi(code: str, aggregation: str, unit: str = "count", **parts: KPI) -> KPI:
    return KPI(code=code, aggregation=aggregation, unit=unit, **parts)


def test_sum_adds_the_reported_days():
    calls = kpi("calls", "sum")
    assert period_value(calls, {MON: {"calls": D(40)}, TUE: {"calls": D(55)}}) == D(95)


def test_average_is_over_reported_days_only():
    response = kpi("response_time", "avg", "duration")
    figures = {MON: {"response_time": D(300)}, TUE: {}, WED: {"response_time": D(600)}}
    assert period_value(response, figures) == D(450)


def test_last_value_is_the_latest_reported_day():
    receivables = kpi("receivables", "last", "money")
    figures = {WED: {"receivables": D(90)}, MON: {"receivables": D(120)}, TUE: {}}
    assert period_value(receivables, figures) == D(90)


def test_ratio_is_the_ratio_of_sums_not_the_mean_of_daily_ratios():
    won, total = kpi("deals_won", "sum"), kpi("deals_sum", "sum", "money")
    check = kpi("avg_check", "ratio", "money", numerator=total, denominator=won)
    figures = {
        MON: {"deals_won": D(1), "deals_sum": D(100000)},
        TUE: {"deals_won": D(3), "deals_sum": D(60000)},
    }
    # Mean of daily checks would be (100000 + 20000) / 2 = 60000.
    assert period_value(check, figures) == D(40000)


def test_a_percent_ratio_is_in_percent():
    won, closed = kpi("deals_won", "sum"), kpi("deals_closed", "sum")
    conversion = kpi("conversion", "ratio", "percent", numerator=won, denominator=closed)
    figures = {MON: {"deals_won": D(1), "deals_closed": D(4)}}
    assert period_value(conversion, figures) == D(25)


def test_missing_days_are_missing_not_zero():
    calls = kpi("calls", "sum")
    assert period_value(calls, {}) is None
    assert period_value(calls, {MON: {"leads": D(3)}}) is None
    won, closed = kpi("deals_won", "sum"), kpi("deals_closed", "sum")
    conversion = kpi("conversion", "ratio", "percent", numerator=won, denominator=closed)
    assert period_value(conversion, {MON: {"deals_won": D(0), "deals_closed": D(0)}}) is None


def test_a_ratio_without_parts_is_an_error():
    with pytest.raises(ValueError, match="numerator"):
        period_value(kpi("broken", "ratio"), {MON: {}})
