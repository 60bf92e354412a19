"""The 18:00 peak over real HTTP: scripts/bench load [--companies 5 --managers 5 --minutes 1].

Generates, with bench/rollup.py's generator, the companies (default 200) with their managers
(default 20 each) in teams of at most 7, a head of sales per team, the role KPIs, plans and
a few days of reports, and computes their totals (with the rollup buckets those reports
left, rolled up). Then starts the app as production runs it
(gunicorn with several sync workers, DEBUG off, persistent connections, the app role under
row-level security, Redis, a Celery worker) on loopback, and replays the end of the day with
locust (bench/load_client.py, in a process of its own): every manager opens today's report
at a random moment of the window (default ten minutes), types for a few seconds and submits
the form as the browser does (CSRF token, version, one field per KPI; a question about an
unusual figure is confirmed), while every head keeps the dashboard open (its HTMX poll every
30 seconds with the state its figures show, answered 204 while nothing changed; the whole
page every two minutes). Each head opened the dashboard at its own moment of the two minutes
before the first report is due; their requests then are a warm-up, outside the figures.

Prints name=value lines on stdout: reports_sent, reports_accepted (answered by the redirect
that confirms the report), reports_stored (today's rows, read as the superuser so row-level
security hides none), submit_p95_ms, dashboard_p95_ms, errors_5xx, rollups_current_after_s
(from the last accepted report until no bucket is stale), totals_drift (what a
reconciliation of every company then finds to fix), cpu_ms_<kind> (the web server's CPU per
request of each kind, measured in the gunicorn workers by bench/gunicorn_cpu.py; PostgreSQL's
share is not in it), and more; progress goes to stderr.
Locust shares the machine's cores with the server: client_cpu_s says how much it took, and
machine_cpu_busy_pct how busy the cores were over the run; it runs ahead of the server in the
scheduler (--client-nice, as root), as the browsers it stands in for have cores of their
own; <name>_p95_ms_by_minute shows whether the slow answers are spread over the peak or
bunched in some minute of it. calibration_ms (before) and calibration_ms_after (once the
services have stopped) time a fixed pure-Python workload, the best of 15 runs on the idle
machine; calibration_ms_during is its CPU time over the peak (three runs every 10 s, the
least of each three, their median), when the server, PostgreSQL and locust share the
cores: how fast the machine was, to read two runs' cpu_ms_<kind> against.
"""

import argparse
import contextlib
import datetime
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import psycopg

# bench/ is the script's directory, so its sibling is importable as is.
import rollup
from rollup import emit, log

ROOT = Path(__file__).resolve().parent.parent
TEAM_SIZE = 7


# --- The data set ----------------------------------------------------------------------------


