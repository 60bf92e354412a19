"""The web CPU of one request on PostgreSQL: scripts/bench request_cost [--repeat 200].

What every request pays before and around its view (the session, the user and company
rows, the tenant's transaction and settings, the middleware, base.html's header) is timed
on two trivial pages a logged-in manager opens, added for the bench only: `bare` (a view
answering a few bytes: the middleware and the session alone) and `header` (a view rendering
base.html with no content: the same plus the header every page draws). «Мои показатели»
(GET /my/) is timed beside them, as the same manager of bench/my_page.py's company.

CPU is this process's (time.process_time: the web worker's share, without the database's):
the median and the least of --repeat requests after warm-up, in ms; with the SQL queries of
one request and their statements' first words, and the Python function calls of one (which,
unlike the times, do not vary with the machine's load). --profile N prints the CPU cProfile
of 20 requests of each page (top N, to stderr; PROFILE_SORT=tottime for the own time).
"""

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
import types
from collections import Counter
from typing import Any

import my_page
import rollup
from rollup import emit, log

WARMUP = 20
PROFILED = 20


def bench_urls() -> str:
    """The app's URLconf plus the two trivial pages, as a module Django can import."""
    from django.contrib.auth.decorators import login_required
    from django.http import HttpRequest, HttpResponse
    from django.shortcuts import render
    from django.urls import path

    import salesdesk.urls

    @login_required
    def bare(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    @login_required
    def header(request: HttpRequest) -> HttpResponse:
        return render(request, "base.html")

    module = types.ModuleType("bench_request_cost_urls")
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("bench/bare/", bare),
        path("bench/header/", header),
        *salesdesk.urls.urlpatterns,
    ]
    sys.modules[module.__name__] = module
    return module.__name__


def first_word(sql: str) -> str:
    word = sql.split(None, 1)[0].upper()
    if word == "SELECT" and "set_config" in sql:
        return "SET_CONFIG"
    return word


def page_cost(client: Any, name: str, url: str, repeat: int, profile: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get() -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"bench: GET {url} answered {response.status_code}")

    log(f"GET {url} × {repeat}")
    for _ in range(WARMUP):
        get()
    cpu, wall = [], []
    for _ in range(repeat):
        started_cpu, started = time.process_time(), time.perf_counter()
        get()
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        get()
    emit(f"{name}_cpu_ms", statistics.median(cpu))
    # The least is the cost without the neighbours' contention (the machine is shared).
    emit(f"{name}_cpu_min_ms", min(cpu))
    emit(f"{name}_wall_ms", statistics.median(wall))
    emit(f"{name}_queries", len(queries.captured_queries))
    kinds = Counter(first_word(q["sql"]) for q in queries.captured_queries)
    emit(f"{name}_statements", " ".join(f"{k}:{n}" for k, n in sorted(kinds.items())))
    if os.environ.get("BENCH_SQL"):
        for query in queries.captured_queries:
            log(f"  {query['sql'][:300]}")
    # CPU, not wall: the database's share is not the web worker's. The Python function
    # calls per request are counted as well: unlike times, they do not depend on the load.
    profiler = cProfile.Profile(time.process_time)
    for _ in range(PROFILED):
        profiler.runcall(get)
    stats = pstats.Stats(profiler, stream=sys.stderr)
    if dump := os.environ.get("PROFILE_DUMP"):  # for pstats' callers/callees afterwards
        stats.dump_stats(f"{dump}.{name}.prof")
    emit(f"{name}_python_calls", round(stats.total_calls / PROFILED))  # type: ignore[attr-defined]
    if profile:
        log(f"profile of {name} ({PROFILED} requests, CPU):")
        order = os.environ.get("PROFILE_SORT", "cumulative")
        stats.sort_stats(order).print_stats(profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="timed requests per page")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="cProfile one request: top N to stderr"
    )
    parser.add_argument("--pages", default="bare,header,my", help="which pages, comma-separated")
    parser.add_argument(
        "--head", action="store_true", help="the trivial pages as the company's head of sales"
    )
    args = parser.parse_args()
    rollup.in_process_like_production("request_cost", needs=("DATABASE_URL", "DATABASE_OWNER_URL"))
    import datetime

    from django.conf import settings
    from django.test import Client

    from accounts import tenancy

    settings.ROOT_URLCONF = bench_urls()
    log("building the manager's company")
    manager = my_page.build(datetime.datetime.now(rollup.MOSCOW).date())
    emit("my_output", my_page.outputs(manager, manager.company.today())[0])
    client = Client()
    with tenancy.tenant_context(manager.company_id):
        if args.head:  # the head's header has the longest menu but an admin's
            from accounts.models import User

            head = User.objects.get(company=manager.company_id, role=User.Role.HEAD)
            client.force_login(head)
            pages = [page for page in args.pages.split(",") if page != "my"]
        else:
            client.force_login(manager)
            pages = args.pages.split(",")
    urls = {"bare": "/bench/bare/", "header": "/bench/header/", "my": "/my/"}
    for name in pages:
        page_cost(client, name, urls[name], args.repeat, args.profile)


if __name__ == "__main__":
    main()
