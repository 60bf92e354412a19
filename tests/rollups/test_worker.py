"""The rollup under a real Celery worker on PostgreSQL, with real concurrent transactions."""

import datetime
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest
from django.db import connections
from django.db.models import F

from accounts import tenancy
from accounts.models import User
from reports import services as report_services
from rollups import services
from rollups.models import Bucket, Total
from tests.factories import CompanyFactory, TeamFactory, UserFactory
from tests.rollups.reference import expected_totals, stored_totals

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until(predicate: Callable[[], object], timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what or predicate}")
        time.sleep(0.05)


@pytest.fixture
def side_connection() -> Iterator[psycopg.Connection]:
    """A second session on the test database, for locks the test holds and to watch waits."""
    db = connections["default"].settings_dict
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        autocommit=True,
    ) as conn:
        yield conn


def waiting_on(conn: psycopg.Connection, *events: str) -> bool:
    """Does another session of this database wait on a lock of one of these kinds?"""
    row = conn.execute(
        """SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
        AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND wait_event = ANY(%s)""",
        [list(events)],
    ).fetchone()
    return bool(row and row[0])


def submit(company, manager: User, actor: User, day: datetime.date, calls: int) -> None:
    existing = manager.daily_reports.filter(date=day).first()
    report_services.report_submit(
        company=company,
        manager=manager,
        day=day,
        values={"calls": calls, "long_calls": 5, "talk_time": "30", "leads": 1},
        actor=actor,
        version=existing.version if existing else 0,
        confirmed=True,
        reason="исправление",
    )


def settled(company) -> bool:
    with tenancy.tenant_context(company):
        return not Bucket.objects.filter(company=company, marks__gt=F("done")).exists()


def day_calls(company, manager: User, day: datetime.date):
    with tenancy.tenant_context(company):
        total = Total.objects.filter(
            company=company,
            scope="manager",
            subject_id=manager.pk,
            kpi__code="calls",
            period="day",
            start=day,
        ).first()
        return total.actual if total else None


@pytest.fixture
def company_with_team(celery_worker):
    company = CompanyFactory()
    admin = UserFactory(company=company, role=User.Role.ADMIN)
    team = TeamFactory(company=company)
    managers = [UserFactory(company=company, team=team) for _ in range(2)]
    return company, admin, managers


def test_a_report_reaches_the_totals_within_seconds(company_with_team):
    company, _admin, managers = company_with_team
    day = company.local_time().date()
    with tenancy.tenant_context(company):
        submit(company, managers[0], managers[0], day, calls=42)
    started = time.monotonic()
    wait_until(lambda: day_calls(company, managers[0], day) == 42, what="the worker's rollup")
    assert time.monotonic() - started < 10
    wait_until(lambda: settled(company), what="no stale bucket")
    with tenancy.tenant_context(company):
        assert stored_totals(company) == expected_totals(company, day)


def test_a_correction_during_a_rollup_ends_in_the_correct_state(company_with_team, side_connection):
    """The worker computes from a snapshot without the correction, which commits while the
    worker waits to record its work: the bucket stays stale and the worker goes round again."""
    company, admin, managers = company_with_team
    manager = managers[0]
    day = company.local_time().date()
    side_connection.execute("SELECT pg_advisory_lock(%s, %s)", [services.ROLLUP_LOCK, company.pk])
    with tenancy.tenant_context(company):
        submit(company, manager, manager, day, calls=10)
    # The worker has claimed the report's buckets and waits for the company's rollup lock.
    wait_until(lambda: waiting_on(side_connection, "advisory"), what="the worker's claim")
    with tenancy.tenant_context(company):
        submit(company, manager, admin, day, calls=25)  # not committed yet
        side_connection.execute(
            "SELECT pg_advisory_unlock(%s, %s)", [services.ROLLUP_LOCK, company.pk]
        )
        # It computed without the correction and now waits on the bucket rows this
        # transaction marked.
        wait_until(
            lambda: waiting_on(side_connection, "transactionid", "tuple"),
            what="the worker's release",
        )
    wait_until(lambda: settled(company) and day_calls(company, manager, day) == 25)
    with tenancy.tenant_context(company):
        assert stored_totals(company) == expected_totals(company, day)


def test_many_reports_from_many_managers_settle_correctly(company_with_team):
    company, admin, managers = company_with_team
    today = company.local_time().date()
    with tenancy.tenant_context(company):
        for offset in range(6):
            for number, manager in enumerate(managers):
                submit(company, manager, admin, today - datetime.timedelta(offset), 10 + number)
    with tenancy.tenant_context(company):
        submit(company, managers[0], admin, today, calls=99)
    wait_until(lambda: settled(company) and day_calls(company, managers[0], today) == 99)
    with tenancy.tenant_context(company):
        assert stored_totals(company) == expected_totals(company, today)
