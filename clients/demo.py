"""Client analysis for a demo company: acquisition costs, every month classified, alerts."""

import datetime
from decimal import Decimal

from accounts.models import Company
from clients import services
from kpi.periods import shift_months

DEMO_MONTHLY_COST = Decimal(450000)


def demo_client_analysis(*, company: Company, today: datetime.date, history_days: int) -> None:
    this_month = today.replace(day=1)
    for back in range(3):
        services.acquisition_cost_set(
            company=company, month=shift_months(this_month, -back), amount=DEMO_MONTHLY_COST
        )
    month = (today - datetime.timedelta(days=history_days)).replace(day=1)
    while month <= this_month:
        services.classification_run(company=company, month=month, today=today)
        month = shift_months(month, 1)
    services.alerts_refresh(company=company, today=today)
