from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kpi.values import parse_value

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