def shape_teams(heads: dict[int, list[int]]) -> Any:
    """A wrapper of rollup.build_directory: teams of at most TEAM_SIZE, a head for each.

    rollup.generate() gives every company 1–3 teams; the wrapper spreads each company's
    managers over ceil(managers / 7) teams and appoints a head of sales to each, in the same
    transaction as the bulk load (ids past the generator's, sequences reset after it).
    """
    build_directory = rollup.build_directory

    def shaped(cursor: psycopg.Cursor, **kwargs: Any) -> rollup.DataSet:
        data = build_directory(cursor, **kwargs)
        cursor.execute("SELECT max(id) FROM accounts_team")
        next_team = cursor.fetchone()[0] + 1
        cursor.execute("SELECT max(id) FROM accounts_user")
        next_user = cursor.fetchone()[0] + 1
        cursor.execute("SELECT max(id) FROM accounts_loginname")
        next_login = cursor.fetchone()[0] + 1
        now = datetime.datetime.now(datetime.UTC)
        for number, company_id in enumerate(data.companies):
            mine = [m for m in data.managers if m.company_id == company_id]
            count = max(1, math.ceil(len(mine) / TEAM_SIZE))
            teams = data.teams[company_id][:count]
            while len(teams) < count:
                cursor.execute(
                    "INSERT INTO accounts_team (id, code, name, company_id) "
                    "VALUES (%s, %s, %s, %s)",
                    [next_team, uuid.uuid4(), f"Команда {len(teams) + 1}", company_id],
                )
                teams.append(next_team)
                next_team += 1
            for position, manager in enumerate(mine):
                manager.team_id = teams[position % count]
            for team in teams:
                members = [m.id for m in mine if m.team_id == team]
                cursor.execute(
                    "UPDATE accounts_user SET team_id = %s WHERE id = ANY(%s)", [team, members]
                )
            cursor.execute(
                "DELETE FROM accounts_team WHERE company_id = %s AND NOT id = ANY(%s)",
                [company_id, teams],
            )
            data.teams[company_id] = teams
            for position, team in enumerate(teams):
                username = f"c{number + 1}.head{position + 1}"
                cursor.execute(
                    """INSERT INTO accounts_user (id, password, is_superuser, first_name,
                        last_name, email, is_staff, is_active, date_joined, code, username, role,
                        is_company_admin, telegram_chat_id, extension, sip_login, phone_numbers,
                        company_id)
                    VALUES (%s, '!', false, 'Руководитель', %s, '', false, true, %s, %s, %s,
                        'head', false, '', '', '', '', %s)""",
                    [next_user, f"Компания {number + 1}", now, uuid.uuid4(), username, company_id],
                )
                cursor.execute(
                    "INSERT INTO accounts_loginname (id, username, user_id, company_id) "
                    "VALUES (%s, %s, %s, %s)",
                    [next_login, username, next_user, company_id],
                )
                cursor.execute(
                    "UPDATE accounts_team SET head_id = %s WHERE id = %s", [next_user, team]
                )
                heads.setdefault(company_id, []).append(next_user)
                next_user += 1
                next_login += 1
        return data

    return shaped


def totals_compute(data: rollup.DataSet) -> int:
    """Every company's totals from the facts, as the app role under row-level security."""
    import logging

    from rollups import services

    # From empty every total is "drift": one warning per company would only be noise.
    logging.getLogger("rollups.services").setLevel(logging.ERROR)
    return sum(services.totals_reconcile(company_id=c).written for c in data.companies)


# The buckets the history's reports left behind, as marking them did (rollups.services.
# _report_keys): each report's day, week and month for its manager, and for the company and
# every team of it in each period anyone reported in; all rolled up (done = marks). An
# installation at 18:00 has them (a bucket is kept once done), and the planner's statistics
# of rollups_bucket then say so: generated without them, the table was empty when analysed,
# and the rollup's generic plan scanned it whole for its claimed buckets until autovacuum
# analysed it again, a minute or two into the peak. Periods bounded as the engine bounds them.
def buckets_of_history() -> int:
    from rollups.engine import POSTGRESQL as d

    week, month = d.week_start.format(d="r.date"), d.month_start.format(d="r.date")
    sql = f"""
WITH spans AS (
    SELECT DISTINCT r.company_id, r.manager_id, p.period, p.start, p."end"
    FROM reports_dailyreport r
    CROSS JOIN LATERAL (VALUES
        ('day', r.date, r.date),
        ('week', {week}, {d.week_end.format(d=week)}),
        ('month', {month}, {d.month_end.format(d="r.date")})
    ) AS p (period, start, "end")
),
periods AS (SELECT DISTINCT company_id, period, start, "end" FROM spans),
subjects AS (
    SELECT company_id, 'manager' AS scope, manager_id AS subject_id, period, start, "end"
    FROM spans
    UNION ALL
    SELECT p.company_id, 'company', p.company_id, p.period, p.start, p."end" FROM periods p
    UNION ALL
    SELECT p.company_id, 'team', t.id, p.period, p.start, p."end"
    FROM periods p JOIN accounts_team t ON t.company_id = p.company_id
)
INSERT INTO rollups_bucket
    (company_id, scope, subject_id, period, start, "end", marks, done, claimed_by, claimed_marks)
SELECT company_id, scope, subject_id, period, start, "end", 1, 1, '', 0 FROM subjects
"""
    with rollup.admin_connect(autocommit=True) as admin:
        return admin.execute(sql).rowcount


