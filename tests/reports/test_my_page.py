"""The manager's page and report form read in a fixed number of queries, however many KPIs."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from kpi import selectors as kpi_selectors
from kpi import services as kpi_services
from kpi.calendar import calendar_for
from kpi.models import KPI, Plan
from reports.models import DailyReport, ReportValue

# Measured with 5 KPIs: 18 for the page (21 with its missed days), 21 for the form (per KPI,
# it was ~37 and ~6).
MY_PAGE_QUERIES = 23
FORM_QUERIES = 23


@pytest.fixture
def busy_manager(ctx, today):
    """Five KPIs, the role's and own plans by month and week, an absence, two months of reports."""
    company, manager = ctx.company, ctx.managers[1]
    role = manager.sales_role
    since = today - datetime.timedelta(days=70)
    kpi_services.role_kpi_add(
        company=company,
        sales_role=role,
        kpi=KPI.objects.get(company=company, code="avg_check"),
        effective_from=since,
    )
    kpis = kpi_selectors.role_kpis_on(company=company, sales_role=role, on=today)
    assert len(kpis) == 5
    month = today.replace(day=1)
    for start in (month, (month - datetime.timedelta(days=1)).replace(day=1)):
        for number, kpi in enumerate(kpis):
            target = {"manager": manager} if number % 2 else {"sales_role": role}
            kpi_services.plan_set(
                company=company, kpi=kpi, start=start, value=Decimal(500 + number), **target
            )
    kpi_services.plan_set(
        company=company, kpi=kpis[0], start=today, value=Decimal(90), period=Plan.Period.WEEK,
        sales_role=role,
    )  # fmt: skip
    kpi_services.absence_create(
        company=company, manager=manager, kind="vacation",
        start=today - datetime.timedelta(days=20), end=today - datetime.timedelta(days=18),
    )  # fmt: skip
    typed = [kpi for kpi in kpis if kpi.aggregation != KPI.Aggregation.RATIO]
    for day in calendar_for(company=company).working_days(since, today):
        if day < today:
            report = DailyReport(
                company=company, manager=manager, date=day, submitted_at=ctx_now(day)
            )
            report.save()
            for kpi in typed:
                ReportValue(company=company, report=report, kpi=kpi, value=Decimal(7)).save()
    return manager


def ctx_now(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(18), datetime.UTC)


def test_it_shows_the_managers_page_in_a_fixed_number_of_queries(
    client, busy_manager, django_assert_max_num_queries
):
    client.force_login(busy_manager)
    with django_assert_max_num_queries(MY_PAGE_QUERIES):
        response = client.get(reverse("my-kpis"))
    assert response.status_code == 200
    assert "Мои показатели" in response.content.decode()


def test_it_shows_the_report_form_in_a_fixed_number_of_queries(
    client, busy_manager, today, django_assert_max_num_queries
):
    client.force_login(busy_manager)
    with django_assert_max_num_queries(FORM_QUERIES):
        response = client.get(reverse("report-form", args=[today.isoformat()]))
    assert response.status_code == 200
    assert "план на день" in response.content.decode()
