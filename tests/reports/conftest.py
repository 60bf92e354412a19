import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import tenancy
from kpi import services as kpi_services
from kpi.models import KPI


@pytest.fixture
def ctx(alpha):
    with tenancy.tenant_context(alpha.company):
        yield alpha


@pytest.fixture
def today(alpha) -> datetime.date:
    return alpha.company.today()


@pytest.fixture
def hunter_plans(ctx, today):
    """Plans for the hunter set of the cast's managers this month."""
    for code, value in {"calls": 1200, "long_calls": 500, "talk_time": 108000, "leads": 80}.items():
        kpi_services.plan_set(
            company=ctx.company,
            kpi=KPI.objects.get(company=ctx.company, code=code),
            start=today,
            value=Decimal(value),
            sales_role=ctx.manager.sales_role,
        )
    return ctx


FIGURES = {"calls": "60", "long_calls": "25", "talk_time": "1:30:00", "leads": "4"}


def working_day_before(day: datetime.date, ctx, days: int = 1) -> datetime.date:
    from kpi.calendar import calendar_for

    calendar = calendar_for(company=ctx.company)
    while days:
        day -= datetime.timedelta(days=1)
        if calendar.is_working(day):
            days -= 1
    return day


def now() -> datetime.datetime:
    return timezone.now()
