"""A manager's daily figures read back from reports, the shape kpi.aggregation works on."""

import datetime
from decimal import Decimal

from accounts.models import Company, User
from reports.models import ReportValue


def daily_figures(
    *, company: Company, manager: User, start: datetime.date, end: datetime.date
) -> dict[datetime.date, dict[str, Decimal]]:
    figures: dict[datetime.date, dict[str, Decimal]] = {}
    rows = ReportValue.objects.filter(
        company=company,
        report__manager=manager,
        report__date__gte=start,
        report__date__lte=end,
    ).values_list("report__date", "kpi__code", "value")
    for day, code, value in rows:
        figures.setdefault(day, {})[code] = value
    return figures
