"""Numbers, percents and durations as the reader's language writes them (kpi.values): one
formatter for every page, explanation, chart and export."""

import datetime
from decimal import Decimal

from django.utils import translation

from accounts import tenancy
from dashboard.charts import daily_figure
from dashboard.selectors.drilldown import DayPoint, ManagerMonth
from dashboard.selectors.explain import _one_place, _plain
from kpi.bands import Band, Reading
from kpi.models import KPI
from kpi.periods import Window
from kpi.values import (
    format_call_length,
    format_clock,
    format_every,
    format_number,
    format_percent,
    format_value,
)
from salesdesk.charts import validated

NARROW = "\u202f"


def test_it_groups_thousands_and_writes_the_decimal_as_the_language_does(alpha):
    with translation.override("ru"):
        assert format_number(Decimal("1056000.00"), 2) == f"1{NARROW}056{NARROW}000,00"
        assert format_percent(Decimal("128.8"), 1) == "128,8 %"
    with translation.override("en"):
        assert format_number(Decimal("1056000.00"), 2) == "1,056,000.00"
        assert format_percent(Decimal("128.8"), 1) == "128.8%"


def test_a_kpi_figure_follows_the_language(alpha):
    company = alpha.company
    money = KPI(company=company, unit=KPI.Unit.MONEY, decimals=2)
    percent = KPI(company=company, unit=KPI.Unit.PERCENT, decimals=1)
    with translation.override("en"):
        assert format_value(Decimal("1056000"), money) == "1,056,000.00\u00a0₽"
        assert format_value(Decimal("12.5"), percent) == "12.5%"
        assert Reading(Decimal("128.4"), Decimal(128), Band.GREEN).text == "128%"
    with translation.override("ru"):
        assert format_value(Decimal("1056000"), money) == f"1{NARROW}056{NARROW}000,00\u00a0₽"
        assert Reading(Decimal("128.4"), Decimal(128), Band.GREEN).text == "128 %"


def test_an_explanation_writes_sums_and_percents_in_the_language():
    with translation.override("ru"):
        assert _plain(Decimal("206136.2500")) == f"206{NARROW}136,25"
        assert _plain(Decimal("2.0000")) == "2"
        assert _one_place(Decimal("128.84")) == "128,8"
    with translation.override("en"):
        assert _plain(Decimal("206136.2500")) == "206,136.25"
        assert _one_place(Decimal("128.84")) == "128.8"


def test_durations_are_never_raw_seconds():
    with translation.override("ru"):
        assert format_call_length(315) == "5 мин 15 с"
        assert format_call_length(45) == "45 с"
    with translation.override("en"):
        # «с» of seconds is not «from» (the msgid has its own context).
        assert format_call_length(315) == "5 min 15 s"
    assert format_clock(Decimal(90300)) == "25:05"


def test_a_duration_chart_is_drawn_in_hours_and_hovers_as_a_clock(alpha):
    with tenancy.tenant_context(alpha.company):
        talk = KPI.objects.get(company=alpha.company, code="talk_time")
    day = datetime.date(2026, 3, 2)
    march = Window("month", day.replace(day=1), datetime.date(2026, 3, 31))
    month = ManagerMonth(
        manager=alpha.manager, month=march,
        kpis=[talk], figures={}, days={talk.pk: [DayPoint(day, Decimal(5400), Decimal(3600))]},
        working_days=[day], weeks={}, reports=[],
    )  # fmt: skip
    with translation.override("ru"):
        chart = daily_figure(month, talk)
    validated(chart)
    bar = chart["data"][0]
    assert bar["y"] == [1.5] and bar["customdata"] == ["1:30"]
    assert chart["layout"]["yaxis"]["title"]["text"] == "часы"
    assert chart["layout"]["separators"] == f",{NARROW}"


def test_a_rhythm_reads_as_words_not_as_a_fraction_of_days():
    with translation.override("ru"):
        assert format_every(Decimal("9.5")) == "раз в 9–10\u00a0дней"
        assert format_every(Decimal("14")) == "раз в 14\u00a0дней"
        assert format_every(Decimal("21")) == "раз в 21\u00a0день"
        assert format_every(Decimal("2")) == "раз в 2\u00a0дня"
    with translation.override("en"):
        assert format_every(Decimal("9.5")) == "every 9–10\u00a0days"


def test_a_period_is_labelled_with_the_languages_dates():
    """Window.label is what the dashboard, funnel, print page and Excel export show."""
    day, week = (
        Window("day", datetime.date(2026, 11, 30), datetime.date(2026, 11, 30)),
        Window("week", datetime.date(2026, 11, 23), datetime.date(2026, 11, 29)),
    )
    month = Window("month", datetime.date(2026, 11, 1), datetime.date(2026, 11, 30))
    span = Window("range", datetime.date(2026, 11, 2), datetime.date(2026, 11, 30))
    with translation.override("ru"):
        assert [w.label for w in (day, week, month, span)] == [
            "30.11.2026", "неделя 23.11 – 29.11.2026", "11.2026", "02.11.2026 – 30.11.2026",
        ]  # fmt: skip
    with translation.override("en"):
        assert [w.label for w in (day, week, month, span)] == [
            "11/30/2026", "week 11/23 – 11/29/2026", "11/2026", "11/02/2026 – 11/30/2026",
        ]  # fmt: skip