def sessions_create(user_company: dict[int, int]) -> dict[int, str]:
    """A logged-in session per user, as the login view leaves it (user, backend, company)."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from accounts.middleware import SESSION_COMPANY_KEY
    from accounts.models import User

    # Every generated user has the unusable password "!", so one hash fits all.
    auth_hash = User(password="!").get_session_auth_hash()
    store = SessionStore()
    expires = timezone.now() + datetime.timedelta(hours=12)
    keys, rows = {}, []
    for user_id, company_id in user_company.items():
        key = uuid.uuid4().hex
        data = {
            "_auth_user_id": str(user_id),
            "_auth_user_backend": "accounts.backends.TenantModelBackend",
            "_auth_user_hash": auth_hash,
            SESSION_COMPANY_KEY: company_id,
        }
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expires))
        keys[user_id] = key
    Session.objects.bulk_create(rows, batch_size=2000)
    return keys


def duration_text(seconds: str) -> str:
    """Seconds as the form's h:mm:ss (a bare number there means minutes)."""
    total = int(seconds)
    return f"{total // 3600}:{total // 60 % 60:02d}:{total % 60:02d}"


def plan_write(
    path: Path,
    data: rollup.DataSet,
    heads: dict[int, list[int]],
    sessions: dict[int, str],
    args: argparse.Namespace,
    today: datetime.date,
    host: str,
) -> None:
    """What the locust process replays: who submits when, with which figures."""
    rng = data.rng
    managers = []
    for manager in data.managers:
        figures = {}
        for (_kpi, text), (_id, code) in zip(
            rollup.day_values(manager, rng), manager.kpis, strict=True
        ):
            figures[code] = duration_text(text) if code == "talk_time" else text
        managers.append(
            {
                "id": manager.id,
                "session": sessions[manager.id],
                "offset": rng.uniform(0, args.minutes * 60),
                "figures": figures,
            }
        )
    plan = {
        "host": host,
        "day": today.isoformat(),
        # Time for locust to start every user, and for every head to open the dashboard at
        # a moment of the page period, before the first report is due.
        "start_at": time.time() + 15 + len(managers) / 500 + args.poll * args.page_every,
        "poll_seconds": args.poll,
        "page_every": args.page_every,
        "grace_s": 120,
        "managers": managers,
        "heads": [sessions[h] for company in heads.values() for h in company],
    }
    path.write_text(json.dumps(plan))


# --- The services ----------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    handle = log_path.open("w")
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit("bench: gunicorn exited; see its log")
        # The web app is up when it reaches the database and Redis; /healthz's 503 for the
        # missing beat (no bench starts one) does not matter here.
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            body = error.read()
        except OSError:
            body = b""
        with contextlib.suppress(ValueError):
            status = json.loads(body or b"{}")
            if status.get("database") == status.get("broker") == "ok":
                return
        time.sleep(0.2)
    sys.exit("bench: gunicorn did not answer /healthz")


