"""What `/healthz` reports: the database, Redis, the Celery worker and Celery beat.

beat is seen through its own tick: `beat_tick` is on beat's schedule every
`HEALTH_BEAT_SECONDS` and, run by a worker, stores the moment in Redis. A tick older than
three intervals means beat (or every worker) stopped, and reminders and digests with it.
"""

import time

from celery import shared_task
from django.conf import settings
from django.db import connection

BEAT_TICK_KEY = "salesdesk:health:beat-tick"
STALE_AFTER_INTERVALS = 3


def _redis():  # type: ignore[no-untyped-def]
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)


@shared_task(ignore_result=True)
def beat_tick() -> None:
    _redis().set(BEAT_TICK_KEY, repr(time.time()))


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return "error"
    return "ok"


def broker_status() -> str:
    import redis

    try:
        _redis().ping()
    except redis.RedisError:
        return "error"
    return "ok"


def worker_status() -> str:
    from salesdesk.celery import app

    try:
        # The first answer is enough; none within the second means no worker consumes.
        answers = app.control.ping(timeout=settings.HEALTH_WORKER_TIMEOUT, limit=1)
    except Exception:
        return "error"
    return "ok" if answers else "error"


def beat_tick_age() -> float | None:
    """Seconds since beat's last tick ran; None when there is none (or Redis is down)."""
    import redis

    try:
        value = _redis().get(BEAT_TICK_KEY)
    except redis.RedisError:
        return None
    return max(0.0, time.time() - float(value)) if value else None


def beat_status() -> dict[str, object]:
    if not settings.REDIS_URL:
        return {"beat": "eager"}
    age = beat_tick_age()
    stale = STALE_AFTER_INTERVALS * settings.HEALTH_BEAT_SECONDS
    return {
        "beat": "ok" if age is not None and age <= stale else "error",
        "beat_last_tick_seconds_ago": None if age is None else round(age, 1),
    }


def system_status() -> dict[str, object]:
    """The JSON of /healthz: `status` is "ok" when every part is, else "error"."""
    checks: dict[str, object] = {"database": database_status()}
    if not settings.REDIS_URL:
        # The embedded profile: tasks run in-process, there is no worker or beat to watch.
        checks.update(broker="eager", worker="eager", beat="eager")
    else:
        checks["broker"] = broker_status()
        checks["worker"] = worker_status() if checks["broker"] == "ok" else "error"
        checks.update(beat_status())
    healthy = "error" not in checks.values()
    return {"status": "ok" if healthy else "error", **checks}
