"""Figures beyond their unit's bounds: refused on every path, refused by the database, and
one stored before the bounds never breaks a page (it is shown marked, the head corrects it)."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import tenancy
from kpi.models import KPI
from reports.models import DailyReport, ImportedFigure, ReportChange, ReportValue
from tests.reports.conftest import FIGURES, working_day_before

D = Decimal
OUT_OF_BOUNDS = "вне допустимых границ"


def pages_of(cast, report: DailyReport) -> dict[str, tuple]:
    """Every page that reads reports, with who opens it."""
    manager = report.manager
    return {
        "/": (manager, "/"),
        "/report/": (manager, reverse("report-today")),
        "/report/<day>/": (manager, reverse("report-form", args=[report.date.isoformat()])),
        "/my/": (manager, reverse("my-kpis")),
        "/dashboard/": (cast.head, reverse("dashboard")),
        "/dashboard/managers/": (cast.head, reverse("dashboard-manager", args=[manager.code])),
        "/reports/team/": (cast.head, reverse("team-reports")),
        "/reports/<code>/": (cast.head, reverse("report-detail", args=[report.code])),
    }


def assert_every_page_opens(client, cast, report: DailyReport) -> dict[str, str]:
    bodies = {}
    for name, (user, url) in pages_of(cast, report).items():
        client.force_login(user)
        response = client.get(url, follow=True)
        assert response.status_code == 200, name
        bodies[name] = response.content.decode()
    api = Client(headers={"Authorization": f"Token {cast.api_key}"})
    assert api.get(reverse("api-report-list")).status_code == 200
    assert api.get(reverse("api-report-detail", args=[report.code])).status_code == 200
    return bodies


def test_1e30_calls_confirmed_is_refused_and_every_page_still_opens(client, hunter_plans, today):
    cast = hunter_plans
    manager = cast.managers[1]
    client.force_login(manager)
    form = reverse("report-form", args=[today.isoformat()])
    response = client.post(form, {**FIGURES, "calls": "1e30", "version": "0", "confirm": "yes"})
    assert response.status_code == 200
    assert "«1e30» — не число" in response.content.decode()
    big = client.post(form, {**FIGURES, "calls": "20 000", "version": "0", "confirm": "yes"})
    assert "не больше 10\u202f000" in big.content.decode()
    with tenancy.tenant_context(cast.company):
        assert not DailyReport.objects.filter(manager=manager, date=today).exists()
    # The manager files the day properly; every page that reads reports opens.
    client.post(form, {**FIGURES, "version": "0", "confirm": "yes"})
    with tenancy.tenant_context(cast.company):
        report = DailyReport.objects.get(manager=manager, date=today)
    assert_every_page_opens(client, cast, report)


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("calls", "1e30", "не число"),
        ("talk_time", "1e30", "Не понимаю длительность"),
        ("talk_time", "1" * 40, "не больше 24 ч"),
        ("talk_time", "25:00:00", "не больше 24 ч"),
        ("calls", "9" * 5000, "слишком длинное"),
    ],
)
def test_the_live_check_refuses_beyond_the_bounds(client, alpha, today, field, text, message):
    client.force_login(alpha.managers[1])
    response = client.post(
        reverse("report-check", args=[today.isoformat()]),
        {**FIGURES, field: text},
        headers={"HX-Request": "true", "HX-Trigger-Name": field},
    )
    assert response.status_code == 200
    error = response.content.decode().split('role="alert">')[1].split("</p>")[0]
    assert message in error
    assert len(error) < 200  # the message never echoes the input whole


def test_the_database_refuses_figures_beyond_every_unit(ctx, today):
    manager = ctx.managers[1]
    calls = KPI.objects.get(company=ctx.company, code="calls")
    report = DailyReport(
        company=ctx.company, manager=manager, date=today, submitted_at=timezone.now()
    )
    report.save()
    for value in (D(10) ** 13, D(-1)):
        with pytest.raises(IntegrityError), transaction.atomic():
            ReportValue(company=ctx.company, report=report, kpi=calls, value=value).save()
        with pytest.raises(IntegrityError), transaction.atomic():
            ImportedFigure(
                company=ctx.company, manager=manager, date=today, kpi=calls,
                source="telephony", value=value,
            ).save()  # fmt: skip
        with pytest.raises(IntegrityError), transaction.atomic():
            ReportChange(company=ctx.company, report=report, kpi=calls, new_value=value).save()


def stored_before_the_bounds(cast, day: datetime.date, calls: Decimal) -> DailyReport:
    """A report as one could be filed before the bounds: written past the service."""
    manager = cast.managers[1]
    with tenancy.tenant_context(cast.company):
        report = DailyReport(
            company=cast.company, manager=manager, date=day, submitted_at=timezone.now()
        )
        report.save()
        kpis = {k.code: k for k in KPI.objects.filter(company=cast.company)}
        figures = {"calls": calls, "long_calls": D(25), "talk_time": D(5400), "leads": D(4)}
        for code, value in figures.items():
            ReportValue(company=cast.company, report=report, kpi=kpis[code], value=value).save()
    return report


def test_a_figure_stored_beyond_its_bound_is_marked_and_the_head_corrects_it(
    client, hunter_plans, today
):
    cast = hunter_plans
    with tenancy.tenant_context(cast.company):
        yesterday = working_day_before(today, cast)
    report = stored_before_the_bounds(cast, yesterday, D(10_001))
    bodies = assert_every_page_opens(client, cast, report)
    assert OUT_OF_BOUNDS in bodies["/reports/<code>/"]
    assert OUT_OF_BOUNDS in bodies["/dashboard/managers/"]
    client.force_login(cast.head)
    corrected = client.post(
        reverse("report-detail", args=[report.code]),
        {
            "calls": "101", "long_calls": "25", "talk_time": "1:30:00", "leads": "4",
            "version": str(report.version), "reason": "лишняя цифра",
        },
    )  # fmt: skip
    assert corrected.status_code == 302
    with tenancy.tenant_context(cast.company):
        value = ReportValue.objects.get(report=report, kpi__code="calls")
        change = ReportChange.objects.get(report=report, kpi__code="calls")
    assert value.value == D(101)
    assert (change.old_value, change.new_value) == (D(10_001), D(101))
    page = client.get(reverse("report-detail", args=[report.code])).content.decode()
    assert OUT_OF_BOUNDS in page  # the history still shows what it was, marked
