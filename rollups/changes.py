"""The kinds of change that make stored totals stale, as writers describe them.

A writer says what it changed and passes that to `rollups.services.totals_mark` in its own
transaction; which buckets the change touches is decided there, in one place.
"""

import datetime
from dataclasses import dataclass, field

from accounts.models import SalesRole, User
from kpi.models import KPI


@dataclass(frozen=True)
class ReportChanged:
    """A report filed or one of its figures corrected (by hand or settled by a source)."""

    manager: User
    day: datetime.date


@dataclass(frozen=True)
class SourceFigureChanged:
    """A CRM's or the telephony's figure of a manager's day stored, changed or dropped, for a
    KPI whose figure of record is the source's (reports/figures.py)."""

    manager: User
    day: datetime.date


@dataclass(frozen=True)
class PlanChanged:
    """A plan set or cleared: a manager's own, or a role's default for all its managers."""

    period: str  # kpi.models.Plan.Period
    start: datetime.date
    manager: User | None = None
    sales_role: SalesRole | None = None


@dataclass(frozen=True)
class CalendarDayChanged:
    """A day of the company's calendar made working or not (or returned to the country's)."""

    date: datetime.date


@dataclass(frozen=True)
class AbsenceChanged:
    """An absence recorded or deleted: the manager's plans split over other days."""

    manager: User
    start: datetime.date
    end: datetime.date


@dataclass(frozen=True)
class RoleKPISetChanged:
    """The role's KPI set changed from a date on."""

    sales_role: SalesRole
    since: datetime.date


@dataclass(frozen=True)
class ManagerMoved:
    """A manager moved to another team or sales role, or left, or came back.

    `since`: the day a move between teams took effect, the only change (the totals before it
    stay); None: every period changes (a role brings its plans and KPIs to the whole history).
    """

    manager: User
    old_team_id: int | None
    since: datetime.date | None = None


@dataclass(frozen=True)
class ManagerJoined:
    """A new manager: their plan counts in their team's and the company's plan of every
    period that ends after they joined, reported or not (DOMAIN.md)."""

    manager: User


@dataclass(frozen=True)
class KPIChanged:
    """A KPI's definition changed; `fields` names what changed (kpi_update's field names)."""

    kpi: KPI
    fields: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class CompanyBandsChanged:
    """The company-wide colour bands changed: they colour every KPI without its own."""


Change = (
    ReportChanged
    | SourceFigureChanged
    | PlanChanged
    | CalendarDayChanged
    | AbsenceChanged
    | RoleKPISetChanged
    | ManagerMoved
    | ManagerJoined
    | KPIChanged
    | CompanyBandsChanged
)
