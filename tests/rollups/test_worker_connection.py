"""A worker's database connection outlives its task, as a request's does (DB_CONN_MAX_AGE):
Celery's Django fix-up closed it around every task, and each report's rollup paid a new
connection and the planning of every statement again (salesdesk/celery.py)."""

import os
import time
from collections.abc import Iterator

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connections

from rollups.tasks import rollup_company
from tests.conftest import worker_process
from tests.factories import CompanyFactory
from tests.rollups.test_worker import side_connection, wait_until  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE = "kept-connection"
APPLICATION = "salesdesk-kept-worker"


@pytest.fixture
def kept_worker(django_db_setup: None) -> Iterator[None]:
    """A worker process of its own on QUEUE, configured as in production (DB_CONN_MAX_AGE),
    whose connections PostgreSQL names APPLICATION."""
    db = connections["default"].settings_dict
    url = (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        f"?application_name={APPLICATION}"
    )
    env = {**os.environ, "DATABASE_URL": url, "DB_CONN_MAX_AGE": "60"}
    process = worker_process(name=f"kept-{os.getpid()}", queues=QUEUE, env=env)
    yield
    process.terminate()
    process.wait(timeout=20)


def _run(company_id: int) -> None:
    """Queues a rollup for the kept worker and waits until it is done and acknowledged."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    rollup_company.apply_async(args=[company_id], queue=QUEUE)
    wait_until(
        lambda: not broker.llen(QUEUE) and not broker.hlen("unacked"), what="the rollup task"
    )
    time.sleep(0.5)  # the task's own after-work (its signals) is done by then


def _backends(conn: psycopg.Connection) -> list[int]:
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND application_name = %s",
        [APPLICATION],
    ).fetchall()
    return [pid for (pid,) in rows]


def test_the_next_task_runs_on_the_same_connection(kept_worker, side_connection):  # noqa: F811
    company = CompanyFactory()
    _run(company.pk)
    first = _backends(side_connection)
    # The fix-up closed it after the task: no session of the worker was left.
    assert len(first) == 1
    _run(company.pk)
    _run(company.pk)
    assert _backends(side_connection) == first