def pgbouncer_start(work: Path) -> tuple[subprocess.Popen, str]:
    """Debian's PgBouncer in transaction mode in front of the app role's database; its URL.

    It refuses to run as root: as the postgres user then, as scripts/_services.sh runs the
    cluster, its configuration in a directory of its own (the logs' may be root's alone).
    Its log is work/pgbouncer.log."""
    from psycopg.conninfo import conninfo_to_dict

    app = conninfo_to_dict(os.environ["DATABASE_URL"])
    port = free_port()
    directory = Path(tempfile.mkdtemp(prefix="salesdesk-pgbouncer-"))
    (directory / "userlist.txt").write_text(f'"{app["user"]}" "{app.get("password", "")}"\n')
    (directory / "pgbouncer.ini").write_text(
        f"""[databases]
{app["dbname"]} = host={app.get("host", "127.0.0.1")} port={app.get("port", 5432)}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = plain
auth_file = {directory}/userlist.txt
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,options
"""
    )
    command = ["/usr/sbin/pgbouncer", str(directory / "pgbouncer.ini")]
    if os.getuid() == 0:
        subprocess.run(["chown", "-R", "postgres", str(directory)], check=True)
        command = ["runuser", "-u", "postgres", "--", *command]
    process = start(command, dict(os.environ), work / "pgbouncer.log")
    deadline = time.monotonic() + 15
    url = f"postgres://{app['user']}:{app.get('password', '')}@127.0.0.1:{port}/{app['dbname']}"
    while time.monotonic() < deadline:
        with contextlib.suppress(psycopg.OperationalError):
            psycopg.connect(url, connect_timeout=2).close()
            return process, url
        if process.poll() is not None:
            break
        time.sleep(0.2)
    sys.exit(f"bench: pgbouncer did not start; see {work / 'pgbouncer.log'}")


# --- After the peak --------------------------------------------------------------------------


def stale_buckets() -> int:
    with rollup.admin_connect(autocommit=True) as admin:
        return admin.execute("SELECT count(*) FROM rollups_bucket WHERE marks > done").fetchone()[0]


class Calibration:
    """rollup.calibration_workload in a thread over the peak, three runs back to back every
    few seconds, the least of each three's own CPU time (time.thread_time: what the shared
    cores make of a fixed piece of work, not the time it waited for one; the first run
    after a pause is slower on an idle machine too). Idle, each three's least is about
    calibration_ms."""

    def __init__(self, every: float = 10.0, runs: int = 3) -> None:
        self.every, self.burst = every, runs
        self.runs: list[float] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            times = []
            for _ in range(self.burst):
                started = time.thread_time()
                rollup.calibration_workload()
                times.append((time.thread_time() - started) * 1000)
            self.runs.append(min(times))

    def stop(self) -> list[float]:
        self.stopped.set()
        self.thread.join()
        return self.runs


class StaleWatch:
    """Counts stale buckets every half second in a thread, from before the peak to its end;
    and what the app's busy database sessions wait on then (a lock, the client, nothing:
    running), to tell a server short of CPU from one whose requests queue on a lock."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, int]] = []
        self.waits: dict[str, int] = {}
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        with rollup.admin_connect(autocommit=True) as admin:
            while self.running:
                stale = admin.execute(
                    "SELECT count(*) FROM rollups_bucket WHERE marks > done"
                ).fetchone()[0]
                self.samples.append((time.time(), stale))
                for wait, count in admin.execute(
                    "SELECT coalesce(wait_event_type || ':' || wait_event, 'running'), count(*) "
                    "FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend' GROUP BY 1"
                ):
                    self.waits[wait] = self.waits.get(wait, 0) + count
                time.sleep(0.5)

    def current_after(self, moment: float, timeout: float) -> float | None:
        """Seconds from `moment` to the first sample after it with no stale bucket."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, stale in list(self.samples):
                if at >= moment and stale == 0:
                    return at - moment
            time.sleep(0.5)
        return None

    def stop(self) -> None:
        self.running = False
        self.thread.join()


