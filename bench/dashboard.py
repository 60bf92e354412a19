"""The head of sales' dashboard on PostgreSQL: scripts/bench dashboard [--days 60].

Generates, with bench/rollup.py's generator, one company per team size (7 and 100 managers
by default, --sizes), each with a single team, a head of sales leading it and two years of
daily reports; computes every total with rollups.services.totals_reconcile as the app role
(row-level security in force); then times GET /dashboard/?period=week and ?period=month as
the head, in process through django.test.Client (middleware, view, template: server-side,
no network), after warm-up requests. Counts the SQL queries of one request (and their time,
sql_ms), which must not depend on the team's size.

Prints one name=value line per figure on stdout (p50_ms_7, p95_ms_100_month, queries_100, …);
progress goes to stderr.
"""

import argparse
import cProfile
import datetime
import logging
import math
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

# bench/ is the script's directory, so its sibling is importable as is.
import rollup
from rollup import emit, log

SIZES = (7, 100)
POLL_HEADERS = {"HX-Request": "true", "HX-Target": "figures"}
PERIODS = ("week", "month")
WARMUP = 3
REPEAT = 50
PROFILED = 20
# A state no block shows: the poll that sends it is answered with the block.
STALE_STATE = "0" * 24


# --- The data set: rollup.py's, one company per team size, one team each ------------------


def shape_directory(sizes: list[int]) -> Any:
    """A wrapper of rollup.build_directory: company i keeps sizes[i] managers in one team.

    rollup.generate() builds every company with the same number of managers and 1–3 teams;
    the wrapper drops the extra managers (before any report is written) and moves everybody
    into the company's first team, inside the same transaction as the bulk load.
    """
    build_directory = rollup.build_directory

    def shaped(cursor: psycopg.Cursor, **kwargs: Any) -> rollup.DataSet:
        data = build_directory(cursor, **kwargs)
        kept: set[int] = set()
        for company_id, size in zip(data.companies, sizes, strict=True):
            team = data.teams[company_id][0]
            mine = [m for m in data.managers if m.company_id == company_id]
            extra = [m.id for m in mine[size:]]
            if extra:
                for table, column in (
                    ("kpi_plan", "manager_id"),
                    ("kpi_absence", "manager_id"),
                    ("accounts_loginname", "user_id"),
                    ("accounts_user", "id"),
                ):
                    cursor.execute(f"DELETE FROM {table} WHERE {column} = ANY(%s)", [extra])
            cursor.execute(
                "UPDATE accounts_user SET team_id = %s WHERE company_id = %s", [team, company_id]
            )
            cursor.execute(
                "DELETE FROM accounts_team WHERE company_id = %s AND id <> %s", [company_id, team]
            )
            data.teams[company_id] = [team]
            for manager in mine[:size]:
                manager.team_id = team
                kept.add(manager.id)
        generated = len(data.managers)
        data.managers = [m for m in data.managers if m.id in kept]
        log(f"kept {len(data.managers)} of {generated} generated managers")
        return data

    return shaped


def heads_appoint(data: rollup.DataSet) -> dict[int, Any]:
    """A head of sales per company, leading its one team; the app's own models, as the app."""
    from accounts import tenancy
    from accounts.models import Company, Team, User

    heads = {}
    for number, company_id in enumerate(data.companies):
        with tenancy.tenant_context(company_id):
            company = Company.objects.get(pk=company_id)
            head = User(
                company=company,
                username=f"c{number + 1}.head",
                first_name="Руководитель",
                last_name=f"Компания {number + 1}",
                role=User.Role.HEAD,
            )
            head.set_unusable_password()
            head.save()
            if Team.objects.filter(company=company).update(head=head) != 1:
                raise SystemExit(f"bench: company {company_id} should have exactly one team")
            heads[company_id] = head
    return heads


def totals_compute(data: rollup.DataSet) -> int:
    """Every company's totals from the facts, as the app role (DATABASE_URL) under RLS."""
    from rollups import services

    # From empty every total is "drift": one warning per company would only be noise.
    logging.getLogger("rollups.services").setLevel(logging.ERROR)
    written = 0
    for company_id in data.companies:
        written += services.totals_reconcile(company_id=company_id).written
    return written


