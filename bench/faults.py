"""Faults under a running app: scripts/bench faults [--outage 3].

Starts the app as bench/load.py does (gunicorn, a Celery worker, persistent connections) on
a small generated data set, keeps a head's dashboard polled every 0.1 s and then:

1. restarts PostgreSQL (pg_ctl restart -m fast) under it: requests may fail while the
   server is down, every one after it is back must succeed, and gunicorn and the worker are
   not restarted; managers then submit reports and the worker rolls them up;
2. stops Redis while managers submit: every report is saved and confirmed; Redis comes
   back, the sweep (`rollups.tasks.sweep_stale`, beat's every minute) queues the rollups and
   the same worker, reconnected by itself, makes every total current.

Prints name=value lines (pg_failed_requests, pg_first_ok_after_s, pg_failures_after_recovery,
redis_reports_accepted, redis_reports_stored, redis_rollups_current_after_s, …) and
faults_ok=1 when every expectation held; progress goes to stderr.
"""

import argparse
import contextlib
import datetime
import glob
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import load
import requests
import rollup
from rollup import emit, log

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d*)"')


def as_cluster_owner(command: list[str]) -> list[str]:
    """initdb refused root, so scripts/_services.sh made the cluster the postgres user's."""
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else command


def pg_restart() -> float:
    with rollup.admin_connect(autocommit=True) as admin:
        data_directory = admin.execute("SHOW data_directory").fetchone()[0]
    pg_ctl = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]
    started = time.monotonic()
    subprocess.run(
        as_cluster_owner([pg_ctl, "-D", data_directory, "-m", "fast", "-w", "restart"]),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - started


@dataclass
class Prober:
    """A head's dashboard poll, every 0.1 s, in a thread: (moment sent, status) of each."""

    host: str
    session: str
    answers: list[tuple[float, int]] = field(default_factory=list)
    running: bool = True

    def run(self) -> None:
        client = requests.Session()
        client.cookies.set("sessionid", self.session)
        headers = {"HX-Request": "true", "HX-Target": "figures"}
        while self.running:
            moment = time.monotonic()  # when the request left: a failure is placed by it
            try:
                status = client.get(f"{self.host}/dashboard/", headers=headers, timeout=10)
                code = status.status_code
            except requests.RequestException:
                code = 0
            self.answers.append((moment, code))
            time.sleep(0.1)


def submit(host: str, session: str, day: datetime.date, figures: dict[str, str]) -> bool:
    """The report form as the browser sends it; True when the app confirmed the report."""
    client = requests.Session()
    client.cookies.set("sessionid", session)
    page = client.get(f"{host}/report/{day.isoformat()}/", timeout=30)
    if page.status_code != 200 or 'name="version"' not in page.text:
        return False
    form = {
        "csrfmiddlewaretoken": CSRF.search(page.text).group(1),
        "version": VERSION.search(page.text).group(1),
        "confirm": "yes",
        **figures,
    }
    answer = client.post(
        f"{host}/report/{day.isoformat()}/", data=form, allow_redirects=False, timeout=30
    )
    return answer.status_code == 302 and answer.headers.get("Location") == "/my/"


def figures_of(manager: rollup.Manager, data: rollup.DataSet) -> dict[str, str]:
    pairs = zip(rollup.day_values(manager, data.rng), manager.kpis, strict=True)
    return {
        code: load.duration_text(text) if code == "talk_time" else text
        for (_kpi, text), (_id, code) in pairs
    }


def redis_client():
    import redis

    return redis.Redis.from_url(os.environ["REDIS_URL"])


def redis_stop() -> list[str]:
    """Shuts the Redis of scripts/bench down; returns the arguments that start it again."""
    import redis

    client = redis_client()
    config = {key: client.config_get(key)[key] for key in ("port", "dir", "pidfile")}
    with contextlib.suppress(redis.ConnectionError):  # it closes the connection as it goes
        client.shutdown(nosave=True)
    # As scripts/_services.sh starts it, so that its cleanup stops this one too.
    return ["redis-server", "--port", config["port"], "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "yes", "--pidfile", config["pidfile"],
            "--dir", config["dir"]]  # fmt: skip


def redis_start(command: list[str]) -> None:
    import redis

    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if redis_client().ping():
                return
        except redis.ConnectionError:
            time.sleep(0.1)
    sys.exit("bench: Redis did not come back")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=2)
    parser.add_argument("--managers", type=int, default=6, help="per company")
    parser.add_argument("--outage", type=float, default=3, help="seconds Redis stays down")
    parser.add_argument("--logs", help="keep the services' logs in this directory")
    args = parser.parse_args()
    args.days = 5
    rollup.serve_like_production("faults")
    today = datetime.datetime.now(rollup.MOSCOW).date()
    emit("conn_max_age", os.environ["DB_CONN_MAX_AGE"])

    heads: dict[int, list[int]] = {}
    rollup.build_directory = load.shape_teams(heads)
    data = rollup.generate(args, today)
    load.totals_compute(data)
    users = {m.id: m.company_id for m in data.managers}
    users.update({h: c for c, ids in heads.items() for h in ids})
    sessions = load.sessions_create(users)
    from django.db import connections

    connections.close_all()  # this process keeps no connection across the restart

    import tempfile

    work = Path(args.logs) if args.logs else Path(tempfile.mkdtemp(prefix="salesdesk-faults-"))
    work.mkdir(parents=True, exist_ok=True)
    port = load.free_port()
    host = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(load.ROOT)}
    web = load.start(
        [sys.executable, "-m", "gunicorn", "salesdesk.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--timeout", "60"],
        env, work / "gunicorn.log",
    )  # fmt: skip
    worker = load.start(
        [sys.executable, "-m", "celery", "-A", "salesdesk", "worker", "--loglevel=WARNING",
         "--concurrency=1", "--without-gossip", "--without-mingle"],
        env, work / "celery.log",
    )  # fmt: skip
    pids = (web.pid, worker.pid)
    ok = True
    managers = data.managers
    half = len(managers) // 2
    try:
        load.wait_healthy(f"{host}/healthz", web)
        head = next(iter(heads.values()))[0]
        prober = Prober(host, sessions[head])
        thread = threading.Thread(target=prober.run, daemon=True)
        thread.start()
        time.sleep(3)

        # 1. PostgreSQL restarted under the running app.
        log("restarting PostgreSQL")
        restart_started = time.monotonic()
        emit("pg_restart_s", pg_restart())
        restart_ended = time.monotonic()
        time.sleep(5)
        prober.running = False
        thread.join()
        before = [s for t, s in prober.answers if t < restart_started]
        after = [(t, s) for t, s in prober.answers if t >= restart_started]
        first_ok = next((t for t, s in after if t >= restart_ended and s == 200), None)
        failed = [s for _t, s in after if s != 200]
        late = [s for t, s in after if first_ok is not None and t > first_ok and s != 200]
        emit("pg_requests_before", len(before))
        emit("pg_failures_before", sum(1 for s in before if s != 200))
        emit("pg_requests_during_and_after", len(after))
        emit("pg_failed_requests", len(failed))
        emit("pg_failed_statuses", ",".join(sorted({str(s) for s in failed})) or "-")
        emit("pg_first_ok_after_s", "never" if first_ok is None else first_ok - restart_ended)
        emit(
            "pg_failed_sent_after_restart",
            sum(1 for t, s in after if t >= restart_ended and s != 200),
        )
        emit("pg_failures_after_recovery", len(late))
        accepted = sum(
            submit(host, sessions[m.id], today, figures_of(m, data)) for m in managers[:half]
        )
        emit("pg_reports_accepted_after", f"{accepted}/{half}")
        settled = load.rollups_settle(time.time(), timeout=60)
        emit("pg_rollups_current_after_s", "timeout" if settled is None else settled)
        restarted = web.poll() is not None or worker.poll() is not None
        emit("pg_app_restarted", int(restarted))
        ok &= bool(before) and first_ok is not None and not late and accepted == half
        ok &= settled is not None and not restarted

        # 2. Redis stopped while managers submit.
        log("stopping Redis")
        redis_command = redis_stop()
        started = time.monotonic()
        rest = managers[half:]
        accepted = sum(submit(host, sessions[m.id], today, figures_of(m, data)) for m in rest)
        emit("redis_submit_s_per_report", (time.monotonic() - started) / max(1, len(rest)))
        with rollup.admin_connect(autocommit=True) as admin:
            stored = admin.execute(
                "SELECT count(*) FROM reports_dailyreport WHERE date = %s AND manager_id = ANY(%s)",
                [today, [m.id for m in rest]],
            ).fetchone()[0]
        emit("redis_reports_accepted", f"{accepted}/{len(rest)}")
        emit("redis_reports_stored", f"{stored}/{len(rest)}")
        emit("redis_stale_buckets_while_down", load.stale_buckets())
        time.sleep(max(0.0, args.outage - (time.monotonic() - started)))
        redis_start(redis_command)
        log("Redis is back: the sweep beat would run")
        back = time.time()
        from rollups.tasks import sweep_stale

        swept = sweep_stale.apply().get()
        emit("redis_swept_companies", len(swept))
        settled = load.rollups_settle(back, timeout=120)
        emit("redis_rollups_current_after_s", "timeout" if settled is None else settled)
        restarted = web.poll() is not None or worker.poll() is not None
        emit("redis_app_restarted", int(restarted))
        ok &= accepted == len(rest) and stored == len(rest)
        ok &= settled is not None and not restarted
    finally:
        load.stop(web)
        load.stop(worker)
    emit("same_processes", int((web.pid, worker.pid) == pids))
    drift = load.totals_drift(data.companies)
    emit("totals_drift", drift)
    emit("faults_ok", int(ok and drift == 0))
    log(f"logs in {work}")
    sys.exit(0 if ok and drift == 0 else 1)


if __name__ == "__main__":
    main()