def rollups_settle(last_submit: float, timeout: float) -> float | None:
    """Seconds from the last accepted report until no bucket is stale (None: not in time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stale_buckets() == 0:
            return max(0.0, time.time() - last_submit)
        time.sleep(0.25)
    return None


def stored_reports(today: datetime.date, accepted: list[int]) -> tuple[int, int, float | None]:
    """Today's reports, the accepted ones among them missing, and the last one's moment."""
    with rollup.admin_connect(autocommit=True) as admin:
        stored, last = admin.execute(
            "SELECT count(*), extract(epoch FROM max(submitted_at)) FROM reports_dailyreport "
            "WHERE date = %s",
            [today],
        ).fetchone()
        found = admin.execute(
            "SELECT count(*) FROM reports_dailyreport WHERE date = %s AND manager_id = ANY(%s)",
            [today, accepted],
        ).fetchone()[0]
    return stored, len(accepted) - found, None if last is None else float(last)


def machine_cpu() -> tuple[int, int]:
    """The machine's busy and total CPU time so far (jiffies, all cores): /proc/stat."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def _processes() -> dict[int, tuple[int, str, float]]:
    """pid → (parent pid, command line, CPU seconds so far, reaped children's included, so
    that a PostgreSQL backend that exited still counts in its postmaster)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the name: state, ppid, …; utime, stime, cutime, cstime are fields 12–15.
        seconds = sum(int(f) for f in fields[11:15]) / ticks
        found[int(entry.name)] = (int(fields[1]), command, seconds)
    return found


def programs_roots(services: list[subprocess.Popen], bouncer: subprocess.Popen | None):
    """The processes whose trees are this bench's programs: its gunicorns and Celery workers,
    and its own PostgreSQL and Redis (by their ports: other clusters may run beside it)."""
    from urllib.parse import urlsplit

    pg_port = str(urlsplit(os.environ["DATABASE_ADMIN_URL"]).port or 5432)
    redis_port = str(urlsplit(os.environ["REDIS_URL"]).port or 6379)
    roots: dict[str, list[int]] = {"web": [], "worker": [], "postgres": [], "redis": []}
    for index, process in enumerate(services):
        roots["web" if index % 2 == 0 else "worker"].append(process.pid)
    for pid, (_parent, command, _seconds) in _processes().items():
        words = command.split()
        if words and words[0].endswith("/postgres") and pg_port in words:
            roots["postgres"].append(pid)
        if (
            words
            and "redis-server" in words[0]
            and words[1:2]
            and words[1].endswith(f":{redis_port}")
        ):
            roots["redis"].append(pid)
    if bouncer is not None:
        roots["pgbouncer"] = [bouncer.pid]
    return roots


def client_priority(nice: int) -> None:
    """Runs in the client's process before locust starts: the clock that times the server
    waits for no core the server holds. Locust stands in for browsers on machines of their
    own; sharing the server's two cores at the same priority, a response that had arrived
    was timed when locust next got a core. Its CPU stays on the same cores (client_cpu_s);
    without the right to raise a priority (not root) it runs as it is."""
    with contextlib.suppress(PermissionError):
        os.nice(nice)


def programs_cpu(roots: dict[str, list[int]]) -> dict[int, tuple[str, float]]:
    """Each program's processes now: pid → (program, CPU seconds), the roots' descendants."""
    processes = _processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _command, _seconds) in processes.items():
        children.setdefault(parent, []).append(pid)
    found = {}
    for program, pids in roots.items():
        todo = list(pids)
        while todo:
            pid = todo.pop()
            if pid in processes:
                found[pid] = (program, processes[pid][2])
            todo.extend(children.get(pid, []))
    return found


def programs_split(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]):
    """CPU seconds by program between two programs_cpu() readings."""
    spent: dict[str, float] = {}
    for pid, (program, seconds) in after.items():
        spent[program] = spent.get(program, 0.0) + seconds - before.get(pid, (program, 0.0))[1]
    return spent


def web_cpu(directory: Path) -> dict[str, tuple[int, float]]:
    """Requests and CPU seconds by kind, summed over the gunicorn workers' files."""
    totals: dict[str, tuple[int, float]] = {}
    for path in directory.glob("*.json"):
        for kind, (count, seconds) in json.loads(path.read_text()).items():
            before = totals.get(kind, (0, 0.0))
            totals[kind] = (before[0] + count, before[1] + seconds)
    return dict(sorted(totals.items()))


