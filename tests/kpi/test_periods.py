"""kpi.periods: the one home of weeks, months and spans, at their edges."""

import datetime

import pytest

from kpi import periods
from kpi.periods import Window

D = datetime.date


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 28)),  # no 31 February: the month's last day
        (D(2028, 1, 31), 1, D(2028, 2, 29)),  # a leap year
        (D(2026, 3, 31), -1, D(2026, 2, 28)),
        (D(2026, 12, 15), 1, D(2027, 1, 15)),  # December → January
        (D(2027, 1, 15), -1, D(2026, 12, 15)),
        (D(2026, 5, 31), 12, D(2027, 5, 31)),
        (D(2026, 8, 31), -18, D(2025, 2, 28)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_month_s_last(day, months, expected):
    assert periods.add_months(day, months) == expected


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 1)),
        (D(2026, 12, 31), 1, D(2027, 1, 1)),  # December → January
        (D(2027, 1, 1), -1, D(2026, 12, 1)),  # January → December
        (D(2026, 3, 31), -1, D(2026, 2, 1)),
        (D(2026, 6, 15), -11, D(2025, 7, 1)),  # the clients' 12-month window
        (D(2026, 6, 15), 0, D(2026, 6, 1)),
        (D(2026, 6, 15), -30, D(2023, 12, 1)),
    ],
)
def test_shift_months_lands_on_the_first(day, months, expected):
    assert periods.shift_months(day, months) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 2, 14), (D(2026, 2, 1), D(2026, 2, 28))),
        (D(2028, 2, 29), (D(2028, 2, 1), D(2028, 2, 29))),
        (D(2026, 12, 31), (D(2026, 12, 1), D(2026, 12, 31))),
        (D(2026, 4, 1), (D(2026, 4, 1), D(2026, 4, 30))),
    ],
)
def test_month_bounds(day, expected):
    assert periods.month_bounds(day) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 12, 6), (D(2026, 11, 30), D(2026, 12, 6))),  # a Sunday
        (D(2026, 11, 30), (D(2026, 11, 30), D(2026, 12, 6))),  # a Monday
        (D(2026, 12, 31), (D(2026, 12, 28), D(2027, 1, 3))),  # ISO week 53 of 2026
        (D(2027, 1, 1), (D(2026, 12, 28), D(2027, 1, 3))),  # still 2026's week 53
        (D(2025, 12, 31), (D(2025, 12, 29), D(2026, 1, 4))),  # week 1 of 2026
    ],
)
def test_week_bounds_are_iso_weeks_across_months_and_years(day, expected):
    assert periods.week_bounds(day) == expected
    assert periods.is_week(*expected)


def test_iso_week_53_exists_in_2026_and_2020():
    assert D(2026, 12, 31).isocalendar().week == 53
    assert D(2020, 12, 31).isocalendar().week == 53


@pytest.mark.parametrize(
    ("monday", "expected"),
    [
        (D(2026, 12, 28), D(2025, 12, 22)),  # week 53 → 2025 has 52 weeks: its week 52
        (D(2021, 1, 4), D(2019, 12, 30)),  # week 1 → week 1 (2020 began on a Wednesday)
        (D(2026, 6, 1), D(2025, 6, 2)),  # week 23 → week 23
        (D(2021, 12, 27), D(2020, 12, 21)),  # week 52 of 2021 → week 52 of 2020 (not 53)
    ],
)
def test_week_year_earlier_has_the_same_iso_number(monday, expected):
    assert periods.week_year_earlier(monday) == expected
    assert expected.weekday() == 0


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2028, 2, 29), D(2027, 2, 28)),
        (D(2027, 1, 1), D(2026, 1, 1)),
        (D(2026, 12, 31), D(2025, 12, 31)),
    ],
)
def test_year_earlier(day, expected):
    assert periods.year_earlier(day) == expected


@pytest.mark.parametrize(
    ("period", "day", "expected"),
    [
        ("day", D(2026, 12, 31), (D(2026, 12, 31), D(2026, 12, 31))),
        ("week", D(2026, 12, 31), (D(2026, 12, 28), D(2027, 1, 3))),
        ("month", D(2026, 12, 31), (D(2026, 12, 1), D(2026, 12, 31))),
    ],
)
def test_period_bounds(period, day, expected):
    assert periods.period_bounds(period, day) == expected
    assert periods.period_start(period, day) == expected[0]


def test_an_unknown_period_is_refused():
    with pytest.raises(ValueError, match="quarter"):
        periods.period_bounds("quarter", D(2026, 1, 1))


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2026, 1, 31), D(2026, 1, 31), [D(2026, 1, 1)]),
        (D(2026, 11, 30), D(2027, 1, 3), [D(2026, 11, 1), D(2026, 12, 1), D(2027, 1, 1)]),
        (D(2026, 12, 1), D(2026, 12, 31), [D(2026, 12, 1)]),
    ],
)
def test_months_between(start, end, expected):
    assert periods.months_between(start, end) == expected


def test_spans():
    assert list(periods.days_between(D(2026, 12, 30), D(2027, 1, 2))) == [
        D(2026, 12, 30), D(2026, 12, 31), D(2027, 1, 1), D(2027, 1, 2),
    ]  # fmt: skip
    assert list(periods.days_between(D(2026, 1, 2), D(2026, 1, 1))) == []
    assert periods.span_days(D(2028, 2, 1), D(2028, 2, 29)) == 29
    assert periods.span_before(D(2026, 3, 1), D(2026, 3, 10)) == (D(2026, 2, 19), D(2026, 2, 28))


@pytest.mark.parametrize(
    ("window", "previous", "year_earlier"),
    [
        (
            Window.around("month", D(2027, 1, 15)),
            Window("month", D(2026, 12, 1), D(2026, 12, 31)),
            Window("month", D(2026, 1, 1), D(2026, 1, 31)),
        ),
        (
            Window.around("week", D(2027, 1, 1)),
            Window("week", D(2026, 12, 21), D(2026, 12, 27)),
            Window("week", D(2025, 12, 22), D(2025, 12, 28)),
        ),
        (
            Window("range", D(2028, 2, 20), D(2028, 2, 29)),
            Window("range", D(2028, 2, 10), D(2028, 2, 19)),
            Window("range", D(2027, 2, 20), D(2027, 2, 28)),
        ),
    ],
)
def test_the_dashboard_s_windows_use_it(window, previous, year_earlier):
    assert window.previous() == previous
    assert window.year_earlier() == year_earlier


def test_month_arithmetic_agrees_with_relativedelta_over_years():
    """month_end and shift_months are plain arithmetic (they are asked hundreds of times a
    page): the same answers as dateutil's relativedelta, which the module's rule names."""
    from dateutil.relativedelta import relativedelta

    day = D(2023, 1, 1)
    while day < D(2030, 1, 1):
        assert periods.month_end(day) == day + relativedelta(day=31)
        for months in (-25, -13, -12, -1, 0, 1, 11, 12, 30):
            assert periods.shift_months(day, months) == day.replace(day=1) + relativedelta(
                months=months
            )
        day += datetime.timedelta(days=1)
