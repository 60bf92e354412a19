"""`manager.at_risk`: once per manager and month, the first day their month is at risk.

The rule is the dashboard's (rollups.figures.Figure.at_risk, shown in "who needs a
conversation"): a KPI whose forecast at today's pace misses the month's plan. Checked daily
after the night's totals; the event's key (manager, month) makes it go once a month.
"""

import datetime

from accounts.models import Company, User
from kpi.periods import Window
from rollups.figures import company_kpis, figures_of_window
from rollups.models import Scope
from webhooks import payloads, services
from webhooks.models import Event, Subscription


def managers_at_risk_emit(*, company: Company, today: datetime.date) -> int:
    """Emits the event for each manager newly at risk this month; returns how many were."""
    subscribed = [
        s
        for s in Subscription.objects.filter(company=company, active=True)
        if Event.MANAGER_AT_RISK in s.events
    ]
    if not subscribed:
        return 0  # nobody listens: the month's figures are not worth computing
    managers = {
        m.pk: m
        for m in User.objects.filter(company=company, role=User.Role.MANAGER, is_active=True)
    }
    figures = figures_of_window(
        company=company, window=Window.around("month", today), kpis=company_kpis(company=company),
        scope=Scope.MANAGER, subject_ids=list(managers),
    )  # fmt: skip
    risky: dict[int, list[dict]] = {}
    for (manager_id, _kpi_id), figure in sorted(figures.items()):
        if figure.at_risk:
            risky.setdefault(manager_id, []).append(
                {
                    "kpi": figure.kpi.code,
                    "name": figure.kpi.name,
                    "plan": str(figure.plan),
                    "forecast": str(figure.forecast),
                }
            )
    month = today.replace(day=1)
    for manager_id, kpis in risky.items():
        manager = managers[manager_id]
        services.emit(
            company=company,
            event=Event.MANAGER_AT_RISK,
            payload=payloads.manager_at_risk(manager=manager, month=month, figures=kpis),
            key=f"{manager.code}:{month:%Y-%m}",
        )
    return len(risky)
