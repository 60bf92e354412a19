"""The week's report strip: each manager's Monday to Friday, filed, missed, day off or absent."""

import datetime
from dataclasses import dataclass

from accounts.models import Company, User
from kpi.calendar import WorkCalendar
from kpi.periods import week_bounds
from reports.selectors import report_statuses

WORKWEEK = 5


@dataclass
class StripRow:
    manager: User
    days: list[str]  # a status per day (reports.selectors.report_statuses), "future" ahead

    @property
    def missed(self) -> int:
        return self.days.count("missing")


@dataclass
class ReportStrip:
    monday: datetime.date
    days: list[datetime.date]
    rows: list[StripRow]
    previous: datetime.date
    next: datetime.date | None  # None: the week holds today, nothing to move on to

    @property
    def missed(self) -> int:
        return sum(row.missed for row in self.rows)

    @property
    def has_not_joined(self) -> bool:
        return any("not_joined" in row.days for row in self.rows)


def strip_days(day: datetime.date) -> list[datetime.date]:
    """Monday to Friday of the week holding `day`."""
    monday = week_bounds(day)[0]
    return [monday + datetime.timedelta(days=i) for i in range(WORKWEEK)]


def report_strip(
    *,
    company: Company,
    managers: list[User],
    day: datetime.date,
    today: datetime.date,
    calendar: WorkCalendar,
    statuses: dict[tuple[int, datetime.date], str] | None = None,
) -> ReportStrip:
    """Monday to Friday of the week holding `day`: the same statuses as «Отчёты команды»
    (a day off is a day off, not a missed report); days after today are not judged.
    `statuses` may come from the caller when it read them for these days and others."""
    days = strip_days(day)
    monday = days[0]
    past = [d for d in days if d <= today]
    if statuses is None and past:
        ids = [m.pk for m in managers]
        statuses = report_statuses(company=company, manager_ids=ids, days=past, calendar=calendar)

    def status(manager: User, d: datetime.date) -> str:
        found = (statuses or {}).get((manager.pk, d), "future")
        # Today's report may still come: not missed until the day is over.
        return "pending" if d == today and found == "missing" else found

    rows = [StripRow(manager, [status(manager, d) for d in days]) for manager in managers]
    following = monday + datetime.timedelta(days=7)
    return ReportStrip(
        monday, days, rows, monday - datetime.timedelta(days=7),
        following if following <= today else None,
    )  # fmt: skip
