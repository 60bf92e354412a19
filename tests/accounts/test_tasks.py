"""The per-company fan-out and the one retry policy, on the real worker."""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

import dj_database_url
import psycopg
import pytest
from django.db import OperationalError, connections

from accounts import tenancy
from accounts.tasks import CompanyTask
from clients import tasks as client_tasks
from crm_sync import tasks as crm_tasks
from dashboard import tasks as dashboard_tasks
from reports import tasks as report_tasks
from reports.models import Reminder
from rollups import tasks as rollup_tasks
from rollups.models import Reconciliation

# Moments in Moscow, where the cast's companies are: the nightly reconciliation's hour, and
# a working Tuesday past the reminder time.
MOSCOW_3AM = "2026-11-25T00:30:00+00:00"
TUESDAY_6PM = "2026-11-24T18:05:00+03:00"
FAILURES = 2


@pytest.fixture
def owner() -> Iterator[psycopg.Connection]:
    """A session on the test database as the tables' owner (a test's trigger needs it)."""
    url = dj_database_url.parse(os.environ["DATABASE_OWNER_URL"])
    db = connections["default"].settings_dict
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], dbname=db["NAME"],
        user=url["USER"], password=url["PASSWORD"], autocommit=True,
    ) as conn:  # fmt: skip
        yield conn


@contextmanager
def refusing(owner: psycopg.Connection, table: str, company_id: int) -> Iterator[None]:
    """The company's inserts into `table` fail FAILURES times with a deadlock, as under
    contention, then pass; a sequence counts the tries (nextval outlives a rollback)."""
    owner.execute("CREATE SEQUENCE test_tries")
    owner.execute(f"""
        CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
        BEGIN
            IF NEW.company_id = {company_id} THEN
                IF nextval('test_tries') <= {FAILURES} THEN
                    RAISE EXCEPTION 'deadlock detected (the test''s)' USING ERRCODE = '40P01';
                END IF;
            END IF;
            RETURN NEW;
        END $$
    """)
    owner.execute(
        f"CREATE TRIGGER test_refuse BEFORE INSERT ON {table}"
        " FOR EACH ROW EXECUTE FUNCTION test_refuse()"
    )
    try:
        yield
    finally:
        owner.execute(f"DROP TRIGGER test_refuse ON {table}")
        owner.execute("DROP FUNCTION test_refuse()")
        owner.execute("DROP SEQUENCE test_tries")


def tries(owner: psycopg.Connection) -> int:
    return owner.execute("SELECT last_value FROM test_tries").fetchone()[0]


def count(cast, model) -> int:
    with tenancy.tenant_context(cast.company):
        return model.objects.filter(company=cast.company).count()


def wait_for(counts, expected, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while counts() != expected:
        assert time.monotonic() < deadline, f"{what}: {counts()} instead of {expected}"
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_one_company_s_failed_reconciliation_is_retried_and_stops_no_other(
    alpha, beta, owner, celery_worker
):
    before = count(alpha, Reconciliation), count(beta, Reconciliation)
    with refusing(owner, "rollups_reconciliation", alpha.company.pk):
        queued = rollup_tasks.reconcile_nightly.delay(3, MOSCOW_3AM).get(timeout=30)
        assert queued == sorted([alpha.company.pk, beta.company.pk])
        wait_for(
            lambda: (count(alpha, Reconciliation), count(beta, Reconciliation)),
            (before[0] + 1, before[1] + 1),
            "reconciliations",
        )
        assert tries(owner) == FAILURES + 1  # refused twice, retried, then done once


@pytest.mark.django_db(transaction=True)
def test_one_company_s_failed_reminders_are_retried_and_stop_no_other(
    alpha, beta, owner, clear_mail
):
    """Reminders were retried only on a lost connection: a deadlock lost them until the
    next beat run, and a company whose task failed to queue stopped the rest."""
    before = count(alpha, Reminder), count(beta, Reminder)
    with refusing(owner, "reports_reminder", alpha.company.pk):
        queued = report_tasks.send_due_reminders.delay(TUESDAY_6PM).get(timeout=30)
        assert queued == sorted([alpha.company.pk, beta.company.pk])
        # Each company: its three managers reported nothing that day, and their head.
        wait_for(
            lambda: (count(alpha, Reminder), count(beta, Reminder)),
            (before[0] + 4, before[1] + 4),
            "reminders",
        )
        assert tries(owner) == FAILURES + 4


PER_COMPANY_TASKS = [
    client_tasks.classify_company,
    client_tasks.refresh_alerts,
    client_tasks.refresh_client_figures,
    crm_tasks.pull_connection,
    crm_tasks.refresh_deals,
    crm_tasks.refresh_pending,
    dashboard_tasks.send_company_digests,
    report_tasks.send_company_reminders,
    rollup_tasks.rollup_company,
    rollup_tasks.reconcile_company,
]


@pytest.mark.parametrize("task", PER_COMPANY_TASKS, ids=lambda task: task.name)
def test_every_company_task_has_the_one_policy(task):
    assert isinstance(task, CompanyTask)
    assert task.acks_late
    assert {OperationalError, ConnectionError} <= set(task.autoretry_for)
    assert task.retry_backoff and task.retry_jitter
    assert task.max_retries >= CompanyTask.max_retries
