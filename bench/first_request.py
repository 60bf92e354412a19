"""The first requests of a fresh web process against later ones: scripts/bench first_request
[--wsgi].

A web worker compiles a template, reads a language's catalog, compiles a hot statement's
shape (salesdesk.statements) the first time a request needs it. This times, in one fresh
process, the first GET /my/, GET /report/<today>/ and GET /dashboard/ against the median of
the 20 after it (wall ms, in process through django.test.Client; <page>_first_ms,
<page>_later_ms). --wsgi loads the app as a gunicorn worker does first (salesdesk.wsgi: its
warm-up, salesdesk.warmup); without it, as Django alone would. FIRST_PROFILE=1 prints the
cProfile of each first request to stderr.
"""

import argparse
import cProfile
import datetime
import os
import pstats
import statistics
import sys
import time

import my_page
import rollup
from rollup import emit, log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wsgi", action="store_true", help="load salesdesk.wsgi first")
    args = parser.parse_args()
    rollup.in_process_like_production("first_request", needs=("DATABASE_URL", "DATABASE_OWNER_URL"))
    if args.wsgi:
        import salesdesk.wsgi  # noqa: F401 - what gunicorn loads in each worker
    emit("wsgi", int(args.wsgi))
    from django.test import Client

    from accounts import tenancy
    from accounts.models import User

    log("building the manager's company")
    manager = my_page.build(datetime.datetime.now(rollup.MOSCOW).date())
    today = manager.company.today()
    with tenancy.tenant_context(manager.company_id):
        head = User.objects.get(company=manager.company_id, role=User.Role.HEAD)
    clients = {"manager": Client(), "head": Client()}
    with tenancy.tenant_context(manager.company_id):
        clients["manager"].force_login(manager)
        clients["head"].force_login(head)
    for client in clients.values():  # the client's own handler (the middleware) loaded
        client.get("/healthz")
    pages = [
        ("my", "manager", "/my/"),
        ("form", "manager", f"/report/{today.isoformat()}/"),
        ("dashboard", "head", "/dashboard/"),
    ]
    for name, who, url in pages:
        times = []
        for attempt in range(21):
            started = time.perf_counter()
            if attempt == 0 and os.environ.get("FIRST_PROFILE"):
                profiler = cProfile.Profile()
                response = profiler.runcall(clients[who].get, url)
                pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
            else:
                response = clients[who].get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        emit(f"{name}_first_ms", times[0])
        emit(f"{name}_later_ms", statistics.median(times[1:]))


if __name__ == "__main__":
    main()