def profiles_write(directory: Path, work: Path) -> None:
    """The workers' profiles of each kind merged: work/profile_<kind>.txt, the functions by
    cumulative and by own time, and work/profile_<kind>.prof (bench/gunicorn_cpu.py,
    --profile)."""
    import io
    import pstats

    kinds = sorted({path.name.split(".")[1] for path in directory.glob("*.prof")})
    for kind in kinds:
        text = io.StringIO()
        stats = pstats.Stats(*map(str, directory.glob(f"*.{kind}.prof")), stream=text)
        stats.sort_stats("cumulative").print_stats(80)
        stats.sort_stats("tottime").print_stats(40)
        (work / f"profile_{kind}.txt").write_text(text.getvalue())
        stats.dump_stats(work / f"profile_{kind}.prof")  # for pstats' callers and callees
    log(f"profiles: {', '.join(str(work / f'profile_{k}.txt') for k in kinds)}")


def statements_reset() -> None:
    with rollup.admin_connect(autocommit=True) as admin:
        admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        admin.execute("SELECT pg_stat_statements_reset()")


def statements_write(path: Path, top: int = 40) -> None:
    """The statements PostgreSQL spent the peak's time on (planning and running), the
    costliest first, with their share of the whole."""
    with rollup.admin_connect(autocommit=True) as admin:
        rows = admin.execute(
            """SELECT total_plan_time + total_exec_time AS ms, calls, total_plan_time,
                rows, query FROM pg_stat_statements ORDER BY 1 DESC"""
        ).fetchall()
    whole = sum(row[0] for row in rows) or 1
    lines = [f"all statements: {whole / 1000:.1f} s in {sum(row[1] for row in rows)} calls"]
    for ms, calls, plan_ms, count, query in rows[:top]:
        lines.append(
            f"\n{100 * ms / whole:5.1f} %  {ms / 1000:8.2f} s  {calls:7d} calls  "
            f"{ms / max(calls, 1):7.3f} ms/call  plan {plan_ms / 1000:.2f} s  {count} rows\n"
            + " ".join(query.split())[:600]
        )
    path.write_text("\n".join(lines) + "\n")
    emit("pg_statements_s", whole / 1000)