# --- The requests ---------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def get(client: Any, url: str, headers: dict[str, str] | None = None) -> Any:
    response = client.get(url, headers=headers or {})
    # The block's own poll with its state: 204, nothing changed.
    state = (headers or {}).get("X-Figures-State")
    expected = 204 if state and state != STALE_STATE else 200
    if response.status_code != expected:
        body = response.content.decode(errors="replace")[:2000]
        raise SystemExit(f"bench: GET {url} answered {response.status_code}:\n{body}")
    return response


def dashboard_time(size: int, head: Any, sql_dir: str | None, profile: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts import tenancy
    from accounts.models import User
    from accounts.selectors import managers_in_view
    from dashboard import views
    from rollups.models import Scope
    from rollups.services import figures_version_bump

    client = Client()
    with tenancy.tenant_context(head.company_id):
        client.force_login(head)
        seen = managers_in_view(company=head.company, viewer=head).count()
        if seen != size or User.objects.filter(role=User.Role.MANAGER).count() != size:
            raise SystemExit(f"bench: the head sees {seen} managers, not {size}")
    # The page as opened (it records the visit), the HTMX poll of its figures, and for
    # scale the profile page: what any logged-in page costs here.
    variants = [
        (str(size) if period == "week" else f"{size}_{period}", f"/dashboard/?period={period}", {})
        for period in PERIODS
    ]
    variants.append((f"{size}_poll", "/dashboard/?period=week", POLL_HEADERS))
    # The open block's own poll with the state it shows: answered 204 by the middleware while
    # none of its figures versions turned (dashboard.selectors.poll.state_unchanged); its
    # state is read just before (the five-minute tick turns it).
    unchanged = {**POLL_HEADERS, "HX-Trigger": "figures", "X-Figures-State": ""}
    variants.append((f"{size}_poll_unchanged", "/dashboard/?period=week", unchanged))
    # The open block's own poll after a report of one of its managers turned that manager's
    # figures version: the state is computed afresh and the block re-rendered (at 18:00 about
    # half the polls).
    changed = {**POLL_HEADERS, "HX-Trigger": "figures", "X-Figures-State": STALE_STATE}
    variants.append((f"{size}_poll_changed", "/dashboard/?period=week", changed))
    # What a head opens and polls at 18:00 (bench/load_client.py): the default window, the
    # day under review (on a Monday the week before).
    variants.append((f"{size}_default", "/dashboard/", {}))
    variants.append((f"{size}_default_poll_changed", "/dashboard/", changed))
    variants.append((f"{size}_profile_page", "/me/", {}))
    with tenancy.tenant_context(head.company_id):
        some_manager = managers_in_view(company=head.company, viewer=head).first()

    def turn(headers: dict[str, str]) -> None:
        if headers is changed:
            figures_version_bump(head.company_id, [(Scope.MANAGER, some_manager.pk)])

    # A changed poll re-renders the block (its state is new: at 18:00 a report came in);
    # here the state comes out the same, so the block the previous request kept is not
    # offered to it. A page reloaded at an unchanged state draws the kept block, as it does.
    kept = views.block_remembered

    def offered(headers: dict[str, str]) -> None:
        views.block_remembered = (lambda **kwargs: None) if headers is changed else kept

    for suffix, url, headers in variants:
        offered(headers)
        if headers.get("X-Figures-State") == "":
            page = get(client, url).content.decode()
            state = re.search(r"X-Figures-State&quot;: &quot;([0-9a-f]+)", page)
            if state is None:
                raise SystemExit("bench: the dashboard shows no X-Figures-State")
            headers["X-Figures-State"] = state[1]
        log(f"{size} managers: GET {url} {headers or ''}")
        for _ in range(WARMUP):
            turn(headers)
            get(client, url, headers)
        times, cpu = [], []
        for _ in range(REPEAT):
            turn(headers)
            started, started_cpu = time.perf_counter(), time.process_time()
            get(client, url, headers)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        turn(headers)
        with CaptureQueriesContext(connection) as queries:
            response = get(client, url, headers)
        emit(f"p50_ms_{suffix}", statistics.median(times))
        emit(f"p95_ms_{suffix}", percentile(times, 0.95))
        emit(f"max_ms_{suffix}", max(times))
        # This process's CPU (the web's share; the database's runs elsewhere): steadier than
        # wall time on a shared machine.
        emit(f"cpu_ms_{suffix}", statistics.median(cpu))
        emit(f"queries_{suffix}", len(queries.captured_queries))
        emit(f"sql_ms_{suffix}", sum(float(q["time"]) for q in queries.captured_queries) * 1000)
        emit(f"html_kb_{suffix}", round(len(response.content) / 1024, 1))
        if sql_dir:
            sql_dump(Path(sql_dir) / f"queries_{suffix}.sql", queries.captured_queries)
        # Python function calls of one request (cProfile): load-independent, unlike CPU ms.
        turn(headers)
        counter = cProfile.Profile()
        counter.runcall(get, client, url, headers)
        emit(f"calls_{suffix}", pstats.Stats(counter).total_calls)
        if profile and suffix.endswith(("_default", "_default_poll_changed")):
            # CPU time, not wall time: the database's share is not this process's work.
            profiler = cProfile.Profile(time.process_time)
            for _ in range(PROFILED):
                turn(headers)
                profiler.runcall(get, client, url, headers)
            log(f"profile of GET {url} {headers or ''}, {size} managers ({PROFILED} requests):")
            stats = pstats.Stats(profiler, stream=sys.stderr)
            if dump := os.environ.get("PROFILE_DUMP"):  # for pstats' callers/callees afterwards
                stats.dump_stats(f"{dump}.{suffix}.prof")
            order = os.environ.get("PROFILE_SORT", "cumulative")
            stats.sort_stats(order).print_stats(profile)


def sql_dump(path: Path, queries: list[dict[str, str]]) -> None:
    """The captured SQL, one statement a line after its time in seconds, for diffing one
    size's against another's (cut the first column) or finding the slow ones (sort on it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = (f"{query['time']} " + " ".join(query["sql"].split()) + "\n" for query in queries)
    path.write_text("".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, SIZES)),
        help="managers in the head's team, one company per size (comma-separated)",
    )
    parser.add_argument("--days", type=int, default=730, help="of history, up to yesterday")
    parser.add_argument("--sql-dir", help="write each size's captured SQL there")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="cProfile 20 of the default page and of its changed poll: top N to stderr",
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    rollup.in_process_like_production("dashboard", needs=("DATABASE_URL", "DATABASE_ADMIN_URL"))
    today = datetime.datetime.now(rollup.MOSCOW).date()  # every company is on Moscow time
    rollup.machine()
    emit("conn_max_age", os.environ["DB_CONN_MAX_AGE"])

    log(f"generating {len(sizes)} companies ({args.sizes} managers) × {args.days} days")
    started = time.perf_counter()
    rollup.build_directory = shape_directory(sizes)
    generate_args = argparse.Namespace(companies=len(sizes), managers=max(sizes), days=args.days)
    data = rollup.generate(generate_args, today)
    emit("generate_s", time.perf_counter() - started)
    emit("days", args.days)
    emit("kpis", data.kpis_per_company)
    emit("reports", data.reports)
    emit("facts", data.facts)

    heads = heads_appoint(data)
    log("totals_reconcile for every company")
    started = time.perf_counter()
    emit("totals_written", totals_compute(data))
    emit("reconcile_s", time.perf_counter() - started)
    with rollup.admin_connect(autocommit=True) as admin:
        admin.execute("VACUUM (ANALYZE)")

    for size, company_id in zip(sizes, data.companies, strict=True):
        dashboard_time(size, heads[company_id], args.sql_dir, args.profile)


if __name__ == "__main__":
    main()
