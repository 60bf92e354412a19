"""The production topology without Docker, started the way docker-compose.yml starts it.

`production` (session-wide) brings up, on loopback and in a temporary directory:
PostgreSQL (its own cluster; docker/postgres-init.sh makes the owner and app roles and the
database), Redis, `manage.py migrate` as the owner, gunicorn with DEBUG off, a Celery worker
and Celery beat, and an SMTP sink. Every process gets the settings compose gives it: the
values of `.env.example` (the env_file) with what compose's `environment:` adds (the
database URLs, the Redis URL, the passwords taken away), adapted to loopback in the
documented plain-HTTP mode (SITE_ADDRESS=:80 → SECURE=0, an http:// SITE_URL), and nothing
of the test process's environment. Mail goes over SMTP to the sink: `read_outbox()`.

The only departure from .env.example is speed: HEALTH_BEAT_SECONDS=1 (beat's tick for
/healthz), two gunicorn workers and one Celery process on a two-core machine.
"""

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.conftest import ROOT
from tests.production.smtp import SmtpSink

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def env_file(path: Path) -> dict[str, str]:
    """KEY=value lines as docker compose reads an env_file (comments and blanks skipped)."""
    values = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if match:
            values[match[1]] = match[2]
    return values


def as_postgres(command: list[str]) -> list[str]:
    # initdb refuses root: the cluster belongs to the postgres user, as in scripts/_services.sh.
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else command


