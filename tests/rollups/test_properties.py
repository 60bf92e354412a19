"""Random sequences of reports, corrections, plan changes, team moves and rollups give exactly
the totals that a straightforward recomputation from the reports gives, for every aggregation
kind."""

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accounts import services as account_services
from accounts import tenancy
from accounts.models import Company, SalesRole, Team, User
from kpi import services as kpi_services
from kpi.models import KPI
from reports import services as report_services
from reports.models import DailyReport
from reports.selectors import typed_kpis_of
from rollups import services
from tests.factories import CompanyFactory, TeamFactory, UserFactory
from tests.rollups.reference import expected_totals, stored_totals

pytestmark = pytest.mark.django_db

report = st.tuples(
    st.just("report"),
    st.integers(0, 4),  # which manager
    st.integers(-40, 0),  # which day, back from today
    st.lists(st.integers(0, 60), min_size=5, max_size=5),
    st.integers(0, 99),  # cents for money
)
plan = st.tuples(
    st.just("plan"),
    st.integers(0, 4),
    st.sampled_from(["month", "previous month", "week", "role"]),
    st.one_of(st.none(), st.integers(0, 3000)),
)
rollup = st.tuples(st.just("rollup"))
# A manager moved to the other team on a day back from today (moves happen in date order).
move = st.tuples(st.just("move"), st.integers(0, 4), st.integers(-40, 0))
operations = st.lists(
    st.one_of(report, report, report, plan, rollup, move), min_size=1, max_size=14
)


def build_company() -> tuple[Company, User, list[User]]:
    """Hunters (sums, and an average KPI added to the set 20 days ago), a closer (a ratio) and a
    farmer (a ratio and a lower-is-better last value) in two teams, with plans of every kind."""
    company = CompanyFactory()
    admin = UserFactory(company=company, role=User.Role.ADMIN)
    first, second = TeamFactory(company=company), TeamFactory(company=company)
    with tenancy.tenant_context(company):
        today = company.local_time().date()
        roles = {role.kind: role for role in SalesRole.objects.filter(company=company)}
        response = kpi_services.catalogue_adopt(company=company, code="response_time")
        kpi_services.role_kpi_add(
            company=company,
            sales_role=roles["hunter"],
            kpi=response,
            effective_from=today - datetime.timedelta(days=20),
        )
    people = [
        ("hunter", first),
        ("hunter", first),
        ("closer", first),
        ("farmer", second),
        ("hunter", second),
    ]
    managers = [
        UserFactory(company=company, sales_role=roles[kind], team=team) for kind, team in people
    ]
    with tenancy.tenant_context(company):
        # They were there before the history begins: a silent one's plan counts all along.
        User.objects.filter(pk__in=[m.pk for m in managers]).update(
            date_joined=timezone.now() - datetime.timedelta(days=90)
        )
        kpis = {kpi.code: kpi for kpi in KPI.objects.filter(company=company)}
        month = today.replace(day=1)
        previous = (month - datetime.timedelta(days=1)).replace(day=1)
        for start in (previous, month):
            for code, value in [("calls", 1000), ("response_time", 30), ("leads", 40)]:
                kpi_services.plan_set(
                    company=company,
                    kpi=kpis[code],
                    start=start,
                    value=Decimal(value),
                    sales_role=roles["hunter"],
                )
            for code, value in [("deals_sum", 500000), ("avg_check", 40000)]:
                kpi_services.plan_set(
                    company=company,
                    kpi=kpis[code],
                    start=start,
                    value=Decimal(value),
                    sales_role=roles["closer"],
                )
            kpi_services.plan_set(
                company=company,
                kpi=kpis["receivables"],
                start=start,
                value=Decimal(900),
                manager=managers[3],
            )
        kpi_services.plan_set(
            company=company, kpi=kpis["calls"], start=month, value=Decimal(777), manager=managers[0]
        )
        kpi_services.absence_create(
            company=company,
            manager=managers[4],
            kind="vacation",
            start=today - datetime.timedelta(days=12),
            end=today - datetime.timedelta(days=8),
        )
    return company, admin, managers


def apply(company: Company, admin: User, managers: list[User], operation: tuple) -> None:
    today = company.local_time().date()
    kind = operation[0]
    if kind == "rollup":
        services.rollup_run(company_id=company.pk)
    elif kind == "move":
        _kind, who, offset = operation
        manager = managers[who]
        manager.refresh_from_db()
        other = Team.objects.exclude(pk=manager.team_id).filter(company=company).first()
        noon = datetime.datetime.combine(
            today + datetime.timedelta(days=offset), datetime.time(12), tzinfo=datetime.UTC
        )
        real = Company.local_time
        with mock.patch.object(Company, "local_time", lambda c, m=None: real(c, m or noon)):
            account_services.user_update(user=manager, actor=admin, team=other)
    elif kind == "report":
        _kind, who, offset, numbers, cents = operation
        manager, day = managers[who], today + datetime.timedelta(days=offset)
        kpis = typed_kpis_of(company=company, manager=manager, day=day)
        values = {}
        for kpi, number in zip(kpis, numbers, strict=False):
            values[kpi.code] = f"{number * 1000},{cents:02d}" if kpi.unit == "money" else number
        existing = DailyReport.objects.filter(company=company, manager=manager, date=day).first()
        report_services.report_submit(
            company=company,
            manager=manager,
            day=day,
            values=values,
            actor=admin,
            version=existing.version if existing else 0,
            confirmed=True,
            reason="исправление",
        )
    else:
        _kind, who, which, value = operation
        manager = managers[who]
        month = today.replace(day=1)
        target: dict = {"manager": manager}
        start, period = month, "month"
        if which == "previous month":
            start = (month - datetime.timedelta(days=1)).replace(day=1)
        elif which == "week":
            start, period = today, "week"
        elif which == "role":
            target = {"sales_role": manager.sales_role}
        kpi = typed_kpis_of(company=company, manager=manager, day=today)[0]
        kpi_services.plan_set(
            company=company,
            kpi=kpi,
            start=start,
            period=period,
            value=None if value is None else Decimal(value),
            **target,
        )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations)
# A move dated before a report already filed (the test's clock moves back): the report's
# days go to the new team too (found by hypothesis after the figure of record merged).
@example(
    [
        ("report", 0, 0, [0, 0, 0, 0, 0], 2),
        ("rollup",),
        ("report", 0, 0, [0, 0, 0, 0, 0], 0),
        ("move", 0, -36),
    ]
)
@example(  # the same for a manager who never reported: their plan moves teams with them
    [
        ("report", 0, 0, [0, 0, 0, 0, 0], 2),
        ("rollup",),
        ("report", 0, 0, [0, 0, 0, 0, 0], 0),
        ("move", 2, -39),
    ]
)
def test_it_equals_a_recomputation_from_the_reports(operations):
    with transaction.atomic():
        company, admin, managers = build_company()
        with tenancy.tenant_context(company):
            moved = -40
            for operation in operations:
                if operation[0] == "move":
                    moved = max(moved, operation[2])
                    operation = (*operation[:2], moved)
                apply(company, admin, managers, operation)
            services.rollup_run(company_id=company.pk)
            today = company.local_time().date()
            assert stored_totals(company) == expected_totals(company, today)
            # The nightly check finds nothing to fix after the incremental runs.
            reconciliation = services.totals_reconcile(company_id=company.pk)
            assert (reconciliation.written, reconciliation.deleted) == (0, 0)
        transaction.set_rollback(True)
