"""The embedded profile (SQLite, Celery eager) runs the same rollup SQL right after a report."""

from tests.test_settings import run_manage

SCENARIO = """
from decimal import Decimal
from accounts import tenancy
from kpi.models import KPI
from kpi.services import plan_set
from reports.services import report_submit
from tests.factories import CompanyFactory, TeamFactory, UserFactory
from tests.rollups.reference import expected_totals, stored_totals

company = CompanyFactory()
manager = UserFactory(company=company, team=TeamFactory(company=company))
day = company.local_time().date()
with tenancy.tenant_context(company):
    calls = KPI.objects.get(company=company, code="calls")
    plan_set(company=company, kpi=calls, start=day, value=Decimal(1000), manager=manager)
with tenancy.tenant_context(company):
    report_submit(
        company=company, manager=manager, day=day, actor=manager,
        values={"calls": 40, "long_calls": 10, "talk_time": "50", "leads": 2},
    )
with tenancy.tenant_context(company):
    stored = stored_totals(company)
    assert stored == expected_totals(company, day), stored
print("rolled up", len(stored))
"""


def test_a_report_is_rolled_up_at_once_on_sqlite(embedded_env):
    result = run_manage("shell", "-v0", "-c", SCENARIO, **embedded_env)
    assert result.returncode == 0, result.stdout + result.stderr
    # 4 KPIs × day, week, month × the manager, the team, the company
    assert "rolled up 36" in result.stdout
