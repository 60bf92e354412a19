"""One plan split, one percent and colour, plans with their decimals, no absurd conversion."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts import tenancy
from accounts.models import SalesRole, User
from dashboard.selectors.table import Cell, ManagerRow, team_table
from dashboard.templatetags.dashboard_tags import manager_rows
from kpi import selectors as kpi_selectors
from kpi import services as kpi_services
from kpi.bands import Band, kpi_band, reading
from kpi.calendar import calendar_for
from kpi.models import KPI
from kpi.periods import Window, month_bounds
from kpi.values import format_plan
from reports.selectors import manager_overview, report_form
from rollups import services as rollup_services
from rollups.figures import Figure, company_kpis
from rollups.models import Scope
from tests.conftest import Cast
from tests.dashboard.conftest import file_report

D = Decimal


def _finished_month(cast: Cast) -> tuple[datetime.date, datetime.date]:
    """A month three months back: finished, so no pace is involved."""
    month = cast.company.today().replace(day=1)
    for _step in range(3):
        month = (month - datetime.timedelta(days=1)).replace(day=1)
    return month_bounds(month)


def test_an_absence_gives_one_plan_on_the_dashboard_the_form_and_my_page(alpha: Cast):
    """A manager away 10 working days: the month view, a custom range, the report form and
    «Мои показатели» all split the month plan over the days the manager works."""
    manager = alpha.managers[1]
    start, end = _finished_month(alpha)
    with tenancy.tenant_context(alpha.company):
        calls = KPI.objects.get(company=alpha.company, code="calls")
        calendar = calendar_for(company=alpha.company)
        working = calendar.working_days(start, end)
        kpi_services.plan_set(
            company=alpha.company, kpi=calls, start=start, value=D(1320), manager=manager
        )
        kpi_services.absence_create(
            company=alpha.company, manager=manager, kind="vacation",
            start=working[2], end=working[11],
        )  # fmt: skip
        present = [day for day in working if not working[2] <= day <= working[11]]
        for day in present:
            file_report(
                alpha, manager, day,
                {"calls": "50", "long_calls": "20", "leads": "2", "talk_time": "1:00:00"},
            )  # fmt: skip
    rollup_services.rollup_run(company_id=alpha.company.pk)
    # Through the working day after the absence: 3 of the manager's working days.
    cut = present[2]
    with tenancy.tenant_context(alpha.company):
        plans = kpi_selectors.manager_plans(
            company=alpha.company, manager=manager, start=start, end=end
        )
        month_plan = plans.period_plan(calls, start, end)
        cut_plan = plans.period_plan(calls, start, cut)
        assert month_plan == D(1320)
        assert cut_plan == D(1320) * 3 / len(present)

        def shown(window: Window) -> Figure:
            table = team_table(company=alpha.company, viewer=alpha.head, window=window)
            return table.figures[(Scope.MANAGER, manager.pk, calls.pk)]

        month = shown(Window.around("month", start))
        whole = shown(Window("range", start, end))
        part = shown(Window("range", start, cut))
        assert month.plan == whole.plan == D(1320)
        assert part.plan == cut_plan.quantize(D("0.0001"))
        assert part.actual == D(150)
        assert part.completion == (D(150) / cut_plan * 100).quantize(D("0.01"))
        form_cut = report_form(company=alpha.company, manager=manager, day=cut)
        form_end = report_form(company=alpha.company, manager=manager, day=present[-1])
        row = next(r for r in form_cut.rows if r.kpi == calls)
        assert row.mtd_plan == cut_plan
        assert next(r for r in form_end.rows if r.kpi == calls).mtd_plan == month.plan
        overview = manager_overview(
            company=alpha.company, manager=manager, day=present[-1], calendar=calendar
        )
        standing = next(s for s in overview.standings if s.kpi == calls)
        assert standing.month_plan == month.plan


@pytest.mark.parametrize(
    ("value", "text", "band"),
    [
        (D("59.96"), "60 %", Band.YELLOW),
        (D("59.49"), "59 %", Band.RED),
        (D("79.95"), "80 %", Band.GREEN),
        (D("79.49"), "79 %", Band.YELLOW),
        (None, "—", Band.NONE),
    ],
)
def test_the_colour_is_the_colour_of_the_percent_shown(alpha: Cast, value, text, band):
    with tenancy.tenant_context(alpha.company):
        calls = company_kpis(company=alpha.company)
        kpi = next(k for k in calls.values() if k.code == "calls")
        shown = reading(kpi, value)
        assert (shown.text, shown.band) == (text, band)
        # What the rollups engine stores: the colour of the percent printed, too.
        stored = kpi_band(kpi, actual=value, plan=D(100))[1]
        figure = Figure(kpi, value, D(100), value, str(stored))
        assert (figure.percent_text, figure.shown_band) == (text, str(band))
        row = ManagerRow(alpha.manager, "submitted", [Cell(figure)])
        html = manager_rows([row], "/dashboard/managers/", Window.around("day", start_of(alpha)),
                           {kpi.pk: kpi.name})  # fmt: skip
        assert f'class="band-{band}"' in html
        if value is not None:
            assert text in html


def start_of(cast: Cast) -> datetime.date:
    return cast.company.today()


def test_a_plan_is_shown_with_the_decimals_it_has(alpha: Cast):
    with tenancy.tenant_context(alpha.company):
        kpis = company_kpis(company=alpha.company)
        calls = next(k for k in kpis.values() if k.code == "calls")
        assert calls.decimals == 0
        assert format_plan(D("2.5"), calls) == "2,5"
        assert format_plan(D("2.5000"), calls) == "2,5"
        assert format_plan(D("1320.0000"), calls) == "1\u202f320"
        assert format_plan(D("286.9565"), calls) == "286,96"
        assert format_plan(None, calls) == "—"
        figure = Figure(calls, D(2), D("2.5"), D("80.00"), "green")
        assert figure.plan_text == "2,5"
        assert figure.actual_text == "2"


def test_why_red_says_why_a_step_has_no_conversion(client, alpha: Cast):
    """A closer's deal sum after deals won is money per deal, not a share: no «11 411 306 %»."""
    manager = alpha.managers[1]
    start, _end = _finished_month(alpha)
    with tenancy.tenant_context(alpha.company):
        closer = SalesRole.objects.get(company=alpha.company, kind=SalesRole.Kind.CLOSER)
        User.objects.filter(pk=manager.pk).update(sales_role=closer)
        manager.refresh_from_db()
        deals_sum = KPI.objects.get(company=alpha.company, code="deals_sum")
        kpi_services.plan_set(
            company=alpha.company, kpi=deals_sum, start=start, value=D(10_000_000),
            manager=manager,
        )  # fmt: skip
        day = calendar_for(company=alpha.company).working_days(
            start, start + datetime.timedelta(days=10)
        )[0]
        file_report(
            alpha, manager, day, {"meetings": "4", "deals_won": "2", "deals_sum": "228226,12"}
        )
    rollup_services.rollup_run(company_id=alpha.company.pk)
    client.force_login(alpha.head)
    url = reverse("dashboard-manager", args=[manager.code]) + f"?month={start.isoformat()}"
    body = client.get(url).content.decode()
    assert "Почему красный" in body
    assert "11411306" not in body
    assert "в разных единицах" in body
