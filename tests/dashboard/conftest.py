"""A known month for the dashboard tests, with every figure computed by hand.

Three months back (a closed-to-nobody, finished month, so no pace is involved), the alpha
cast's three hunters have the role's default plans (calls 1000, leads 100 a month) and
report on the month's first two working days:

| manager | day 1 calls/long/leads/talk time | day 2 calls/long/leads/talk | calls | completion |
|---|---|---|---|---|
| A = managers[0] | 100 / 60 / 1 / 1:00:00 | 200 / 90 / 1 / 0:30:00 | 300  | 30 % red |
| B = managers[1] | 600 / 100 / 10 / 1:00:00 | 500 / 100 / 10 / 1:00:00 | 1100 | 110 % green |
| C = managers[2] | 700 / 100 / 5 / 1:00:00 | — | 700 | 70 % yellow |

Team: calls 2100 of 3000 (70 %, yellow), long calls 450, leads 27; one of three managers
meets the calls plan (33.3 %: the plans look too high).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest

from accounts import tenancy
from kpi import services as kpi_services
from kpi.calendar import calendar_for
from kpi.models import KPI
from kpi.periods import month_bounds
from reports import services as report_services
from rollups import services as rollup_services
from tests.conftest import Cast

DAYS = {
    0: [("100", "60", "1", "1:00:00"), ("200", "90", "1", "0:30:00")],
    1: [("600", "100", "10", "1:00:00"), ("500", "100", "10", "1:00:00")],
    2: [("700", "100", "5", "1:00:00")],
}


@dataclass
class KnownMonth:
    cast: Cast
    start: datetime.date
    end: datetime.date
    days: list[datetime.date]  # the month's first two working days
    working_days: int


def file_report(cast: Cast, manager, day: datetime.date, values: dict) -> None:
    existing = manager.daily_reports.filter(date=day).first()
    report_services.report_submit(
        company=cast.company, manager=manager, day=day, values=values, actor=cast.admin,
        version=existing.version if existing else 0, confirmed=True, reason="тестовые данные",
    )  # fmt: skip


@pytest.fixture
def known(alpha) -> KnownMonth:
    today = alpha.company.today()
    month = today.replace(day=1)
    for _step in range(3):
        month = (month - datetime.timedelta(days=1)).replace(day=1)
    start, end = month_bounds(month)
    with tenancy.tenant_context(alpha.company):
        calendar = calendar_for(company=alpha.company)
        working = calendar.working_days(start, end)
        role = alpha.manager.sales_role
        for code, value in {"calls": 1000, "leads": 100}.items():
            kpi_services.plan_set(
                company=alpha.company, kpi=KPI.objects.get(company=alpha.company, code=code),
                start=start, value=Decimal(value), sales_role=role,
            )  # fmt: skip
        for index, rows in DAYS.items():
            for day, (calls, long_calls, leads, talk) in zip(working, rows, strict=False):
                file_report(
                    alpha, alpha.managers[index], day,
                    {"calls": calls, "long_calls": long_calls, "leads": leads, "talk_time": talk},
                )  # fmt: skip
    rollup_services.rollup_run(company_id=alpha.company.pk)
    return KnownMonth(alpha, start, end, working[:2], len(working))
