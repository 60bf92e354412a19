"""Weeks, months, spans of days and the windows pages show: the calendar arithmetic every
app shares.

Pure functions of dates, no database and no clock (today comes from `Company.today()`).
A week is an ISO week, Monday to Sunday; a month is a calendar month; bounds are
inclusive (`end` is the last day in it). Month arithmetic is `dateutil.relativedelta`'s: one
month after 31 January is 28 (or 29) February, never 3 March.
"""

import calendar
import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Self

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

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
    return start.weekday() == 0 and (end - start).days == 6


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(day: datetime.date) -> datetime.date:
    # Plain arithmetic, not relativedelta: a page asks this hundreds of times («Мои
    # показатели»: every KPI's week, month and trend plan), and relativedelta's object was
    # the costliest part of a plan's split (bench/request_cost.py).
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_bounds(day: datetime.date) -> Bounds:
    return month_start(day), month_end(day)


def shift_months(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month `months` away from `day`'s (negative: back)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return datetime.date(year, month + 1, 1)


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


# The period a page shows: a day, an ISO week, a calendar month or a custom range; the
# previous period and the same period a year earlier are what the dashboard compares with.

KINDS = ("day", "week", "month", "range")
DEFAULT_KIND = "week"
# A custom range is summed from daily totals: longer than this, pick months instead.
MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class Window:
    kind: str
    start: datetime.date
    end: datetime.date

    @classmethod
    def around(cls, kind: str, day: datetime.date) -> Self:
        """The day, week or month that holds `day`."""
        if kind == "day":
            return cls("day", day, day)
        if kind == "week":
            return cls("week", *week_bounds(day))
        return cls("month", *month_bounds(day))

    @property
    def is_bucket(self) -> bool:
        """Stored totals exist for exactly this period (not for a custom range)."""
        return self.kind != "range"

    @property
    def days(self) -> int:
        return span_days(self.start, self.end)

    def previous(self) -> Self:
        if self.kind == "range":
            return type(self)("range", *span_before(self.start, self.end))
        return self.around(self.kind, self.start - datetime.timedelta(days=1))

    def year_earlier(self) -> Self:
        if self.kind == "week":
            return self.around("week", week_year_earlier(self.start))
        if self.kind == "range":
            return type(self)("range", year_earlier(self.start), year_earlier(self.end))
        return self.around(self.kind, year_earlier(self.start))

    def so_far(self, window: "Window", today: datetime.date) -> "Window":
        """This earlier window cut to as many days as `window` has run by today, so that a
        running period is compared with the same stretch of the earlier one."""
        if not window.contains(today):
            return self
        end = min(self.end, self.start + (today - window.start))
        return self if end == self.end else type(self)("range", self.start, end)

    def contains(self, day: datetime.date) -> bool:
        return self.start <= day <= self.end

    def query(self) -> str:
        """The query string that shows this window again."""
        if self.kind == "range":
            return f"period=range&start={self.start.isoformat()}&end={self.end.isoformat()}"
        return f"period={self.kind}&start={self.start.isoformat()}"

    @property
    def label(self) -> str:
        from kpi.values import format_date, format_month  # kpi.values imports kpi.models

        if self.kind == "day":
            return format_date(self.start)
        if self.kind == "week":
            return _("неделя %(start)s – %(end)s") % {
                "start": format_date(self.start, year=False),
                "end": format_date(self.end),
            }
        if self.kind == "month":
            return format_month(self.start)
        return f"{format_date(self.start)} – {format_date(self.end)}"


def window_parse(params: dict[str, str], *, today: datetime.date) -> Window:
    """The window a query string asks for; a ValidationError in the user's words otherwise."""
    kind = params.get("period") or DEFAULT_KIND
    if kind not in KINDS:
        raise ValidationError(_("Неизвестный период: выберите день, неделю, месяц или диапазон."))
    try:
        start = datetime.date.fromisoformat(params["start"]) if params.get("start") else today
        end = datetime.date.fromisoformat(params["end"]) if params.get("end") else None
    except ValueError as error:
        raise ValidationError(_("Дата должна быть в виде ГГГГ-ММ-ДД.")) from error
    if kind != "range":
        return Window.around(kind, start)
    if end is None:
        raise ValidationError(_("Укажите конец диапазона."))
    if end < start:
        raise ValidationError(_("Конец диапазона раньше его начала."))
    if span_days(start, end) > MAX_RANGE_DAYS:
        raise ValidationError(
            _("Диапазон длиннее %(days)d дней: выберите месяцы по отдельности.")
            % {"days": MAX_RANGE_DAYS}
        )
    return Window("range", start, end)
