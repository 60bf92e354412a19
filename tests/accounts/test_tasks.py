"""The per-company fan-out and the one retry policy, on the real worker."""

import os
import time
from collections.abc import Iterator

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
from rollups import tasks as rollup_tasks
from rollups.models import Reconciliation

# 03:30 in Moscow, where the cast's companies are: the nightly reconciliation's hour.
MOSCOW_3AM = "2026-11-25T00:30:00+00:00"
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


@pytest.fixture
def alpha_refused(owner, alpha) -> Iterator[psycopg.Connection]:
    """Alpha's reconciliation fails FAILURES times with a deadlock, as under contention; a
    sequence counts the attempts (nextval survives the rollback of the failed one)."""
    owner.execute("CREATE SEQUENCE test_alpha_attempts")
    owner.execute(f"""
        CREATE FUNCTION test_refuse_alpha() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER AS $$
        BEGIN
            IF NEW.company_id = {alpha.company.pk} THEN
                IF nextval('test_alpha_attempts') <= {FAILURES} THEN
                    RAISE EXCEPTION 'deadlock detected (the test''s)' USING ERRCODE = '40P01';
                END IF;
            END IF;
            RETURN NEW;
        END $$
    """)
    owner.execute(
        "CREATE TRIGGER test_refuse_alpha BEFORE INSERT ON rollups_reconciliation"
        " FOR EACH ROW EXECUTE FUNCTION test_refuse_alpha()"
    )
    try:
        yield owner
    finally:
        owner.execute("DROP TRIGGER test_refuse_alpha ON rollups_reconciliation")
        owner.execute("DROP FUNCTION test_refuse_alpha()")
        owner.execute("DROP SEQUENCE test_alpha_attempts")


def reconciliations(cast) -> int:
    with tenancy.tenant_context(cast.company):
        return Reconciliation.objects.filter(company=cast.company).count()


@pytest.mark.django_db(transaction=True)
def test_one_company_s_failure_is_retried_and_stops_no_other(
    alpha, beta, alpha_refused, celery_worker
):
    before = reconciliations(alpha), reconciliations(beta)

    queued = rollup_tasks.reconcile_nightly.delay(3, MOSCOW_3AM).get(timeout=30)

    assert queued == sorted([alpha.company.pk, beta.company.pk])
    deadline = time.monotonic() + 60
    while (reconciliations(alpha), reconciliations(beta)) != (before[0] + 1, before[1] + 1):
        assert time.monotonic() < deadline, "the reconciliations did not all finish"
        time.sleep(0.1)
    attempts = alpha_refused.execute("SELECT last_value FROM test_alpha_attempts").fetchone()
    assert attempts == (FAILURES + 1,)  # refused twice, retried, then done once


PER_COMPANY_TASKS = [
    client_tasks.classify_company,
    client_tasks.refresh_alerts,
    client_tasks.refresh_client_figures,
    crm_tasks.pull_connection,
    crm_tasks.refresh_deals,
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
