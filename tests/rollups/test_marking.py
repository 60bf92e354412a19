"""Every kind of change leaves the totals it touches current once its rollup has run.

Each test makes one change through its service on a finished month (last month: three
reported days of calls, 70 against a plan of 100, so 70 %, yellow between 60 and 80), runs
the rollup that change queued, and then finds the stored totals equal to both a fresh
recomputation (the nightly check finds no drift) and the Python reference: nothing waits
for the nightly check.
"""

import datetime
import time
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db.models import F

from accounts import services as account_services
from accounts import tenancy
from accounts.models import Company, SalesRole, User
from kpi import services as kpi_services
from kpi.calendar import calendar_for
from kpi.models import KPI, Absence
from kpi.periods import month_bounds
from reports import services as report_services
from rollups import services
from rollups.models import Bucket, Total
from tests.conftest import Cast
from tests.factories import CompanyFactory, TeamFactory, UserFactory
from tests.rollups.reference import expected_totals, stored_totals
from tests.rollups.test_worker import settled, wait_until

CALLS = (20, 25, 25)  # 70 in all
PLAN = Decimal(100)


@dataclass
class Month:
    company: Company
    manager: User
    actor: User
    start: datetime.date
    end: datetime.date
    working: list[datetime.date]  # the month's working days; the first three are reported
    calls: KPI


def report(month: Month, day: datetime.date, calls: int) -> None:
    existing = month.manager.daily_reports.filter(date=day).first()
    report_services.report_submit(
        company=month.company,
        manager=month.manager,
        day=day,
        values={"calls": calls, "long_calls": 10, "talk_time": "50", "leads": 2},
        actor=month.actor,
        version=existing.version if existing else 0,
        confirmed=True,
        reason="исправление",
    )


def last_month_of(company: Company, manager: User, actor: User) -> Month:
    """Last month with CALLS reported on its first working days against a plan of PLAN."""
    today = company.local_time().date()
    start = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    end = month_bounds(start)[1]
    month = Month(
        company=company,
        manager=manager,
        actor=actor,
        start=start,
        end=end,
        working=calendar_for(company=company).working_days(start, end),
        calls=KPI.objects.get(company=company, code="calls"),
    )
    kpi_services.plan_set(
        company=company, kpi=month.calls, start=start, value=PLAN, manager=manager
    )
    for day, calls in zip(month.working, CALLS, strict=False):
        report(month, day, calls)
    return month


@pytest.fixture
def month(alpha: Cast) -> Month:
    with tenancy.tenant_context(alpha.company):
        month = last_month_of(alpha.company, alpha.managers[1], alpha.admin)
        services.rollup_run(company_id=alpha.company.pk)
        assert month_total(month).band == "yellow"
        return month


def month_total(month: Month, kpi: KPI | None = None, scope: str = "manager", subject=None):
    return Total.objects.filter(
        company=month.company,
        scope=scope,
        subject_id=subject or month.manager.pk,
        kpi=kpi or month.calls,
        period="month",
        start=month.start,
    ).first()


def stale(company: Company) -> int:
    return Bucket.objects.filter(company=company, marks__gt=F("done")).count()


def assert_current(month: Month) -> None:
    """Runs the rollup the change queued; then nothing is left to recompute."""
    company = month.company
    services.rollup_run(company_id=company.pk)
    assert stale(company) == 0
    assert stored_totals(company) == expected_totals(company, company.local_time().date())
    assert services.totals_reconcile(company_id=company.pk).drift == 0


def test_a_report_filed_is_in_the_month_at_once(month):
    with tenancy.tenant_context(month.company):
        report(month, month.working[3], 30)
        assert_current(month)
        total = month_total(month)
        assert (total.actual, total.completion, total.band) == (100, 100, "green")


def test_a_corrected_report_recolours_the_month_at_once(month):
    with tenancy.tenant_context(month.company):
        report(month, month.working[0], 5)
        assert_current(month)
        total = month_total(month)
        assert (total.actual, total.completion, total.band) == (55, 55, "red")


def test_a_plan_set_recolours_the_month_at_once(month):
    with tenancy.tenant_context(month.company):
        kpi_services.plan_set(
            company=month.company,
            kpi=month.calls,
            start=month.start,
            value=Decimal(200),
            manager=month.manager,
        )
        assert_current(month)
        total = month_total(month)
        assert (total.plan, total.completion, total.band) == (200, 35, "red")


def test_a_calendar_day_set_and_removed_moves_the_months_working_days_at_once(month):
    with tenancy.tenant_context(month.company):
        days = len(month.working)
        assert month_total(month).working_days == days
        free = month.working[-1]
        kpi_services.calendar_day_set(company=month.company, date=free, is_working=False)
        assert_current(month)
        assert month_total(month).working_days == days - 1
        kpi_services.calendar_day_remove(company=month.company, date=free)
        assert_current(month)
        assert month_total(month).working_days == days


def test_an_absence_created_and_deleted_moves_the_months_working_days_at_once(month):
    with tenancy.tenant_context(month.company):
        days = len(month.working)
        absence = kpi_services.absence_create(
            company=month.company,
            manager=month.manager,
            kind=Absence.Kind.SICK,
            start=month.working[-2],
            end=month.working[-1],
        )
        assert_current(month)
        assert month_total(month).working_days == days - 2
        kpi_services.absence_delete(absence=absence)
        assert_current(month)
        assert month_total(month).working_days == days


