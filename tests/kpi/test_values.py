from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kpi.values import parse_plain, parse_value

D = Decimal


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("1500", "count", D(1500)),
        ("1 500", "count", D(1500)),
        ("1\u00a0500,50", "money", D("1500.50")),
        ("250 000 ₽", "money", D(250000)),
        ("85,5 %", "percent", D("85.5")),
        ("1:30:00", "duration", D(5400)),
        ("1:30", "duration", D(5400)),
        ("90 мин", "duration", D(5400)),
        ("1 ч 30 мин", "duration", D(5400)),
        ("90", "duration", D(5400)),
        ("45 сек", "duration", D(45)),
    ],
)
def test_it_reads_figures_as_people_type_them(text, unit, expected):
    assert parse_value(text, unit) == expected


@pytest.mark.parametrize(
    ("text", "unit", "message"),
    [
        ("сорок", "count", "не число"),
        ("-5", "count", "отрицательным"),
        ("1.2.3", "money", "Введите число"),
        ("полтора часа", "duration", "Не понимаю длительность"),
    ],
)
def test_bad_input_gets_a_clear_message(text, unit, message):
    with pytest.raises(ValidationError, match=message):
        parse_value(text, unit)


@pytest.mark.parametrize(
    ("text", "unit", "options", "expected"),
    [
        ("10 000", "count", {}, D(10000)),
        ("24:00:00", "duration", {}, D(86400)),
        ("1 000 000 000 000,00", "money", {}, D(10**12)),
        ("1 000 %", "percent", {}, D(1000)),
        ("310 000", "count", {"plan": True}, D(310000)),
        ("12,5", "count", {"plan": True}, D("12.5")),
        # An average (a response time) is not a day's total: it may exceed the day.
        ("30:00:00", "duration", {"aggregation": "avg"}, D(108000)),
    ],
)
def test_figures_up_to_their_bounds_are_read(text, unit, options, expected):
    assert parse_value(text, unit, **options) == expected


@pytest.mark.parametrize(
    ("text", "unit", "options", "message"),
    [
        ("1e30", "count", {}, "«1e30» — не число"),
        ("1E5", "money", {}, "не число"),
        ("NaN", "count", {}, "не число"),
        ("Infinity", "percent", {}, "не число"),
        ("1e30", "duration", {}, "Не понимаю длительность «1e30»"),
        ("10 001", "count", {}, "не больше 10\u202f000"),
        ("1,5", "count", {}, "целое число"),
        ("1500,555", "money", {}, "Не больше 2 знаков после запятой"),
        ("1 000 000 000 000,01", "money", {}, "не больше 1\u202f000\u202f000\u202f000\u202f000"),
        ("1001", "percent", {}, "не больше 1\u202f000\u00a0%"),
        ("25:00:00", "duration", {}, "не больше 24 ч"),
        ("1" * 40, "duration", {}, "не больше 24 ч"),
        ("99999999:00:00", "duration", {}, "Не понимаю длительность"),
        ("310 001", "count", {"plan": True}, "Слишком большой план"),
        ("-5", "count", {"plan": True}, "План не может быть отрицательным"),
        ("9" * 5000, "count", {}, "слишком длинное"),
    ],
)
def test_figures_beyond_their_bounds_are_refused_with_the_reason(text, unit, options, message):
    with pytest.raises(ValidationError) as refusal:
        parse_value(text, unit, **options)
    assert message in refusal.value.messages[0]


def test_a_refused_long_value_is_echoed_at_most_30_characters():
    for unit in ("count", "duration"):
        with pytest.raises(ValidationError) as refusal:
            parse_value("x" * 5000, unit)
        message = refusal.value.messages[0]
        assert "x" * 30 + "…" in message and "x" * 31 not in message
    with pytest.raises(ValidationError) as refusal:
        parse_value("y" * 35, "money")
    assert "y" * 30 + "…" in refusal.value.messages[0]


def test_the_databases_bounds_are_the_widest_of_the_units():
    from kpi.models import MAX_DAY_FIGURE, MAX_PLAN_FIGURE
    from kpi.values import BOUNDS, PLAN_DAYS

    assert max(max(b.day, b.level) for b in BOUNDS.values()) == MAX_DAY_FIGURE
    assert max(max(b.day * PLAN_DAYS, b.level) for b in BOUNDS.values()) == MAX_PLAN_FIGURE


@pytest.mark.parametrize(
    ("text", "expected"), [("5168", D(5168)), ("5168.0000", D(5168)), ("1500.50", D("1500.50"))]
)
def test_the_api_reads_plain_numbers_in_the_unit(text, expected):
    assert parse_plain(text) == expected


@pytest.mark.parametrize("text", ["1:30:00", "90 мин", "1 500,50", "1e30", "NaN", "9" * 100])
def test_the_api_refuses_anything_but_a_plain_number(text):
    with pytest.raises(ValidationError):
        parse_plain(text)