@dataclass
class Production:
    base_url: str
    env: dict[str, str]  # what web, worker and beat get
    owner_env: dict[str, str]  # what migrate gets
    work: Path
    smtp: SmtpSink
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def read_outbox(self, count: int = 1, timeout: float = 30) -> list[EmailMessage]:
        return self.smtp.read_outbox(count, timeout)

    def manage(self, *args: str, owner: bool = False) -> subprocess.CompletedProcess:
        """`docker compose exec web python manage.py …` (or `run migrate` as the owner)."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.owner_env if owner else self.env,
            capture_output=True,
            text=True,
            check=False,
        )

    def healthz(self) -> tuple[int, dict]:
        import json

        try:
            with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def wait_healthy(self, timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        status, body = 0, {}
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    pytest.fail(f"{name} exited: {self.log(name)[-3000:]}")
            try:
                status, body = self.healthz()
            except OSError:
                status = 0
            if status == 200:
                return body
            time.sleep(0.5)
        pytest.fail(f"/healthz stayed {status} {body}")

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = (self.work / f"{name}.log").open("a")
        process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.processes[name] = process
        return process

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name)
        if process.poll() is None:
            os.killpg(process.pid, sig)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def log(self, name: str) -> str:
        path = self.work / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


COMMANDS = {
    # The Dockerfile's CMD and docker-compose.yml's commands, on loopback.
    "web": lambda port, work: [sys.executable, "-m", "gunicorn", "salesdesk.wsgi", "--bind",
                         f"127.0.0.1:{port}", "--workers", "2", "--access-logfile", "-"],
    "worker": lambda port, work: [sys.executable, "-m", "celery", "-A", "salesdesk", "worker",
                            "--loglevel=INFO", "--concurrency=1"],
    "beat": lambda port, work: [sys.executable, "-m", "celery", "-A", "salesdesk", "beat",
                                "--loglevel=INFO", f"--schedule={work}/celerybeat-schedule"],
}  # fmt: skip


def _start_postgres(work: Path, port: int, passwords: dict[str, str]) -> None:
    data = work / "pg"
    (work / "pwfile").write_text(passwords["POSTGRES_PASSWORD"])
    os.chmod(work / "pwfile", 0o644)
    subprocess.run(
        as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres",
                     f"--pwfile={work / 'pwfile'}", "-A", "scram-sha-256", "-E", "UTF8",
                     "--locale=C.UTF-8"]),
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    subprocess.run(
        as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(work / "pg.log"), "-w",
                     "start", "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {work}"
                     " -c fsync=off -c synchronous_commit=off"]),
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    # The image's first start: docker/postgres-init.sh, with the variables compose gives it.
    subprocess.run(
        ["sh", str(ROOT / "docker/postgres-init.sh")],
        env={
            "PATH": os.environ["PATH"], "PGHOST": "127.0.0.1", "PGPORT": str(port),
            "PGPASSWORD": passwords["POSTGRES_PASSWORD"], "POSTGRES_USER": "postgres",
            "SALESDESK_OWNER_PASSWORD": passwords["SALESDESK_OWNER_PASSWORD"],
            "SALESDESK_APP_PASSWORD": passwords["SALESDESK_APP_PASSWORD"],
        },
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture(scope="session")
def production() -> Iterator[Production]:
    work = Path(tempfile.mkdtemp(prefix="salesdesk-production-"))
    os.chmod(work, 0o755)
    if os.getuid() == 0:
        shutil.chown(work, "postgres")
    pg_port, redis_port, web_port = free_port(), free_port(), free_port()
    base_url = f"http://127.0.0.1:{web_port}"
    smtp = SmtpSink()

    settings = env_file(ROOT / ".env.example")
    roles = ("POSTGRES_PASSWORD", "SALESDESK_OWNER_PASSWORD", "SALESDESK_APP_PASSWORD")
    passwords = {name: secrets.token_hex(16) for name in roles}
    settings.update(
        passwords,
        SECRET_KEY=secrets.token_urlsafe(50),
        CRM_CREDENTIALS_KEY=Fernet.generate_key().decode(),
        # The plain-HTTP mode of an internal network (README, Production).
        SITE_ADDRESS=":80",
        SECURE="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CSRF_TRUSTED_ORIGINS=base_url,
        SITE_URL=base_url,
        TRUSTED_PROXY_COUNT="0",  # no Caddy in front here
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp.port),
        EMAIL_USE_TLS="0",
        EMAIL_USER="",
        EMAIL_PASSWORD="",
        SENTRY_DSN="",
        LOG_LEVEL="INFO",
        HEALTH_BEAT_SECONDS="1",
    )
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    app_url = f"postgres://salesdesk_app:{passwords['SALESDESK_APP_PASSWORD']}@127.0.0.1:{pg_port}/salesdesk"
    owner_url = f"postgres://salesdesk_owner:{passwords['SALESDESK_OWNER_PASSWORD']}@127.0.0.1:{pg_port}/salesdesk"
    env = {
        **base,
        **settings,
        # docker-compose.yml's `environment:` of x-app.
        "DATABASE_URL": app_url,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "POSTGRES_PASSWORD": "",
        "SALESDESK_OWNER_PASSWORD": "",
    }
    owner_env = {**env, "DATABASE_URL": owner_url}
    topology = Production(base_url, env, owner_env, work, smtp)
    redis_pid = work / "redis.pid"
    try:
        _start_postgres(work, pg_port, passwords)
        subprocess.run(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "yes", "--pidfile", str(redis_pid),
             "--logfile", str(work / "redis.log"), "--dir", str(work)],
            check=True,
        )  # fmt: skip
        migrated = topology.manage("migrate", "--no-input", owner=True)
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        # The image's build step (Dockerfile: collectstatic with the manifest storage);
        # scripts/test has made the same build already.
        if not (ROOT / "staticfiles" / "staticfiles.json").exists():
            built = topology.manage("collectstatic", "--noinput", "-v0")
            assert built.returncode == 0, built.stderr
        for name, command in COMMANDS.items():
            topology.start(name, command(web_port, work))
        topology.wait_healthy(timeout=120)
        yield topology
    finally:
        for name in list(topology.processes):
            topology.stop(name)
        if redis_pid.exists():
            os.kill(int(redis_pid.read_text()), signal.SIGTERM)
        subprocess.run(
            as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(work / "pg"), "-m", "immediate",
                         "stop"]),
            check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        smtp.close()
        if os.environ.get("KEEP_PRODUCTION_LOGS"):
            print(f"production topology logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def base_url(production: Production) -> str:
    return production.base_url


@pytest.fixture
def read_outbox(production: Production) -> Callable[..., list[EmailMessage]]:
    return production.read_outbox
