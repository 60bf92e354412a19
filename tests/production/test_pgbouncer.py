"""Two nodes on one machine: the 18:00 peak (bench/load.py --pgbouncer, small) through two
gunicorn groups and two Celery workers against one PostgreSQL behind PgBouncer in transaction
mode, with DB_TRANSACTION_POOLING: every report submitted is stored, no request fails, the
rollups catch up and the totals need no fixing (row-level security held through the pool)."""

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis

from tests import parallel
from tests.conftest import ROOT

pytestmark = [pytest.mark.production]

COMPANIES, MANAGERS = 2, 6


def url_of(url: str, dbname: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{dbname}"))


@pytest.fixture
def empty_database():
    """A database of its own in the test cluster, migrated by the owner, dropped afterwards."""
    if not os.path.exists("/usr/sbin/pgbouncer"):
        pytest.skip("Debian's pgbouncer is not installed")
    name = f"peak_{uuid.uuid4().hex[:8]}"
    admin_url = os.environ["DATABASE_ADMIN_URL"]
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} OWNER salesdesk_owner")
    # A Redis database of its own: on the worker's, the session's `celery_worker` (started
    # by an earlier test of this xdist worker) took the bench's rollups and ran them on the
    # test database, so the bench's buckets stayed stale.
    redis_url = parallel.services_redis_url(os.environ["REDIS_URL"])
    redis.Redis.from_url(redis_url).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": url_of(os.environ["DATABASE_URL"], name),
        "DATABASE_ADMIN_URL": url_of(admin_url, name),
        "REDIS_URL": redis_url,
    }
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": url_of(os.environ["DATABASE_OWNER_URL"], name)},
        capture_output=True,
        text=True,
    )
    assert migrated.returncode == 0, migrated.stderr
    yield env
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    redis.Redis.from_url(redis_url).flushdb()


def test_the_peak_through_pgbouncer_loses_nothing(empty_database, tmp_path: Path):
    bench = subprocess.run(
        [sys.executable, "bench/load.py", "--pgbouncer", "--companies", str(COMPANIES),
         "--managers", str(MANAGERS), "--days", "2", "--minutes", "0.5", "--poll", "5",
         "--page-every", "2", "--web-workers", "2", "--celery-concurrency", "2",
         "--logs", str(tmp_path)],
        cwd=ROOT, env=empty_database, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert bench.returncode == 0, bench.stderr[-3000:]
    figures = dict(line.split("=", 1) for line in bench.stdout.splitlines() if "=" in line)
    assert figures["topology"].startswith("2 web groups + 2 workers via pgbouncer")
    assert figures["reports_sent"] == figures["reports_stored"] == str(COMPANIES * MANAGERS)
    assert figures["reports_accepted"] == figures["reports_sent"]
    assert figures["reports_lost"] == "0"
    assert figures["errors_5xx"] == figures["errors_other"] == "0"
    assert figures["rollups_current_after_s"] != "timeout"
    assert figures["totals_drift"] == "0"
    # The history's buckets were there, rolled up, before the peak marked today's.
    assert int(figures["history_buckets"]) > 0
    # Both nodes served and both workers worked.
    served = [(tmp_path / f"gunicorn{n}.log").read_text() for n in (0, 1)]
    assert all("Booting worker" in log for log in served)
    assert "process up" in (tmp_path / "pgbouncer.log").read_text()
