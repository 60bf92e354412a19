"""Working days: the country's public holidays, the official transfers, the company's own days.

`holidays` knows Russia's public holidays and the days off moved onto weekdays, but not the
Saturdays made working days by decree, so its counts for 2024 and 2025 fall short of the
official production calendar. Those Saturdays ship here and every new company gets them.
"""

import datetime
from calendar import monthrange
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import holidays

from accounts.models import Company, User
from kpi.models import Absence, CalendarDay

# Saturdays made working days by the government's decrees on transferring days off.
TRANSFERRED_WORKING_DAYS = {
    "RU": {
        datetime.date(2024, 4, 27): "Рабочая суббота (перенос на 29 апреля)",
        datetime.date(2024, 11, 2): "Рабочая суббота (перенос на 3 ноября)",
        datetime.date(2024, 12, 28): "Рабочая суббота (перенос на 30 декабря)",
        datetime.date(2025, 11, 1): "Рабочая суббота (перенос на 3 ноября)",
    }
}


def month_bounds(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    return day.replace(day=1), day.replace(day=monthrange(day.year, day.month)[1])


def days_between(start: datetime.date, end: datetime.date) -> Iterable[datetime.date]:
    for offset in range((end - start).days + 1):
        yield start + datetime.timedelta(days=offset)


@dataclass
class WorkCalendar:
    """A company's working days over a span of years: country rules plus its own days."""

    country: str
    overrides: dict[datetime.date, bool]

    @cached_property
    def _public(self) -> holidays.HolidayBase:
        return holidays.country_holidays(self.country)  # fills in years as they are asked

    def is_working(self, day: datetime.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return day.weekday() < 5 and day not in self._public

    def working_days(self, start: datetime.date, end: datetime.date) -> list[datetime.date]:
        return [day for day in days_between(start, end) if self.is_working(day)]

    def holiday_name(self, day: datetime.date) -> str | None:
        return self._public.get(day)


def calendar_for(*, company: Company) -> WorkCalendar:
    overrides = dict(CalendarDay.objects.filter(company=company).values_list("date", "is_working"))
    return WorkCalendar(country=company.country, overrides=overrides)


def absent_days(
    *, company: Company, manager: User, start: datetime.date, end: datetime.date
) -> set[datetime.date]:
    days: set[datetime.date] = set()
    for absence in Absence.objects.filter(
        company=company, manager=manager, start__lte=end, end__gte=start
    ):
        days.update(days_between(max(absence.start, start), min(absence.end, end)))
    return days


def manager_working_days(
    *,
    company: Company,
    manager: User,
    start: datetime.date,
    end: datetime.date,
    calendar: WorkCalendar | None = None,
) -> list[datetime.date]:
    """The company's working days in [start, end] on which the manager is not absent."""
    calendar = calendar or calendar_for(company=company)
    absent = absent_days(company=company, manager=manager, start=start, end=end)
    return [day for day in calendar.working_days(start, end) if day not in absent]


def working_days_by_month(*, company: Company, year: int) -> dict[int, int]:
    calendar = calendar_for(company=company)
    return {
        month: len(calendar.working_days(*month_bounds(datetime.date(year, month, 1))))
        for month in range(1, 13)
    }
