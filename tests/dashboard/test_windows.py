import datetime

import pytest
from django.core.exceptions import ValidationError

from kpi.periods import Window, window_parse

TODAY = datetime.date(2026, 12, 2)  # a Wednesday


def test_it_reads_a_week_from_any_of_its_days():
    window = window_parse({"period": "week", "start": "2026-12-05"}, today=TODAY)
    assert (window.start, window.end) == (datetime.date(2026, 11, 30), datetime.date(2026, 12, 6))


def test_the_default_is_the_running_week():
    assert window_parse({}, today=TODAY) == Window(
        "week", datetime.date(2026, 11, 30), datetime.date(2026, 12, 6)
    )


def test_previous_and_a_year_earlier():
    month = Window.around("month", TODAY)
    assert month.previous() == Window(
        "month", datetime.date(2026, 11, 1), datetime.date(2026, 11, 30)
    )
    assert month.year_earlier() == Window(
        "month", datetime.date(2025, 12, 1), datetime.date(2025, 12, 31)
    )
    week = Window.around("week", TODAY)  # ISO week 49 of 2026
    assert week.year_earlier().start == datetime.date.fromisocalendar(2025, 49, 1)
    span = Window("range", datetime.date(2026, 11, 10), datetime.date(2026, 11, 19))
    assert span.previous() == Window(
        "range", datetime.date(2026, 10, 31), datetime.date(2026, 11, 9)
    )
    leap = Window("range", datetime.date(2028, 2, 29), datetime.date(2028, 3, 1))
    assert leap.year_earlier().start == datetime.date(2027, 2, 28)


def test_a_running_period_is_compared_with_the_same_stretch_of_the_one_before():
    month = Window.around("month", TODAY)
    assert month.previous().so_far(month, TODAY) == Window(
        "range", datetime.date(2026, 11, 1), datetime.date(2026, 11, 2)
    )
    past = Window.around("month", datetime.date(2026, 10, 15))
    assert past.previous().so_far(past, TODAY) == past.previous()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "year"}, "Неизвестный период"),
        ({"period": "week", "start": "02.12.2026"}, "ГГГГ-ММ-ДД"),
        ({"period": "range", "start": "2026-12-01"}, "конец диапазона"),
        ({"period": "range", "start": "2026-12-01", "end": "2026-11-01"}, "раньше его начала"),
        ({"period": "range", "start": "2024-01-01", "end": "2026-01-01"}, "длиннее 366 дней"),
    ],
)
def test_bad_periods_are_refused_in_russian(params, message):
    with pytest.raises(ValidationError) as error:
        window_parse(params, today=TODAY)
    assert message in error.value.messages[0]
