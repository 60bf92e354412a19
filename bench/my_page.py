"""The manager's own page and report form on PostgreSQL: scripts/bench my_page [--repeat 50].

Builds, through the app's services, one company with a manager whose sales role has five
KPIs (the hunter set and one more), the role's month plans and the manager's own for three
months, week plans (the role's and the manager's), two absences and two months of daily
reports; then times GET /my/ (reports.selectors.manager_overview), GET /report/<today>/
(reports.selectors.report_form) and the first POST of today's report (reports.services.
report_submit, the rollup task queued on Redis) as that manager, in process through
django.test.Client (middleware, view, template: server-side, no network), after warm-up
requests, and counts the SQL queries of one request; `_cpu_` lines are this process's CPU
time per request (time.process_time). --profile N prints the CPU cProfile of 20 requests of
each (top N; PROFILE_SORT, PROFILE_DUMP as in bench/request_cost.py).

`my_output` and `form_output` are digests of what the two selectors return (KPI names,
figures, plans, bands), for checking that a change keeps the pages' figures identical on
the same day.

Prints one name=value line per figure on stdout; progress goes to stderr. It needs only
DATABASE_URL (the app role) and DATABASE_OWNER_URL on a migrated database; the company it
creates is left there.
"""

import argparse
import cProfile
import datetime
import hashlib
import math
import os
import pstats
import statistics
import sys
import time
import uuid
from decimal import Decimal
from typing import Any

# bench/ is the script's directory, so its siblings are importable as is.
import rollup
from rollup import emit, log

WARMUP = 3
PROFILED = 20
EXTRA_KPI = "avg_check"
PASSWORD = "bench-only-password"


def build(today: datetime.date) -> Any:
    """The company, its manager (returned) and their plans, absences and reports."""
    from accounts import services, tenancy
    from accounts.models import SalesRole, User
    from kpi import services as kpi_services
    from kpi.calendar import calendar_for
    from kpi.models import KPI, Plan
    from kpi.periods import shift_months, week_start
    from reports.models import DailyReport, ReportValue

    suffix = uuid.uuid4().hex[:8]
    company = services.company_create(name=f"Bench my page {suffix}")
    with tenancy.tenant_context(company):
        role = SalesRole.objects.get(company=company, kind=SalesRole.Kind.HUNTER)
        kpis = {kpi.code: kpi for kpi in KPI.objects.filter(company=company)}
        since = today - datetime.timedelta(days=200)
        kpi_services.role_kpi_add(
            company=company, sales_role=role, kpi=kpis[EXTRA_KPI], effective_from=since
        )
        head = services.user_create(
            company=company,
            username=f"bench-my-head-{suffix}",
            password=PASSWORD,
            password_is_temporary=False,
            role=User.Role.HEAD,
        )
        team = services.team_create(company=company, name="Bench", head=head)
        manager = services.user_create(
            company=company,
            username=f"bench-my-{suffix}",
            password=PASSWORD,
            password_is_temporary=False,
            first_name="Мария",
            last_name="Бенчева",
            team=team,
            sales_role=role,
        )
        codes = [*rollup_role_set(), EXTRA_KPI]
        month = today.replace(day=1)
        for back in range(3):
            start = shift_months(month, -1) if back else month
            month = start
            for number, code in enumerate(codes):
                value = Decimal(100 * (number + 1) + 7 * back)
                kpi_services.plan_set(
                    company=company, kpi=kpis[code], start=start, value=value, sales_role=role
                )
                if number % 2 == 0:  # the manager's own plan on every other KPI
                    kpi_services.plan_set(
                        company=company, kpi=kpis[code], start=start, value=value + 33,
                        manager=manager,
                    )  # fmt: skip
        week = week_start(today)
        for code, target, start in (
            ("calls", {"sales_role": role}, week),
            ("talk_time", {"manager": manager}, week - datetime.timedelta(weeks=2)),
            ("leads", {"sales_role": role}, week - datetime.timedelta(weeks=4)),
        ):
            kpi_services.plan_set(
                company=company, kpi=kpis[code], start=start, value=Decimal(250),
                period=Plan.Period.WEEK, **target,
            )  # fmt: skip
        for offset, length in ((-24, 3), (5, 2)):
            start = today + datetime.timedelta(days=offset)
            kpi_services.absence_create(
                company=company, manager=manager, kind="vacation", start=start,
                end=start + datetime.timedelta(days=length - 1),
            )  # fmt: skip
        calendar = calendar_for(company=company)
        typed = [kpis[c] for c in codes if kpis[c].aggregation != KPI.Aggregation.RATIO]
        submitted = datetime.datetime.combine(today, datetime.time(18), datetime.UTC)
        reports = [
            DailyReport(company=company, manager=manager, date=day, submitted_at=submitted)
            for day in calendar.working_days(today - datetime.timedelta(days=61), today)
            if day < today
        ]
        DailyReport.objects.bulk_create(reports)
        ReportValue.objects.bulk_create(
            ReportValue(
                company=company,
                report=report,
                kpi=kpi,
                value=Decimal(3 + (report.date.toordinal() * 7 + len(kpi.code)) % 11),
            )
            for report in reports
            for kpi in typed
        )
        log(f"{len(reports)} reports of {len(typed)} typed KPIs, {len(codes)} KPIs in the set")
    return manager


def rollup_role_set() -> list[str]:
    from kpi.catalogue import ROLE_SETS

    return ROLE_SETS["hunter"]


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (as bench/dashboard.py; that module's name is the app's)."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def digest(value: object) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:16]


