"""What keeps pytest-xdist's workers apart, loaded as a plugin (`-p tests.parallel` in
pyproject.toml) so that it runs before pytest-django reads the settings.

The workers (`scripts/test` starts two) share the run's PostgreSQL server and Redis server.
pytest-django gives each worker a test database of its own (`test_salesdesk_gw0`, ...);
here each also gets a Redis database of its own, for the cache and for the Celery broker and
result backend, so that the worker's Celery worker process (the `celery_worker` fixture)
consumes only the tasks its own tests queue, and a purge or a queue check sees only those.
The environment is changed, not the settings, so that the processes a test starts with the
test process's environment (that Celery worker) inherit it.
"""

import os
from urllib.parse import urlsplit

import pytest

REDIS_DATABASES = 16  # redis-server's default `databases`
# The last one is no worker's: a test that starts services of its own (tests/production's
# load bench) gives them this one, so the worker's Celery worker cannot take their tasks.
SERVICES_DATABASE = REDIS_DATABASES - 1


def worker_redis_url(url: str, worker: str) -> str:
    """`url` on the worker's own database: gw0 on 1, gw1 on 2, ... (0 is the run's without
    workers)."""
    number = int(worker.removeprefix("gw")) + 1
    if number >= SERVICES_DATABASE:
        raise pytest.UsageError(
            f"{worker}: Redis has {REDIS_DATABASES} databases, one for each worker: run fewer"
        )
    return urlsplit(url)._replace(path=f"/{number}").geturl()


def services_redis_url(url: str) -> str:
    """`url` on the database kept for services a test starts itself (`SERVICES_DATABASE`)."""
    return urlsplit(url)._replace(path=f"/{SERVICES_DATABASE}").geturl()


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    # xdist sets PYTEST_XDIST_WORKER in a worker's environment before the worker starts pytest.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = worker_redis_url(os.environ["REDIS_URL"], worker)
