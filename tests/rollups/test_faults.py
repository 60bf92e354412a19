"""Faults the rollups survive: the broker down while managers submit, a worker killed mid-rollup.

Each test runs its own Redis server and Celery worker, so it can kill them without touching
the session's: the test process's Celery app is pointed at that Redis for the test.
"""

import datetime
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.db import connections
from django.db.models import F
from django.urls import reverse
from kombu import pools as kombu_pools

from accounts import tenancy
from accounts.models import User
from reports.models import DailyReport
from rollups import services, tasks
from rollups.models import Bucket
from salesdesk.celery import app
from tests.factories import CompanyFactory, TeamFactory, UserFactory
from tests.rollups.reference import expected_totals, stored_totals
from tests.rollups.test_worker import day_calls, settled, submit, wait_until, waiting_on

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults]

ROOT = Path(__file__).resolve().parent.parent.parent
FIGURES = {"calls": "60", "long_calls": "25", "talk_time": "1:30:00", "leads": "4"}


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Redis:
    """A redis-server of the test's own, on a fixed port so that it can come back there."""

    port: int
    directory: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(self.answers, timeout=10, what="redis-server")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        self.process = None

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.2).ping())
        except redis.ConnectionError:
            return False


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    """The test process's Celery app uses the Redis at `url` for the block, as broker and
    result backend both, as production does with REDIS_URL."""
    saved = app.conf.broker_url, app.conf.result_backend

    def switch(broker: str, backend: str) -> None:
        # Kombu keeps its pools in process-wide groups keyed by the broker's address:
        # closing one in place would leave it there, closed, for the address's next user
        # (the later tests' "Acquire on closed pool"). reset() closes and forgets them all.
        kombu_pools.reset()
        app._after_fork()  # drops the app's references to those pools
        app._local.__dict__.pop("backend", None)
        app.conf.broker_url, app.conf.result_backend = broker, backend

    switch(url, url)
    try:
        yield
    finally:
        switch(*saved)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Redis]:
    server = Redis(port=free_port(), directory=tmp_path)
    server.start()
    with broker_at(server.url):
        yield server
    if server.process is not None:
        server.kill()


