"""A team's and the company's plan is the whole team's (DOMAIN.md, teams and the company), and
completion is computed from the exact plan."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import tenancy
from accounts.models import Company, SalesRole, Team, User
from kpi import services as kpi_services
from kpi.calendar import calendar_for
from kpi.models import KPI
from kpi.periods import month_bounds
from reports import services as report_services
from rollups import services
from rollups.models import Total
from tests.factories import CompanyFactory, TeamFactory, UserFactory
from tests.rollups.reference import expected_totals, stored_totals

pytestmark = pytest.mark.django_db


@dataclass
class Office:
    company: Company
    admin: User
    first: Team  # Ан (reports) and Бо (silent)
    second: Team  # Ве (silent): nobody in it reports
    an: User
    bo: User
    ve: User
    month: datetime.date  # last month, finished
    kpis: dict[str, KPI]


def office(*, extra: str | None = None) -> Office:
    """Three hunters in two teams, there all along; a role plan of 100 calls last month."""
    company = CompanyFactory()
    admin = UserFactory(company=company, role=User.Role.ADMIN)
    first, second = TeamFactory(company=company), TeamFactory(company=company)
    an = UserFactory(company=company, team=first, last_name="Ан")
    bo = UserFactory(company=company, team=first, last_name="Бо")
    ve = UserFactory(company=company, team=second, last_name="Ве")
    with tenancy.tenant_context(company):
        User.objects.filter(pk__in=[an.pk, bo.pk, ve.pk]).update(
            date_joined=timezone.now() - datetime.timedelta(days=400)
        )
        month = (company.local_time().date().replace(day=1) - datetime.timedelta(days=1)).replace(
            day=1
        )
        hunter = SalesRole.objects.get(company=company, kind=SalesRole.Kind.HUNTER)
        if extra:
            kpi_services.role_kpi_add(
                company=company,
                sales_role=hunter,
                kpi=kpi_services.catalogue_adopt(company=company, code=extra),
                effective_from=month - datetime.timedelta(days=40),
            )
        kpis = {kpi.code: kpi for kpi in KPI.objects.filter(company=company)}
        kpi_services.plan_set(
            company=company, kpi=kpis["calls"], start=month, value=Decimal(100), sales_role=hunter
        )
    return Office(company, admin, first, second, an, bo, ve, month, kpis)


def working_days(o: Office) -> list[datetime.date]:
    return calendar_for(company=o.company).working_days(*month_bounds(o.month))


def report(o: Office, manager: User, day: datetime.date, **values: object) -> None:
    report_services.report_submit(
        company=o.company,
        manager=manager,
        day=day,
        values={"calls": 100, "long_calls": 10, "talk_time": "50", "leads": 2, **values},
        actor=o.admin,
        confirmed=True,
        reason="за прошлый месяц",
    )


def month_total(o: Office, scope: str, subject_id: int, code: str) -> Total:
    return Total.objects.get(
        company=o.company,
        scope=scope,
        subject_id=subject_id,
        kpi=o.kpis[code],
        period="month",
        start=o.month,
    )


def rolled_up(o: Office) -> None:
    services.rollup_run(company_id=o.company.pk)
    assert stored_totals(o.company) == expected_totals(o.company, o.company.local_time().date())
    assert services.totals_reconcile(company_id=o.company.pk).drift == 0


def test_it_keeps_a_team_with_a_silent_manager_from_green():
    o = office()
    with tenancy.tenant_context(o.company):
        report(o, o.an, working_days(o)[0], calls=100)
        rolled_up(o)
        own = month_total(o, "manager", o.an.pk, "calls")
        assert (own.actual, own.plan, own.band) == (100, 100, "green")
        team = month_total(o, "team", o.first.pk, "calls")
        # Бо's 100 are the team's plan too: 100 of 200, not 100 of 100.
        assert (team.actual, team.plan, team.completion, team.band) == (100, 200, 50, "red")
        company = month_total(o, "company", o.company.pk, "calls")
        assert (company.actual, company.plan) == (100, 300)


def test_the_share_meeting_plan_counts_the_silent_manager_as_not_meeting():
    o = office()
    with tenancy.tenant_context(o.company):
        report(o, o.an, working_days(o)[0], calls=100)
        rolled_up(o)
        assert month_total(o, "team", o.first.pk, "calls").share_meeting_plan == Decimal("50.0")
        # Ан meets it; Бо and Ве did not report.
        company = month_total(o, "company", o.company.pk, "calls")
        assert company.share_meeting_plan == Decimal("33.3")


def test_a_team_where_nobody_reported_has_nothing_done_against_its_plan():
    o = office()
    with tenancy.tenant_context(o.company):
        report(o, o.an, working_days(o)[0], calls=100)
        rolled_up(o)
        team = month_total(o, "team", o.second.pk, "calls")
        assert (team.actual, team.plan, team.completion, team.band) == (0, 100, 0, "red")
        assert (team.days_reported, team.share_meeting_plan) == (0, Decimal("0.0"))


def test_a_silent_manager_earns_no_allowance_on_a_lower_is_better_kpi():
    o = office(extra="missed_calls")
    with tenancy.tenant_context(o.company):
        hunter = o.an.sales_role
        kpi_services.plan_set(
            company=o.company,
            kpi=o.kpis["missed_calls"],
            start=o.month,
            value=Decimal(10),
            sales_role=hunter,
        )
        report(o, o.an, working_days(o)[0], missed_calls=8)
        rolled_up(o)
        team = month_total(o, "team", o.first.pk, "missed_calls")
        # 8 missed against Ан's 10 allowed; Бо's 10 would have made it 20 and 250 %.
        assert (team.actual, team.plan, team.completion) == (8, 10, Decimal("125.00"))
        assert team.share_meeting_plan == Decimal("50.0")
        nobody = month_total(o, "team", o.second.pk, "missed_calls")
        assert (nobody.plan, nobody.band, nobody.share_meeting_plan) == (None, "none", 0)


def test_an_averaged_kpi_is_pooled_over_the_days_reported():
    o = office(extra="response_time")
    with tenancy.tenant_context(o.company):
        kpi_services.plan_set(
            company=o.company,
            kpi=o.kpis["response_time"],
            start=o.month,
            value=Decimal(30),
            sales_role=o.an.sales_role,
        )
        days = working_days(o)
        report(o, o.an, days[0], response_time=Decimal(20))
        report(o, o.an, days[1], response_time=Decimal(40))
        rolled_up(o)
        team = month_total(o, "team", o.first.pk, "response_time")
        # Бо's silence is no day of 0 s: the mean of Ан's two days against the plan of 30.
        assert (team.actual, team.value_count, team.plan) == (30, 2, 30)
        assert team.share_meeting_plan == Decimal("50.0")


def test_completion_comes_from_the_exact_plan():
    o = office()
    with tenancy.tenant_context(o.company):
        calendar = calendar_for(company=o.company)
        month = o.month
        while len(calendar.working_days(*month_bounds(month))) < 23:
            month = (month - datetime.timedelta(days=1)).replace(day=1)
        days = calendar.working_days(*month_bounds(month))
        if len(days) > 23:
            kpi_services.absence_create(
                company=o.company, manager=o.an, kind="vacation", start=days[23], end=days[-1]
            )
        kpi_services.plan_set(
            company=o.company, kpi=o.kpis["calls"], start=month, value=Decimal(11), manager=o.an
        )
        report(o, o.an, days[0], calls=3)
        services.rollup_run(company_id=o.company.pk)
        total = Total.objects.get(
            company=o.company,
            scope="manager",
            subject_id=o.an.pk,
            kpi=o.kpis["calls"],
            period="day",
            start=days[0],
        )
        # 3 / (11/23) = 627.27 %; from the stored 0.4783 it would be 627.22 %.
        assert (total.plan, total.completion) == (Decimal("0.4783"), Decimal("627.27"))