def test_a_role_kpi_set_change_takes_the_kpi_out_of_the_month_at_once(month):
    with tenancy.tenant_context(month.company):
        leads = KPI.objects.get(company=month.company, code="leads")
        assert month_total(month, leads) is not None
        kpi_services.role_kpi_remove(
            company=month.company,
            sales_role=month.manager.sales_role,
            kpi=leads,
            effective_from=month.start,
        )
        assert_current(month)
        assert month_total(month, leads) is None


@pytest.mark.parametrize("move", ["team", "sales_role"])
def test_a_manager_moved_takes_the_month_along_at_once(month, move):
    company = month.company
    other_team = TeamFactory(company=company)
    with tenancy.tenant_context(company):
        old_team = month.manager.team
        before = month_total(month, scope="team", subject=old_team.pk).days_reported
        target = {
            "team": other_team,
            "sales_role": SalesRole.objects.get(company=company, kind=SalesRole.Kind.CLOSER),
        }[move]
        account_services.user_update(user=month.manager, actor=month.actor, **{move: target})
        assert_current(month)
        if move == "team":
            # A move takes effect today: last month stays the old team's (DOMAIN.md: a
            # manager counts in each team for the days spent in it).
            moved = month_total(month, scope="team", subject=other_team.pk)
            assert moved is None or moved.days_reported == 0
            assert month_total(month, scope="team", subject=old_team.pk).days_reported == before
        else:
            assert month_total(month) is None  # calls is not a closer's KPI


def test_a_kpis_bands_recolour_its_finished_month_at_once(month):
    with tenancy.tenant_context(month.company):
        kpi_services.kpi_update(
            kpi=month.calls, band_red_below=Decimal(75), band_green_from=Decimal(90)
        )
        assert_current(month)
        assert month_total(month).band == "red"


def test_the_companys_bands_recolour_kpis_without_their_own_at_once(month):
    with tenancy.tenant_context(month.company):
        leads = KPI.objects.get(company=month.company, code="leads")
        kpi_services.kpi_update(kpi=leads, band_red_below=Decimal(10), band_green_from=Decimal(20))
        kpi_services.plan_set(
            company=month.company,
            kpi=leads,
            start=month.start,
            value=Decimal(8),
            manager=month.manager,
        )
        services.rollup_run(company_id=month.company.pk)
        assert month_total(month, leads).band == "green"  # 6 of 8: 75 %, green from 20 %
        kpi_services.bands_set(
            company=month.company, band_red_below=Decimal(75), band_green_from=Decimal(90)
        )
        assert_current(month)
        assert month_total(month).band == "red"
        assert month_total(month, leads).band == "green"  # its own bands still


def test_a_kpis_direction_recolours_its_finished_month_at_once(month):
    with tenancy.tenant_context(month.company):
        kpi_services.kpi_update(kpi=month.calls, direction=KPI.Direction.LOWER)
        assert_current(month)
        total = month_total(month)
        assert (total.completion, total.band) == (Decimal("142.86"), "green")


def test_a_kpis_aggregation_gives_it_totals_at_once(month):
    """The aggregation may change only while a KPI has no data (kpi_update): a KPI of the
    role's set that nobody reported becomes a ratio of two reported KPIs."""
    company = month.company
    with tenancy.tenant_context(company):
        share = kpi_services.kpi_create(
            company=company,
            code="lead_share",
            name_ru="Доля лидов",
            name_en="Lead share",
            unit=KPI.Unit.PERCENT,
            aggregation=KPI.Aggregation.SUM,
            direction=KPI.Direction.HIGHER,
        )
        kpi_services.role_kpi_add(
            company=company,
            sales_role=month.manager.sales_role,
            kpi=share,
            effective_from=month.start,
        )
        services.rollup_run(company_id=company.pk)
        assert month_total(month, share) is None
        leads = KPI.objects.get(company=company, code="leads")
        kpi_services.kpi_update(
            kpi=share, aggregation=KPI.Aggregation.RATIO, numerator=leads, denominator=month.calls
        )
        assert_current(month)
        assert month_total(month, share).value_sum == 6  # Σ leads over Σ calls
        assert month_total(month, share).value_count == 70


def test_a_change_that_no_total_shows_marks_nothing(month):
    with tenancy.tenant_context(month.company):
        services.rollup_run(company_id=month.company.pk)
        kpi_services.kpi_update(kpi=month.calls, name_ru="Звонки всего", decimals=1)
        company = month.company
        kpi_services.bands_set(
            company=company,
            band_red_below=company.band_red_below,
            band_green_from=company.band_green_from,
        )
        assert stale(company) == 0


@pytest.mark.django_db(transaction=True)
def test_a_band_change_reaches_the_totals_through_the_worker(celery_worker):
    company = CompanyFactory()
    admin = UserFactory(company=company, role=User.Role.ADMIN)
    manager = UserFactory(company=company, team=TeamFactory(company=company))
    with tenancy.tenant_context(company):
        month = last_month_of(company, manager, admin)

    def band() -> str | None:
        with tenancy.tenant_context(company):
            total = month_total(month)
            return total.band if total else None

    wait_until(lambda: band() == "yellow", what="the month's totals")
    with tenancy.tenant_context(company):
        kpi_services.bands_set(
            company=company, band_red_below=Decimal(75), band_green_from=Decimal(90)
        )
    started = time.monotonic()
    wait_until(lambda: band() == "red", what="the month recoloured by the worker")
    assert time.monotonic() - started < 10
    wait_until(lambda: settled(company), what="no stale bucket")
    with tenancy.tenant_context(company):
        assert stored_totals(company) == expected_totals(company, company.local_time().date())