class Workers:
    """Celery worker processes on the test's Redis and the test database."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.running: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        db = connections["default"].settings_dict
        env = {
            **os.environ,
            "REDIS_URL": self.redis.url,
            "DATABASE_URL": (
                f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
            ),
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "salesdesk", "worker", "--pool=solo",
             "--loglevel=WARNING", "--without-gossip", "--without-mingle",
             "-n", f"faults{len(self.running)}@%h"],
            cwd=ROOT,
            env=env,
        )  # fmt: skip
        self.running.append(process)
        name = f"faults{len(self.running) - 1}@"
        deadline = time.monotonic() + 60
        while not any(next(iter(reply)).startswith(name) for reply in app.control.ping()):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the Celery worker did not start")
        return process

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.kill()
            process.wait()


@pytest.fixture
def workers(transactional_db: None, redis_server: Redis) -> Iterator[Workers]:
    # Set up after the database, so torn down (the workers killed) before its tables are
    # flushed: a worker holding them would block the flush.
    pool = Workers(redis_server)
    yield pool
    pool.stop_all()


@pytest.fixture
def company_with_team():
    company = CompanyFactory()
    admin = UserFactory(company=company, role=User.Role.ADMIN)
    team = TeamFactory(company=company)
    managers = [UserFactory(company=company, team=team) for _ in range(2)]
    return company, admin, managers


def stale_buckets(company) -> list[Bucket]:
    with tenancy.tenant_context(company):
        return list(Bucket.objects.filter(company=company, marks__gt=F("done")))


def test_reports_are_saved_while_redis_is_down_and_the_sweep_catches_up(
    client, company_with_team, redis_server, workers
):
    company, _admin, managers = company_with_team
    day = company.local_time().date()
    url = reverse("report-form", kwargs={"day": day.isoformat()})
    redis_server.kill()

    for manager in managers:
        client.force_login(manager)
        started = time.monotonic()
        response = client.post(url, {**FIGURES, "version": "0"})
        # Saved and confirmed; queueing the rollup cost one quick retry, not Celery's 20 s.
        assert response.status_code == 302 and response.url == reverse("my-kpis")
        assert time.monotonic() - started < 3

    with tenancy.tenant_context(company):
        assert DailyReport.objects.filter(company=company, date=day).count() == 2
    assert stale_buckets(company) and day_calls(company, managers[0], day) is None
    assert services.stale_companies() == [company.pk]

    # Redis is back: beat's next sweep queues the company's rollup, a worker runs it.
    redis_server.start()
    workers.start()
    assert tasks.sweep_stale.apply().get() == [company.pk]
    wait_until(lambda: settled(company), what="the swept rollup")
    assert day_calls(company, managers[0], day) == 60
    with tenancy.tenant_context(company):
        assert stored_totals(company) == expected_totals(company, day)


def app_role_connection() -> psycopg.Connection:
    db = connections["default"].settings_dict
    return psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        autocommit=True,
    )


def test_a_worker_killed_in_the_middle_of_a_rollup_leaves_the_totals_whole_and_a_rerun_ends_correct(
    company_with_team, workers
):
    company, admin, managers = company_with_team
    manager = managers[0]
    day = company.local_time().date()
    first = workers.start()
    with tenancy.tenant_context(company):
        submit(company, manager, manager, day, calls=10)
    wait_until(lambda: settled(company) and day_calls(company, manager, day) == 10)

    # Hold the manager's day total: the worker's upsert will wait on it, its fresh totals
    # computed and some rows already written in its transaction. (The watcher is another
    # session: inside a transaction pg_stat_activity does not change.)
    with app_role_connection() as holder, app_role_connection() as watcher, holder.transaction():
        holder.execute("SELECT set_config('app.company_id', %s, true)", [str(company.pk)])
        holder.execute(
            """SELECT id FROM rollups_total WHERE company_id = %s AND scope = 'manager'
            AND subject_id = %s AND period = 'day' AND start = %s FOR UPDATE""",
            [company.pk, manager.pk, day],
        )
        with tenancy.tenant_context(company):
            submit(company, manager, admin, day, calls=25)
        wait_until(
            lambda: waiting_on(watcher, "transactionid", "tuple"),
            what="the worker's upsert waiting on the held total",
        )
        first.send_signal(signal.SIGKILL)
        first.wait()

    # The dead worker's transaction rolled back whole: the old figure, the buckets stale
    # and still claimed by it.
    assert day_calls(company, manager, day) == 10
    stale = stale_buckets(company)
    assert stale and {bucket.claimed_by for bucket in stale} - {""}
    dead = next(bucket.claimed_by for bucket in stale if bucket.claimed_by)
    # Until the claim expires, the sweep leaves it alone (the worker might still be alive).
    assert company.pk not in services.stale_companies()

    # Ten minutes later the claim has expired: the next sweep queues a rollup, another
    # worker takes the buckets over and ends with every total correct.
    with tenancy.tenant_context(company):
        Bucket.objects.filter(company=company, claimed_by=dead).update(
            claimed_at=F("claimed_at") - services.CLAIM_TIMEOUT - datetime.timedelta(seconds=1)
        )
    workers.start()
    assert tasks.sweep_stale.apply().get() == [company.pk]
    wait_until(lambda: settled(company), what="the rerun")
    assert day_calls(company, manager, day) == 25
    with tenancy.tenant_context(company):
        assert stored_totals(company) == expected_totals(company, day)


def test_the_killed_workers_own_task_redelivered_takes_its_claim_back(
    company_with_team, redis_server
):
    """A message acknowledged late comes back with its task id, which is the claim's token:
    the redelivered task does not wait for the claim to expire."""
    company, _admin, managers = company_with_team
    day = company.local_time().date()
    with tenancy.tenant_context(company):
        submit(company, managers[0], managers[0], day, calls=7)
    claimed = services._claim(company_id=company.pk, token="task-of-a-dead-worker")
    assert claimed and company.pk not in services.stale_companies()
    assert services.rollup_run(company_id=company.pk, token="someone-else").buckets == 0

    tasks.rollup_company.apply(args=[company.pk], task_id="task-of-a-dead-worker")

    assert settled(company) and day_calls(company, managers[0], day) == 7