def totals_drift(companies: list[int]) -> int:
    from rollups import services

    return sum(services.totals_reconcile(company_id=c).drift for c in companies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--managers", type=int, default=20, help="per company")
    parser.add_argument("--minutes", type=float, default=10, help="the window of the peak")
    parser.add_argument("--days", type=int, default=5, help="of history before today")
    parser.add_argument(
        "--web-workers",
        type=int,
        default=(os.cpu_count() or 1) + 1,
        help="gunicorn sync workers (cores + 1, as the Dockerfile's WEB_CONCURRENCY)",
    )
    parser.add_argument("--celery-concurrency", type=int, default=2)
    parser.add_argument(
        "--poll", type=float, default=30, help="the dashboard's poll, s (views.POLL_SECONDS)"
    )
    parser.add_argument("--page-every", type=int, default=4, help="polls per full page load")
    parser.add_argument("--logs", help="keep the services' and locust's logs in this directory")
    parser.add_argument(
        "--pgbouncer",
        action="store_true",
        help="two web groups and two Celery workers through PgBouncer in transaction mode",
    )
    parser.add_argument(
        "--client-nice",
        type=int,
        default=-5,
        help="the locust client's niceness change (negative: ahead of the server; 0: none)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile every request in the web workers; profile_<kind>.txt in the logs",
    )
    parser.add_argument(
        "--pg-statements",
        action="store_true",
        help="PostgreSQL's time by statement over the peak (pg_stat_statements, preloaded by "
        "BENCH_PG_OPTIONS='-c shared_preload_libraries=pg_stat_statements'): "
        "pg_statements.txt in the logs",
    )
    args = parser.parse_args()

    rollup.serve_like_production("load")  # locust fetches no static files
    today = datetime.datetime.now(rollup.MOSCOW).date()  # every company is on Moscow time
    rollup.machine()
    emit("companies", args.companies)
    emit("managers", args.companies * args.managers)
    emit("minutes", args.minutes)
    emit("web_workers", args.web_workers)
    emit("poll_s", args.poll)
    # Only root may raise a priority (client_priority); anyone may lower one.
    emit("client_nice", args.client_nice if args.client_nice > 0 or os.geteuid() == 0 else 0)

    log(f"generating {args.companies} companies × {args.managers} managers × {args.days} days")
    started = time.perf_counter()
    heads: dict[int, list[int]] = {}
    rollup.build_directory = shape_teams(heads)
    data = rollup.generate(args, today)
    emit("heads", sum(len(h) for h in heads.values()))
    emit("history_reports", data.reports)
    log("totals_reconcile for every company")
    emit("totals_written", totals_compute(data))
    emit("history_buckets", buckets_of_history())
    users = {m.id: m.company_id for m in data.managers}
    users.update({h: c for c, ids in heads.items() for h in ids})
    sessions = sessions_create(users)
    with rollup.admin_connect(autocommit=True) as admin:
        admin.execute("VACUUM (ANALYZE)")
    emit("prepare_s", time.perf_counter() - started)

    work = Path(args.logs) if args.logs else Path(tempfile.mkdtemp(prefix="salesdesk-load-"))
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    cpu_dir = work / "cpu"
    cpu_dir.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_CPU_DIR": str(cpu_dir)}
    if args.profile:
        env["BENCH_PROFILE"] = "1"
    # One node, or two (--pgbouncer): each its own gunicorn (the kernel spreads connections
    # over the two listening sockets, SO_REUSEPORT, as a load balancer would) and Celery
    # worker, all through one PgBouncer in transaction mode.
    nodes = 2 if args.pgbouncer else 1
    bouncer = None
    if args.pgbouncer:
        bouncer, env["DATABASE_URL"] = pgbouncer_start(work)
        env["DB_TRANSACTION_POOLING"] = "1"
        emit("topology", "2 web groups + 2 workers via pgbouncer (transaction pooling)")
    services = []
    for node in range(nodes):
        workers = -(-args.web_workers // nodes)
        services.append(start(
            [sys.executable, "-m", "gunicorn", "salesdesk.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--backlog", "2048", "--timeout", "60", "--reuse-port",
             "--config", "python:bench.gunicorn_cpu"],
            env, work / f"gunicorn{node}.log",
        ))  # fmt: skip
        services.append(start(
            [sys.executable, "-m", "celery", "-A", "salesdesk", "worker", "--loglevel=WARNING",
             f"--concurrency={max(1, args.celery_concurrency // nodes)}", "--without-gossip",
             "--without-mingle", "-n", f"node{node}@%h"],
            env, work / f"celery{node}.log",
        ))  # fmt: skip
    try:
        for process in services[::2]:
            wait_healthy(f"{host}/healthz", process)
        plan_write(work / "plan.json", data, heads, sessions, args, today, host)
        log(f"locust: {len(data.managers)} managers, {len(users) - len(data.managers)} heads")
        watch = StaleWatch()
        calibration = Calibration()
        roots = programs_roots(services, bouncer)
        if args.pg_statements:
            statements_reset()
        cpu_before, programs_before, measured_from = machine_cpu(), programs_cpu(roots), time.time()
        client = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "load_client.py"), str(work / "plan.json"),
             str(work / "result.json")],
            cwd=ROOT, stdout=(work / "locust.log").open("w"), stderr=subprocess.STDOUT,
            preexec_fn=lambda: client_priority(args.client_nice),
        )  # fmt: skip
        if client.returncode:
            sys.exit(f"bench: the locust client failed; see {work / 'locust.log'}")
        cpu_after, programs_after = machine_cpu(), programs_cpu(roots)
        measured_s = time.time() - measured_from
        if args.pg_statements:
            statements_write(work / "pg_statements.txt")
        calibration_runs = calibration.stop()
        busy, total = cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]
        result = json.loads((work / "result.json").read_text())
        stored, lost, last_report = stored_reports(today, result["accepted_ids"])
        log("waiting for the rollups to settle")
        # From the last report the app stored, whether or not the client waited for it.
        current_after = watch.current_after(last_report or time.time(), timeout=600)
        watch.stop()
    finally:
        for process in services:
            stop(process)
        if bouncer is not None:
            stop(bouncer)

    emit("reports_sent", result["sent"])
    emit("reports_accepted", result["accepted"])
    emit("reports_stored", stored)
    emit("reports_lost", lost)  # accepted, yet not in the database
    # Stored though the client gave up waiting for the answer (a timeout): not confirmed.
    emit("reports_unconfirmed", stored - (result["accepted"] - lost))
    emit("managers_unfinished", result["managers_unfinished"])
    emit("reports_confirmed_unusual", result["confirmed"])
    for name in ("submit", "form", "my_kpis", "dashboard", "dashboard_poll", "dashboard_page"):
        figures = result["latency"].get(name)
        if figures:
            emit(f"{name}_p50_ms", figures["p50"])
            emit(f"{name}_p95_ms", figures["p95"])
            emit(f"{name}_max_ms", figures["max"])
            emit(f"{name}_requests", figures["count"])
    emit("dashboard_polls_unchanged", result["polls_unchanged"])  # answered 204
    warmup = [v for name, v in result["latency"].items() if name.startswith("warmup_")]
    emit("warmup_requests", sum(figures["count"] for figures in warmup))  # not in the figures
    emit("errors_5xx", result["errors_5xx"])
    emit("errors_other", result["errors_other"])
    emit("requests_per_s", result["requests_per_s"])
    if result["accepted"]:
        emit("submit_window_s", result["last_accepted_at"] - result["first_sent_at"])
    emit("rollups_current_after_s", "timeout" if current_after is None else current_after)
    for name in ("submit", "dashboard"):  # is the tail spread over the peak, or bunched?
        emit(f"{name}_p95_ms_by_minute", ",".join(map(str, result["p95_by_minute"].get(name, []))))
    emit("client_cpu_s", result["cpu_s"])
    # The busy database sessions over the run, summed over the half-second samples, by what
    # they waited on: `running` is CPU; Lock:* is a request queued behind another's row.
    waits = sorted(watch.waits.items(), key=lambda item: -item[1])[:6]
    emit("db_active_by_wait", ",".join(f"{wait}={count}" for wait, count in waits))
    # Every process of the machine (the server, PostgreSQL, the worker, locust), over the run.
    emit("machine_cpu_busy_pct", 100 * busy / total if total else 0)
    # Where the cores went over the run, by program (the web's share, PostgreSQL's, …).
    for program, seconds in programs_split(programs_before, programs_after).items():
        if seconds:
            emit(f"cpu_cores_{program}", seconds / measured_s)
    for kind, (count, seconds) in web_cpu(cpu_dir).items():  # the web server's CPU, by kind
        emit(f"cpu_ms_{kind}", seconds * 1000 / count if count else 0)
    emit("client_wall_s", result["wall_s"])
    # The fixed workload's CPU during the peak: the median of its bursts' least.
    if calibration_runs:
        emit("calibration_ms_during", statistics.median(calibration_runs))
    emit("calibration_ms_after", rollup.calibration_ms())  # the services have stopped
    if args.profile:
        profiles_write(cpu_dir, work)
    log("reconciling every company: what the nightly job would find")
    emit("totals_drift", totals_drift(data.companies))
    log(f"logs in {work}")


if __name__ == "__main__":
    main()