def outputs(manager: Any, today: datetime.date) -> tuple[str, str]:
    """Digests of manager_overview and report_form's figures (no ids, no user rows)."""
    from accounts import tenancy
    from kpi.calendar import calendar_for
    from reports import selectors

    with tenancy.tenant_context(manager.company_id):
        company = manager.company
        calendar = calendar_for(company=company)
        overview = selectors.manager_overview(
            company=company, manager=manager, day=today, calendar=calendar
        )
        form = selectors.report_form(company=company, manager=manager, day=today)
    return digest(overview), digest((form.day, form.closed, form.rows))


def profile_print(name: str, call: Any, top: int, before: Any = None) -> None:
    """cProfile PROFILED calls (CPU time; `before` runs outside the profile ahead of each);
    the top `top` lines (PROFILE_SORT, cumulative by default) to stderr, and the whole
    profile to PROFILE_DUMP.NAME.prof when PROFILE_DUMP is set (for pstats' callers)."""
    if not top:
        return
    profiler = cProfile.Profile(time.process_time)
    for _ in range(PROFILED):
        if before:
            before()
        profiler.runcall(call)
    log(f"profile of {name} ({PROFILED} requests, CPU):")
    stats = pstats.Stats(profiler, stream=sys.stderr)
    if dump := os.environ.get("PROFILE_DUMP"):
        stats.dump_stats(f"{dump}.{name}.prof")
    order = os.environ.get("PROFILE_SORT", "cumulative")
    stats.sort_stats(order).print_stats(top)


def timed(name: str, call: Any, repeat: int, *, before: Any = None, profile: int = 0) -> None:
    """p50/p95 of `call` (after warm-up; `before` runs untimed ahead of each) and one call's
    SQL queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def once() -> None:
        if before:
            before()
        call()

    for _ in range(WARMUP):
        once()
    times, cpu = [], []
    for _ in range(repeat):
        if before:
            before()
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    if before:
        before()
    with CaptureQueriesContext(connection) as queries:
        call()
    emit(f"{name}_queries", len(queries.captured_queries))
    emit(f"{name}_sql_ms", sum(float(q["time"]) for q in queries.captured_queries) * 1000)
    emit(f"{name}_p50_ms", statistics.median(times))
    emit(f"{name}_p95_ms", percentile(times, 0.95))
    # This process's CPU (the web side: middleware, view, ORM, template), which the shared
    # machine's load inflates far less than the wall clock.
    emit(f"{name}_cpu_p50_ms", statistics.median(cpu))
    emit(f"{name}_cpu_mean_ms", statistics.fmean(cpu))
    # Function calls of one request (cProfile): a load-independent measure of the web work.
    if before:
        before()
    profiler = cProfile.Profile()
    profiler.runcall(call)
    emit(f"{name}_calls", pstats.Stats(profiler).total_calls)
    profile_print(name, call, profile, before)


def page_time(client: Any, name: str, url: str, repeat: int, profile: int) -> None:
    def get() -> None:
        response = client.get(url)
        if response.status_code != 200:
            body = response.content.decode(errors="replace")[:2000]
            raise SystemExit(f"bench: GET {url} answered {response.status_code}:\n{body}")

    log(f"GET {url} × {repeat}")
    timed(name, get, repeat, profile=profile)


def submit_time(client: Any, manager: Any, today: datetime.date, repeat: int, profile: int) -> None:
    """The first submission of today's report, as the form posts it: today's report is
    deleted (untimed) before each, so every timed POST creates it and marks its buckets."""
    from accounts import tenancy
    from reports import selectors
    from reports.models import DailyReport

    url = f"/report/{today.isoformat()}/"
    with tenancy.tenant_context(manager.company_id):
        kpis = selectors.typed_kpis_of(company=manager.company, manager=manager, day=today)
        form = {kpi.code: "1:00:00" if kpi.code == "talk_time" else "7" for kpi in kpis}
    form.update(version="", confirm="yes")  # an unusual figure is confirmed at once

    def delete() -> None:
        with tenancy.tenant_context(manager.company_id):
            DailyReport.objects.filter(manager=manager, date=today).delete()

    def post() -> None:
        response = client.post(url, form)
        if response.status_code != 302:
            body = response.content.decode(errors="replace")[:2000]
            raise SystemExit(f"bench: POST {url} answered {response.status_code}:\n{body}")

    log(f"POST {url} × {repeat}")
    timed("submit", post, repeat, before=delete, profile=profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50, help="timed requests per page")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="cProfile 20 requests of each: top N to stderr",
    )
    args = parser.parse_args()
    rollup.in_process_like_production("my_page", needs=("DATABASE_URL", "DATABASE_OWNER_URL"))
    from django.test import Client

    from accounts import tenancy

    log("building the manager's company")
    manager = build(datetime.datetime.now(rollup.MOSCOW).date())
    today = manager.company.today()
    emit("day", today.isoformat())
    my_output, form_output = outputs(manager, today)
    emit("my_output", my_output)
    emit("form_output", form_output)

    client = Client()
    with tenancy.tenant_context(manager.company_id):
        client.force_login(manager)
    page_time(client, "my", "/my/", args.repeat, args.profile)
    page_time(client, "form", f"/report/{today.isoformat()}/", args.repeat, args.profile)
    submit_time(client, manager, today, args.repeat, args.profile)


if __name__ == "__main__":
    main()
