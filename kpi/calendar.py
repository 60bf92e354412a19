"""Working days: the country's production calendar from `holidays`, and the company's own days.

`holidays` (0.109 and later) knows Russia's public holidays, the days off the government's
yearly decree moves and the weekend days it makes working in exchange, and answers
`is_working_day` with all of them. That is the country's rule here, untouched: bump the
package each autumn when the next year's decree is out. Until then that year is provisional
(`is_provisional`). On top of it a company sets its own working days and days off
(`CalendarDay`), which win; a manager's absences leave the manager's days.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache

import holidays
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Company, User
from kpi.models import Absence, CalendarDay
from kpi.periods import days_between, month_bounds
from salesdesk.statements import Statement


def _substitutions(country_calendar: holidays.HolidayBase, year: int) -> list[tuple]:
    """The year's days off moved by decree, as the package lists them: (to month, to day,
    from month, from day[, from year]). A year's entry is one tuple or a tuple of them."""
    entries = getattr(country_calendar, "special_public_holidays", {}).get(year, ())
    if entries and not isinstance(entries[0], tuple):
        entries = (entries,)
    return [entry for entry in entries if len(entry) >= 4]  # 3 items: a one-off holiday


@cache
def last_decreed_year(country: str) -> int | None:
    """The last year whose decree moving days off the installed `holidays` knows; None for a
    country that does not move days off by decree."""
    country_calendar = holidays.country_holidays(country)
    years = [
        year
        for year in getattr(country_calendar, "special_public_holidays", {})
        if _substitutions(country_calendar, year)
    ]
    return max(years, default=None)


def is_provisional(*, year: int, country: str) -> bool:
    """A year after the last decree the package knows: its days off may still move.

    The decree for a year comes out in the autumn before it, every year since 2005 has had
    one, and the package ships it in the next release; a later year has only the fixed
    holidays so far (2028 counts 250 working days where a decree usually makes it ~247).
    """
    last = last_decreed_year(country)
    return last is not None and year > last


def _package_language(supported: Iterable[str], language: str | None) -> str | None:
    """The package's language for Django's: 'en' is 'en_US' there; None is its default."""
    if not language:
        return None
    code = language.replace("-", "_")
    supported = list(supported)
    if code in supported:
        return code
    base = code.split("_")[0]
    return next((item for item in supported if item.split("_")[0] == base), None)


@cache
def _country_holidays(country: str, language: str | None = None) -> holidays.HolidayBase:
    """The country's calendar, one per process and language: it fills in each year the first
    time a day of it is asked, which took a good part of every page's time when each request
    built its own (bench/load.py --profile). Nothing writes to it but that filling in."""
    return holidays.country_holidays(country, language=language)


@lru_cache(maxsize=8192)
def _country_working(country: str, day: datetime.date) -> bool:
    """The country's answer for a day, kept for the process as its calendar is: every request
    builds its company's WorkCalendar, and asking `holidays` again was a good part of it."""
    return _country_holidays(country).is_working_day(day)


@dataclass
class WorkCalendar:
    """A company's working days: the country's rule from `holidays` plus its own days."""

    country: str
    overrides: dict[datetime.date, bool]
    # Answers already given: a page asks about the same days hundreds of times («Мои
    # показатели»: every KPI's week, month, pace and trend). An instance lives one request or
    # task (calendar_for reads the company's days each time), so nothing here goes stale.
    _answers: dict[datetime.date, bool] = field(default_factory=dict, repr=False, compare=False)
    _spans: dict[tuple[datetime.date, datetime.date], tuple[datetime.date, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @cached_property
    def _country(self) -> holidays.HolidayBase:
        return _country_holidays(self.country)

    def is_working(self, day: datetime.date) -> bool:
        answer = self._answers.get(day)
        if answer is None:
            if day in self.overrides:
                answer = self.overrides[day]
            else:
                answer = _country_working(self.country, day)
            self._answers[day] = answer
        return answer

    def working_days(self, start: datetime.date, end: datetime.date) -> list[datetime.date]:
        span = self._spans.get((start, end))
        if span is None:
            span = tuple(day for day in days_between(start, end) if self.is_working(day))
            self._spans[(start, end)] = span
        return list(span)  # the caller's own list: some add to it

    def is_decreed_working(self, day: datetime.date) -> bool:
        """A weekend day the country's decree made a working day."""
        return self._country.is_weekend(day) and self._country.is_working_day(day)

    def day_off_moved_from(self, day: datetime.date) -> datetime.date | None:
        """The day off a decreed working weekend day was moved to (2024-11-02: 30 April)."""
        if not self.is_decreed_working(day):
            return None
        for year in (day.year - 1, day.year, day.year + 1):  # a decree may move across years
            for to_month, to_day, from_month, from_day, *from_year in _substitutions(
                self._country, year
            ):
                source = datetime.date(from_year[0] if from_year else year, from_month, from_day)
                if source == day:
                    return datetime.date(year, to_month, to_day)
        return None

    def _names(self) -> holidays.HolidayBase:
        """The country's holidays named in the active language (Russian or English)."""
        language = _package_language(self._country.supported_languages, translation.get_language())
        return _country_holidays(self.country, language)

    def holiday_name(self, day: datetime.date) -> str | None:
        """The package's name of a holiday or moved day off; for a decreed working weekend
        day, where its day off went. In the active language."""
        if name := self._names().get(day):
            return name
        moved_to = self.day_off_moved_from(day)
        if moved_to is None:
            return None
        return _("Рабочий день: выходной перенесён на %(date)s") % {
            "date": date_format(moved_to, "SHORT_DATE_FORMAT")
        }


# Nearly every page reads the calendar: compiled once (salesdesk.statements).
_OVERRIDES = Statement(
    lambda company: CalendarDay.objects.filter(company=company).values_list("date", "is_working")
)


def calendar_for(*, company: Company) -> WorkCalendar:
    overrides = dict(_OVERRIDES(company=company.pk))
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
