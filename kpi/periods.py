"""Weeks, months and spans of days: the calendar arithmetic every app shares.

Pure functions of dates, no database and no clock (today comes from `Company.today()`).
A week is an ISO week, Monday to Sunday; a month is a calendar month; bounds are
inclusive (`end` is the last day in it). Month arithmetic is `dateutil.relativedelta`'s: one
month after 31 January is 28 (or 29) February, never 3 March.
"""

import datetime
from collections.abc import Iterator

from dateutil.relativedelta import relativedelta

DAY, WEEK, MONTH = "day", "week", "month"

Bounds = tuple[datetime.date, datetime.date]


def week_start(day: datetime.date) -> datetime.date:
    """The Monday of the ISO week holding `day`."""
    return day - datetime.timedelta(days=day.weekday())


def week_bounds(day: datetime.date) -> Bounds:
    monday = week_start(day)
    return monday, monday + datetime.timedelta(days=6)


def is_week(start: datetime.date, end: datetime.date) -> bool:
    """[start, end] is exactly one ISO week."""
    return week_bounds(start) == (start, end)


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(day: datetime.date) -> datetime.date:
    return day + relativedelta(day=31)


def month_bounds(day: datetime.date) -> Bounds:
    return month_start(day), month_end(day)


def shift_months(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month `months` away from `day`'s (negative: back)."""
    return month_start(day) + relativedelta(months=months)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, or the month's last day where it has no such day."""
    return day + relativedelta(months=months)


def months_between(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The first day of each month that [start, end] touches."""
    months, month = [], month_start(start)
    while month <= end:
        months.append(month)
        month = shift_months(month, 1)
    return months


def period_bounds(period: str, day: datetime.date) -> Bounds:
    """The day, ISO week or month (`period`) holding `day`."""
    if period == DAY:
        return day, day
    if period == WEEK:
        return week_bounds(day)
    if period == MONTH:
        return month_bounds(day)
    raise ValueError(f"unknown period: {period!r}")


def period_start(period: str, day: datetime.date) -> datetime.date:
    return period_bounds(period, day)[0]


def days_between(start: datetime.date, end: datetime.date) -> Iterator[datetime.date]:
    """Every day of [start, end]."""
    for offset in range((end - start).days + 1):
        yield start + datetime.timedelta(days=offset)


def span_days(start: datetime.date, end: datetime.date) -> int:
    """How many days [start, end] holds."""
    return (end - start).days + 1


def span_before(start: datetime.date, end: datetime.date) -> Bounds:
    """The span of as many days that ends the day before `start`."""
    last = start - datetime.timedelta(days=1)
    return last - datetime.timedelta(days=span_days(start, end) - 1), last


def year_earlier(day: datetime.date) -> datetime.date:
    """The same date a year earlier; 29 February becomes the 28th."""
    return day - relativedelta(years=1)


def week_year_earlier(day: datetime.date) -> datetime.date:
    """The Monday of the week with the same ISO number a year earlier; week 53 maps to the
    earlier year's week 52 when that year has no 53rd."""
    year, week, _weekday = day.isocalendar()
    weeks_then = datetime.date(year - 1, 12, 28).isocalendar().week  # 28 Dec: the last week
    return datetime.date.fromisocalendar(year - 1, min(week, weeks_then), 1)
