"""A new manager's plan is in their team's and the company's totals at once (DOMAIN.md: a
team's plan is the whole team's), not after the nightly check."""

from decimal import Decimal

from django.db.models import F

from accounts import services as account_services
from accounts import tenancy
from accounts.models import SalesRole, User
from kpi import services as kpi_services
from kpi.calendar import calendar_for
from kpi.models import KPI
from kpi.periods import month_start
from reports import services as report_services
from rollups import services as rollup_services
from rollups.models import Bucket, Total
from tests.factories import PASSWORD
from tests.rollups.reference import expected_totals, stored_totals

ROLE_PLAN = Decimal(300)


def month_plan(company, scope: str, subject_id: int, kpi: KPI) -> Decimal:
    total = Total.objects.get(
        company=company, scope=scope, subject_id=subject_id, kpi=kpi, period="month",
        start=month_start(company.today()),
    )  # fmt: skip
    return total.plan


def test_a_new_manager_counts_in_the_running_month_at_once(alpha):
    company = alpha.company
    with tenancy.tenant_context(company):
        today = company.today()
        calls = KPI.objects.get(company=company, code="calls")
        hunter = SalesRole.objects.get(company=company, kind=SalesRole.Kind.HUNTER)
        kpi_services.plan_set(
            company=company, kpi=calls, start=today, value=ROLE_PLAN, sales_role=hunter
        )
        worked = calendar_for(company=company).working_days(month_start(today), today)
        report_services.report_submit(
            company=company, manager=alpha.managers[1], day=(worked or [today])[0],
            values={"calls": "40", "long_calls": "9", "talk_time": "0:40:00", "leads": "2"},
            actor=alpha.head, confirmed=True, reason="за начало месяца",
        )  # fmt: skip
        rollup_services.rollup_run(company_id=company.pk)
        team_before = month_plan(company, "team", alpha.team.pk, calls)
        company_before = month_plan(company, "company", company.pk, calls)

        account_services.user_create(
            company=company, username="alpha.newcomer", password=PASSWORD,
            password_is_temporary=False, role=User.Role.MANAGER, team=alpha.team,
            sales_role=hunter, actor=alpha.admin,
        )  # fmt: skip

        assert Bucket.objects.filter(company=company, marks__gt=F("done")).exists()
        rollup_services.rollup_run(company_id=company.pk)  # what the change queued
        assert stored_totals(company) == expected_totals(company, today)
        assert month_plan(company, "team", alpha.team.pk, calls) == team_before + ROLE_PLAN
        assert month_plan(company, "company", company.pk, calls) == company_before + ROLE_PLAN
        assert rollup_services.totals_reconcile(company_id=company.pk).drift == 0
