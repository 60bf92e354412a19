"""The manager's page and report form read in a fixed number of queries, however many KPIs."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kpi import selectors as kpi_selectors
from kpi import services as kpi_services
from kpi.calendar import calendar_for
from kpi.models import KPI, Plan
from reports.models import DailyReport, ReportDraft, ReportValue

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


def reads_of(queries, table: str) -> list[str]:
    return [q["sql"] for q in queries if f'"{table}"' in q["sql"]]


def test_filing_reads_the_kpi_set_once_and_no_figures_for_an_event_nobody_receives(
    client, busy_manager, today
):
    """The form's POST: the view does not read the KPIs before report_submit reads them, and
    the report.filed event reads the day's figures only for a subscriber (none here)."""
    client.force_login(busy_manager)
    form = {"calls": "7", "long_calls": "3", "talk_time": "1:00:00", "leads": "2"}
    with CaptureQueriesContext(connection) as captured:
        response = client.post(
            reverse("report-form", args=[today.isoformat()]),
            {**form, "version": "0", "confirm": "yes"},
        )
    assert response.status_code == 302 and response.headers["Location"] == reverse("my-kpis")
    queries = captured.captured_queries
    assert len(reads_of(queries, "kpi_rolekpi")) == 1
    assert not [sql for sql in reads_of(queries, "reports_reportvalue") if sql.startswith("SELECT")]
    stored = dict(
        ReportValue.objects.filter(report__manager=busy_manager, report__date=today).values_list(
            "kpi__code", "value"
        )
    )
    # avg_check, the fifth KPI, is a ratio: computed from the others, never typed.
    assert stored == {
        "calls": Decimal(7), "long_calls": Decimal(3), "talk_time": Decimal(3600),
        "leads": Decimal(2),
    }  # fmt: skip


def test_a_refused_filing_still_keeps_what_was_typed(client, busy_manager, today):
    """The view reads the KPIs for the draft only after report_submit refused the figures."""
    client.force_login(busy_manager)
    response = client.post(
        reverse("report-form", args=[today.isoformat()]),
        {"calls": "-1", "long_calls": "3", "version": "0"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and 'value="-1"' in body and 'value="3"' in body
    assert ReportDraft.objects.get(manager=busy_manager, date=today).data["long_calls"] == "3"


def test_the_form_reads_the_absences_once_the_figures_without_every_kpi_and_no_usual(
    client, busy_manager, today
):
    """day_state learns from the plans' absences that the day has none; the figures of
    record come in one query, not with a read of the company's whole KPI list; no usual
    figures are read for a page that shows none."""
    client.force_login(busy_manager)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("report-form", args=[today.isoformat()]))
    assert response.status_code == 200
    queries = captured.captured_queries
    assert len(reads_of(queries, "kpi_absence")) == 1
    # The usual figures are the live check's (report-check); the page shows none.
    assert not [sql for sql in queries if "ROW_NUMBER" in sql["sql"]]
    # The KPI table's own reads: the set (through its RoleKPI join) and a ratio's parts only.
    every_kpi = [
        sql for sql in (q["sql"] for q in queries) if sql.startswith('SELECT "kpi_kpi"."id"')
        and '"kpi_rolekpi"' not in sql and '"kpi_kpi"."id" IN' not in sql
    ]  # fmt: skip
    assert not every_kpi


def test_an_absence_on_the_day_is_still_named_on_its_form(client, busy_manager, today):
    day = today - datetime.timedelta(days=19)  # in busy_manager's vacation
    client.force_login(busy_manager)
    page = client.get(reverse("report-form", args=[day.isoformat()])).content.decode()
    assert "у вас отпуск" in page
