"""/healthz: what a monitor reads — the database, Redis, the worker (a ping) and beat (the age
of its last tick) — and 503 when any of them is down."""

import time

import pytest
import redis
from django.conf import settings
from django.test import override_settings

from accounts import health


def tick_at(moment: float) -> None:
    redis.Redis.from_url(settings.REDIS_URL).set(health.BEAT_TICK_KEY, repr(moment))


@pytest.fixture
def no_tick():
    broker = redis.Redis.from_url(settings.REDIS_URL)
    broker.delete(health.BEAT_TICK_KEY)
    yield
    broker.delete(health.BEAT_TICK_KEY)


@pytest.mark.celery_worker
def test_all_green_with_a_worker_and_a_fresh_tick(client, db, celery_worker, no_tick):
    # The tick as beat queues it, run by the real worker.
    health.beat_tick.delay()
    deadline = time.monotonic() + 20
    while health.beat_tick_age() is None and time.monotonic() < deadline:
        time.sleep(0.1)

    response = client.get("/healthz")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert {k: body[k] for k in ("status", "database", "broker", "worker", "beat")} == {
        "status": "ok", "database": "ok", "broker": "ok", "worker": "ok", "beat": "ok"
    }  # fmt: skip
    assert 0 <= body["beat_last_tick_seconds_ago"] < 20


@pytest.mark.celery_worker
def test_a_stale_tick_means_beat_is_down(client, db, celery_worker, no_tick):
    stale = health.STALE_AFTER_INTERVALS * settings.HEALTH_BEAT_SECONDS
    tick_at(time.time() - stale - 5)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["beat"] == "error" and response.json()["worker"] == "ok"
    assert response.json()["beat_last_tick_seconds_ago"] > stale

    # A tick within three intervals is well.
    tick_at(time.time() - stale + 5)
    assert client.get("/healthz").json()["beat"] == "ok"


@pytest.mark.celery_worker
def test_no_tick_at_all_means_beat_is_down(client, db, celery_worker, no_tick):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["beat"] == "error"
    assert response.json()["beat_last_tick_seconds_ago"] is None


def test_it_fails_when_redis_is_unreachable(client, db):
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert (body["broker"], body["worker"], body["beat"]) == ("error", "error", "error")
    assert body["database"] == "ok"


def test_beat_has_the_tick_on_its_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["health-beat-tick"]
    assert entry["task"] == health.beat_tick.name == "accounts.health.beat_tick"
    assert entry["schedule"] == settings.HEALTH_BEAT_SECONDS


@pytest.mark.celery_worker
def test_the_beat_container_s_check_reads_the_tick(db, celery_worker, no_tick):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="unhealthy"):
        call_command("healthcheck", "--beat")
    tick_at(time.time())
    call_command("healthcheck", "--beat")
