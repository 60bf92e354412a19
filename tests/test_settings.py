"""The production profile passes Django's deployment checks with no warning."""

import json
import os
import secrets
import subprocess
import sys

from django.conf import settings

from tests.conftest import ROOT


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_production_profile_passes_check_deploy():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="salesdesk.example.com",
        SITE_URL="https://salesdesk.example.com",
        CRM_CREDENTIALS_KEY="3Yx0Qm3Yb6kX3v1o3hC1bq6Wk2zJ6l4sJ1n9rV8tQ0E=",
        DATABASE_URL=os.environ["DATABASE_URL"],
        REDIS_URL=os.environ["REDIS_URL"],
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", ALLOWED_HOSTS="x")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_the_test_run_uses_postgresql_and_redis():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert not settings.CELERY_TASK_ALWAYS_EAGER


def test_the_cache_builds_one_redis_client_for_its_pool(monkeypatch):
    """Django's Redis cache built a redis.Redis (and its ~200 response callbacks) for every
    operation; salesdesk.cache keeps one per connection pool. Fails on Django's own backend:
    three operations, three clients."""
    import redis
    from django.core.cache import caches

    built = []
    original = redis.Redis.__init__

    def counting(self, *args, **kwargs):
        built.append(self)
        original(self, *args, **kwargs)

    cache = caches.create_connection("default")  # a fresh backend: no client made yet
    monkeypatch.setattr(redis.Redis, "__init__", counting)
    cache.set("tests:one-client", 1, 10)
    assert cache.get("tests:one-client") == 1
    assert cache.get_many(["tests:one-client", "tests:none"]) == {"tests:one-client": 1}
    assert len(built) == 1


def _as_a_web_worker(script: str) -> str:
    """What `script` prints, run in a fresh process after it imports salesdesk.wsgi as
    gunicorn's worker does."""
    result = subprocess.run(
        [sys.executable, "-c", "import salesdesk.wsgi\n" + script],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "salesdesk.settings"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_web_worker_freezes_the_loaded_app_for_the_collector():
    """salesdesk.wsgi, as gunicorn loads it: the app's objects frozen, young objects
    collected after 50 000 allocations instead of 2 000."""
    output = _as_a_web_worker("import gc; print(gc.get_freeze_count(), *gc.get_threshold())")
    frozen, first, *_ = map(int, output.split())
    assert frozen > 100_000
    assert first == 50_000


def test_a_web_worker_compiles_every_template_before_its_first_request():
    """salesdesk.wsgi warms the worker up (salesdesk.warmup): every template of the project
    is in the cached loader, both catalogs and the charts' plotly template are loaded, so
    that no request pays for them."""
    script = """
import json
from pathlib import Path
from django.template import engines
from django.utils.translation import trans_real
from salesdesk import charts
engine = engines["django"].engine
cache = engine.template_loaders[0].get_template_cache
names = {p.relative_to(d).as_posix() for d in map(Path, engine.dirs) for p in d.rglob("*.html")}
print(json.dumps({
    "templates": len(names),
    "not_compiled": sorted(names - set(cache)),
    "catalogs": sorted(trans_real._translations),
    "plotly_template": charts._template.cache_info().currsize,
}))
"""
    warm = json.loads(_as_a_web_worker(script).splitlines()[-1])
    assert warm["templates"] > 50
    assert warm["not_compiled"] == []
    assert {"en", "ru"} <= set(warm["catalogs"])
    assert warm["plotly_template"] == 1
