"""The drill-down into one manager: the month's figures, each reported day, the last weeks'
trend and the reports behind them."""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch

from accounts.models import Company, User
from kpi.calendar import manager_working_days
from kpi.models import KPI
from kpi.periods import Window, week_bounds
from kpi.selectors import role_kpi_sets
from reports.models import DailyReport, ReportChange
from rollups.figures import (
    Figure,
    company_kpis,
    figure_of_total,
    figures_of_window,
)
from rollups.models import Scope, Total


@dataclass
class DayPoint:
    day: datetime.date
    actual: Decimal | None
    plan: Decimal | None


@dataclass
class ManagerMonth:
    manager: User
    month: Window
    kpis: list[KPI]
    figures: dict[int, Figure]  # KPI id → the month's figure
    days: dict[int, list[DayPoint]]  # KPI id → each reported day
    working_days: list[datetime.date]
    weeks: dict[int, list[tuple[datetime.date, Figure]]]  # KPI id → last 12 weeks
    reports: list[DailyReport]


TREND_WEEKS = 12


def manager_month(
    *, company: Company, manager: User, month: Window, kpis: dict[int, KPI] | None = None
) -> ManagerMonth:
    kpis = kpis if kpis is not None else company_kpis(company=company)
    today = company.today()
    role_kpis = role_kpi_sets(company=company, on=min(month.end, today), kpis=kpis).get(
        manager.sales_role_id, []
    )
    figures = {
        k: f
        for (_m, k), f in figures_of_window(
            company=company, window=month, kpis=kpis, scope=Scope.MANAGER, subject_ids=[manager.pk]
        ).items()
    }
    days: dict[int, list[DayPoint]] = defaultdict(list)
    for kpi_id, day, actual, plan in (
        Total.objects.filter(
            company=company, scope=Scope.MANAGER, subject_id=manager.pk, period="day",
            start__gte=month.start, start__lte=month.end,
        )
        .order_by("start")
        .values_list("kpi_id", "start", "actual", "plan")
    ):  # fmt: skip
        days[kpi_id].append(DayPoint(day, actual, plan))
    working = manager_working_days(
        company=company, manager=manager, start=month.start, end=month.end
    )
    first_week = week_bounds(month.end)[0] - datetime.timedelta(days=7 * (TREND_WEEKS - 1))
    weeks: dict[int, list[tuple[datetime.date, Figure]]] = defaultdict(list)
    for total in Total.objects.filter(
        company=company, scope=Scope.MANAGER, subject_id=manager.pk, period="week",
        start__gte=first_week, start__lte=month.end,
    ).order_by("start"):  # fmt: skip
        if total.kpi_id in kpis:
            weeks[total.kpi_id].append((total.start, figure_of_total(total, kpis[total.kpi_id])))
    reports = list(
        DailyReport.objects.filter(
            company=company, manager=manager, date__gte=month.start, date__lte=month.end
        )
        .prefetch_related(
            "values",
            Prefetch("changes", queryset=ReportChange.objects.select_related("changed_by")),
        )
        .order_by("-date")
    )
    return ManagerMonth(manager, month, role_kpis, figures, days, working, weeks, reports)
