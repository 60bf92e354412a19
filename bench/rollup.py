"""The rollup engine on a realistic data set: scripts/bench rollup [--companies 10 --days 60].

Generates companies, teams, sales roles, KPIs (every aggregation: sum, avg, last, ratio),
managers (there since before the history), month and week plans, absences and two years of
daily reports with PostgreSQL COPY (as the superuser, DATABASE_ADMIN_URL), then measures:

- full_s: every company's totals from empty, through rollups.services.totals_reconcile, in a
  worker process that connects as the app role under row-level security (DATABASE_URL) and
  has loaded what a running worker has first (warm_up); full_statement_s,
  full_other_sql_s and full_python_s split it into the engine's statement, the other
  statements, and the rest (Python, and the commit, where the totals' deferred foreign keys
  are checked);
- floor_s: the same rows' aggregation parts (Σ, count, days, last value) computed by a
  hand-written INSERT … SELECT … GROUP BY a company (the same facts of record, team stays
  and role KPI sets, the same planner settings; the app role under row-level security, into
  a table with the totals' indexes and foreign keys), no plans, no pace, no bands;
  floor_mismatches counts the rows where the two disagree (0: the floor computes what the
  engine does);
- floor_with_plans_s: that floor plus each manager's plan and working days in each bucket
  (month plans split over the working days less absences, week plans, other KPIs' month
  plans), written the straightforward way; floor_with_plans_mismatches compares those too.
  Still no silent members' plans in the teams, no pace, no completion or bands;
- incremental_s: one new day's report from every manager, buckets marked as the app marks
  them (not timed), then rollups.services.rollup_run for every company, timed in the worker
  (incremental_statement_s, _other_sql_s, _python_s, _queries as for full);
  <mode>_statement_cpu_s: the engine statement's CPU time in the PostgreSQL server (its
  backend's, from /proc), which a loaded machine hardly changes, unlike the times:
  incremental_statement_cpu_share compares the last incremental run's with the last full's;
  incremental_floor_s: only reading the marked managers' facts of their buckets' periods
  and adding them up by bucket, a company at a time as the app role; each run after the
  first starts from the totals as they were before the new day, so that it writes what the
  first wrote (incremental_written);
- --pairs N: the floor, the full rollup and the floor with plans run back to back N times
  (the same load on a shared machine; pair_K lines), and the incremental floor and run N
  times (the same day's buckets marked again); the times and the ratios are the medians;
  load_average and load_average_after say how loaded the machine was;
- worker_peak_mb: the worker's peak RSS, after one company and after all of them;
- on the fly vs stored: a team's running-month figures and a company's two-year history,
  computed from the facts on request or read from rollups_total (median ms).

scripts/bench rollup --nightly [--companies 10 --days 730] measures the nightly check instead:
half the companies get 4 × --days of history, the other half --days (the older reports
deleted before anything is rolled up), the same managers and the same new day; then
rollups.services.totals_verify runs for every company, --nights times, the two halves
interleaved company by company so that both see the same machine:

- nightly_1x_s, nightly_4x_s: one night's check of each half (the median night);
- nightly_4x_vs_1x: the median of the nights' ratios (the target: within 1.2);
- full_1x_s, full_4x_s: the whole-history check (totals_reconcile) of each half, for contrast.

Prints one name=value line per figure on stdout; progress goes to stderr.
"""

import argparse
import datetime
import json
import logging
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import sysconfig
import time
import uuid
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
SEED = 20261125
# How often each on-the-fly or stored read is repeated; the engine over a company's whole
# history costs seconds, so it runs fewer times.
REPEAT = 20
REPEAT_HISTORY = 5

# The company's KPIs, one of every aggregation: (code, unit, direction, aggregation, decimals).
KPIS = [
    ("calls", "count", "higher", "sum", 0),
    ("long_calls", "count", "higher", "sum", 0),
    ("talk_time", "duration", "higher", "avg", 0),
    ("deals_won", "count", "higher", "sum", 0),
    ("deals_sum", "money", "higher", "sum", 2),
    ("receivables", "money", "lower", "last", 2),
    ("avg_check", "money", "higher", "ratio", 2),
]
KPI_NAMES = {
    "calls": ("Звонки", "Calls made", "telephony"),
    "long_calls": ("Разговоры дольше 15 с", "Conversations over 15 s", "telephony"),
    "talk_time": ("Время разговоров", "Talk time", "telephony"),
    "deals_won": ("Выигранные сделки", "Deals won", "crm"),
    "deals_sum": ("Сумма выигранных сделок", "Deals won, sum", "crm"),
    "receivables": ("Дебиторская задолженность", "Receivables", "manual"),
    "avg_check": ("Средний чек", "Average check", "computed"),
}
RATIO_PARTS = {"avg_check": ("deals_sum", "deals_won")}
# Role sets (2–5 KPIs each): a hunter types five figures a day, a closer four and gets the
# average check computed from two of them.
ROLE_SETS = {
    "hunter": ("Хантер", ["calls", "long_calls", "talk_time", "deals_won", "receivables"]),
    "closer": ("Клоузер", ["talk_time", "deals_won", "deals_sum", "receivables", "avg_check"]),
}
# A role's monthly default plan per calendar day of the month (summed KPIs), or its target.
DAILY_PLAN = {
    "hunter": {"calls": 40, "long_calls": 16, "deals_won": 0.5},
    "closer": {"deals_won": 1.5, "deals_sum": 90000},
}
TARGET = {"talk_time": {"hunter": 5400, "closer": 3600}, "receivables": 300000, "avg_check": 60000}


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def emit(name: str, value: object) -> None:
    if isinstance(value, float):
        value = f"{value:.{3 if abs(value) < 100 else 1}f}"
    print(f"{name}={value}", flush=True)


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesdesk.settings")
    # .delay() after a marking transaction only enqueues (Redis from scripts/bench, or the
    # in-memory broker); nobody consumes it, so nothing runs behind the timings.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    import django

    django.setup()


def serve_like_production(bench: str) -> None:
    """Production's settings for a bench that serves HTTP (DEBUG off, persistent connections
    as docker-compose.yml sets them), plain HTTP on loopback, static files not collected;
    then Django."""
    for name in ("DATABASE_URL", "DATABASE_ADMIN_URL", "REDIS_URL"):
        if not os.environ.get(name):
            sys.exit(f"bench: {name} is not set; run it through scripts/bench {bench}")
    os.environ.update(
        {
            "DEBUG": "0",
            "SECURE": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
            "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        }
    )
    os.environ.setdefault("DB_CONN_MAX_AGE", "60")
    setup_django()


def in_process_like_production(bench: str, *, needs: tuple[str, ...]) -> None:
    """The settings of a bench that drives the app in its own process with Django's test
    client: the client's host allowed, persistent connections as docker-compose.yml deploys
    them, plain static storage (the manifest may be older than the templates); then Django.
    `needs`: the environment scripts/bench sets and the bench cannot run without."""
    for name in needs:
        if not os.environ.get(name):
            sys.exit(f"bench: {name} is not set; run it through scripts/bench {bench}")
    os.environ["ALLOWED_HOSTS"] = ",".join(
        filter(None, [os.environ.get("ALLOWED_HOSTS", ""), "testserver"])
    )
    os.environ.setdefault("DB_CONN_MAX_AGE", "60")
    os.environ.setdefault(
        "STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage"
    )
    setup_django()


def admin_connect(*, autocommit: bool = False) -> psycopg.Connection:
    return psycopg.connect(os.environ["DATABASE_ADMIN_URL"], autocommit=autocommit)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- The data set ---------------------------------------------------------------------------


@dataclass
class Manager:
    id: int
    company_id: int
    team_id: int
    role: str
    kpis: list[tuple[int, str]]  # the typed KPIs of the role set: (id, code)
    skill: float
    receivables: float
    absent: set[datetime.date] = field(default_factory=set)


@dataclass
class DataSet:
    companies: list[int]
    teams: dict[int, list[int]]  # company → team ids
    managers: list[Manager]
    first: datetime.date
    last: datetime.date
    kpis_per_company: int
    next_report_id: int = 1
    next_value_id: int = 1
    reports: int = 0
    facts: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))


class Ids:
    def __init__(self) -> None:
        self.counters: dict[str, int] = {}

    def next(self, table: str) -> int:
        self.counters[table] = self.counters.get(table, 0) + 1
        return self.counters[table]


def copy_rows(cursor: psycopg.Cursor, table: str, rows: list[dict[str, Any]]) -> None:
    names = ", ".join(f'"{c}"' for c in rows[0])
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(tuple(row.values()))


def month_starts(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day)
        day = (day + datetime.timedelta(days=32)).replace(day=1)
    return months


def days_in_month(month: datetime.date) -> int:
    return ((month + datetime.timedelta(days=32)).replace(day=1) - month).days


def build_directory(
    cursor: psycopg.Cursor, *, companies: int, managers: int, days: int, today: datetime.date
) -> DataSet:
    """Companies, roles, teams, KPIs, role sets, managers, plans and absences."""
    rng = random.Random(SEED)
    ids = Ids()
    now = datetime.datetime.now(datetime.UTC)
    first, last = today - datetime.timedelta(days=days), today - datetime.timedelta(days=1)
    rows: dict[str, list[dict[str, Any]]] = {}

    def add(table: str, **row: Any) -> int:
        row = {"id": ids.next(table), **row}
        rows.setdefault(table, []).append(row)
        return row["id"]

    data = DataSet([], {}, [], first, last, len(KPIS))
    set_from = datetime.date(first.year - 1, 1, 1)
    joined = datetime.datetime.combine(set_from, datetime.time(9), tzinfo=datetime.UTC)
    months = month_starts(first, today)
    for c in range(companies):
        company = add(
            "accounts_company",
            code=uuid.uuid4(),
            name=f"Бенчмарк {c + 1}",
            country="RU",
            timezone="Europe/Moscow",
            currency="RUB",
            band_red_below=60,
            band_green_from=80,
            created=now,
            reminder_time=datetime.time(18),
            report_backdate_days=3,
            telegram_bot_token="",
            long_call_seconds=15,
            missed_calls_limit=3,
        )
        data.companies.append(company)
        tenant = {"company_id": company}
        roles = {
            kind: add("accounts_salesrole", code=uuid.uuid4(), name=name, kind=kind, **tenant)
            for kind, (name, _codes) in ROLE_SETS.items()
        }
        teams = [
            add("accounts_team", code=uuid.uuid4(), name=f"Команда {n + 1}", **tenant)
            for n in range(1 + c % 3)
        ]
        data.teams[company] = teams
        kpi_ids: dict[str, int] = {}
        for code, unit, direction, aggregation, decimals in KPIS:
            name_ru, name_en, source = KPI_NAMES[code]
            numerator, denominator = RATIO_PARTS.get(code, (None, None))
            kpi_ids[code] = add(
                "kpi_kpi",
                code=code,
                uid=uuid.uuid4(),
                name_ru=name_ru,
                name_en=name_en,
                unit=unit,
                direction=direction,
                aggregation=aggregation,
                source=source,
                decimals=decimals,
                numerator_id=kpi_ids.get(numerator or ""),
                denominator_id=kpi_ids.get(denominator or ""),
                **tenant,
            )
        for kind, (_name, codes) in ROLE_SETS.items():
            for position, code in enumerate(codes):
                add(
                    "kpi_rolekpi",
                    position=position,
                    effective_from=set_from,
                    kpi_id=kpi_ids[code],
                    sales_role_id=roles[kind],
                    **tenant,
                )
        plan = {"manager_id": None, "sales_role_id": None, **tenant}
        # The role's default plans, every month of the history and the current one.
        for month in months:
            for kind, (_name, codes) in ROLE_SETS.items():
                for code in codes:
                    value = plan_value(kind, code, month)
                    add(
                        "kpi_plan",
                        **{**plan, "sales_role_id": roles[kind]},
                        period="month",
                        start=month,
                        value=value,
                        kpi_id=kpi_ids[code],
                    )
        for m in range(managers):
            kind = "closer" if m % 5 == 4 else "hunter"
            codes = ROLE_SETS[kind][1]
            username = f"c{c + 1}.m{m + 1}"
            user = add(
                "accounts_user",
                password="!",
                is_superuser=False,
                first_name=f"Менеджер {m + 1}",
                last_name=f"Компания {c + 1}",
                email="",
                is_staff=False,
                is_active=True,
                # There before the history begins: a silent manager's plan counts in every
                # period (engine.py), as in a company that has run for years.
                date_joined=joined,
                code=uuid.uuid4(),
                username=username,
                role="manager",
                is_company_admin=False,
                sales_role_id=roles[kind],
                team_id=teams[m % len(teams)],
                telegram_chat_id="",
                **tenant,
            )
            add("accounts_loginname", username=username, user_id=user, **tenant)
            # The team's stay, as accounts.services records it: the teams' totals count it.
            add(
                "accounts_teammembership",
                user_id=user,
                team_id=teams[m % len(teams)],
                effective_from=None,
                effective_to=None,
                **tenant,
            )
            skill = 0.7 + 0.6 * rng.random()
            manager = Manager(
                id=user,
                company_id=company,
                team_id=teams[m % len(teams)],
                role=kind,
                kpis=[(kpi_ids[code], code) for code in codes if code not in RATIO_PARTS],
                skill=skill,
                receivables=300000 * (2 - skill),
            )
            data.managers.append(manager)
            own = {**plan, "manager_id": user}
            # Some managers have plans of their own for the role's first summed KPI.
            if m % 4 == 1:
                code = next(code for code in codes if code in DAILY_PLAN[kind])
                for month in months:
                    value = plan_value(kind, code, month) * Decimal("1.1")
                    add(
                        "kpi_plan",
                        **own,
                        period="month",
                        start=month,
                        value=value,
                        kpi_id=kpi_ids[code],
                    )
            # A few have weekly plans for deals over the last eight weeks.
            if m % 10 == 2:
                monday = today - datetime.timedelta(days=today.weekday())
                value = Decimal(str(round(DAILY_PLAN[kind]["deals_won"] * 7 * 1.2, 4)))
                for week in range(8):
                    add(
                        "kpi_plan",
                        **own,
                        period="week",
                        start=monday - datetime.timedelta(weeks=week),
                        value=value,
                        kpi_id=kpi_ids["deals_won"],
                    )
            # A two-week vacation a year for every seventh manager: no reports then.
            if m % 7 == 3:
                for year in range(0, days, 365):
                    start = first + datetime.timedelta(days=rng.randrange(year, year + 351))
                    end = min(start + datetime.timedelta(days=13), last)
                    if end < start:
                        continue
                    add(
                        "kpi_absence",
                        code=uuid.uuid4(),
                        kind="vacation",
                        start=start,
                        end=end,
                        manager_id=user,
                        **tenant,
                    )
                    manager.absent.update(
                        start + datetime.timedelta(days=i) for i in range((end - start).days + 1)
                    )

    for table in SEQUENCED[:-2]:  # parents first
        if rows.get(table):
            copy_rows(cursor, table, with_defaults(table, rows[table]))
    return data


def with_defaults(table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with the model's default for every NOT NULL column they leave out: COPY
    passes Django's defaults by, and the models grow columns the generator need not know."""
    from django.apps import apps
    from django.db.models import NOT_PROVIDED

    model = next(m for m in apps.get_models() if m._meta.db_table == table)
    missing = [
        column
        for column in model._meta.concrete_fields
        if not column.null
        and column.column not in rows[0]
        and column.db_default is NOT_PROVIDED  # the database fills those itself
        and column.get_default() is not None  # a default, or "" for a text field
    ]
    for row in rows:
        for column in missing:
            value = column.get_default()
            value = getattr(value, "value", value)  # a choice: its stored value
            row[column.column] = json.dumps(value) if isinstance(value, dict | list) else value
    return rows


def plan_value(kind: str, code: str, month: datetime.date) -> Decimal:
    if code in DAILY_PLAN[kind]:
        return Decimal(str(round(DAILY_PLAN[kind][code] * days_in_month(month), 4)))
    target = TARGET[code]
    return Decimal(str(target[kind] if isinstance(target, dict) else target))


def day_values(manager: Manager, rng: random.Random) -> Iterator[tuple[int, str]]:
    """One day's typed figures of a manager, around the role's plan times their skill."""
    s = manager.skill
    calls = max(0, round(rng.gauss(40 * s, 8)))
    if manager.role == "hunter":
        deals = int(rng.random() < 0.5 * s) + int(rng.random() < 0.05 * s)
        talk = rng.gauss(5400 * s, 900)
    else:
        deals = sum(int(rng.random() < 0.5 * s) for _ in range(3))
        talk = rng.gauss(3600 * s, 600)
    manager.receivables = max(
        0.0, manager.receivables * rng.uniform(0.97, 1.03) + rng.uniform(-5000, 5000)
    )
    for kpi_id, code in manager.kpis:
        if code == "calls":
            value = str(calls)
        elif code == "long_calls":
            value = str(round(calls * rng.uniform(0.3, 0.5)))
        elif code == "talk_time":
            value = str(max(0, round(talk)))
        elif code == "deals_won":
            value = str(deals)
        elif code == "deals_sum":
            value = f"{deals * rng.uniform(30000, 90000):.2f}"
        else:  # receivables
            value = f"{manager.receivables:.2f}"
        yield kpi_id, value


def copy_reports(
    data: DataSet,
    report_copy: Any,
    value_copy: Any,
    days: list[datetime.date],
    *,
    skip_absent: bool = True,
) -> None:
    """Reports and their figures, day by day across companies: the order they accumulate in."""
    rng = data.rng
    reports: list[str] = []
    values: list[str] = []
    for day in days:
        for manager in data.managers:
            if skip_absent and day in manager.absent:
                continue
            report_id = data.next_report_id
            data.next_report_id += 1
            submitted = f"{day} {17 + rng.randrange(3)}:{rng.randrange(60):02d}:00+03"
            reports.append(
                f"{report_id}\t{uuid.uuid4()}\t{day}\t{submitted}\t{manager.company_id}\t"
                f"{manager.id}\t{manager.id}\t1\n"
            )
            for kpi_id, value in day_values(manager, rng):
                values.append(
                    f"{data.next_value_id}\t{value}\t{manager.company_id}\t{kpi_id}\t"
                    f"{report_id}\tmanual\n"
                )
                data.next_value_id += 1
            data.reports += 1
            if len(reports) >= 5000:
                report_copy.write("".join(reports))
                value_copy.write("".join(values))
                reports.clear()
                values.clear()
    if reports:
        report_copy.write("".join(reports))
        value_copy.write("".join(values))


REPORT_COPY = (
    "COPY reports_dailyreport (id, code, date, submitted_at, company_id, manager_id, "
    "submitted_by_id, version) FROM STDIN"
)
VALUE_COPY = (
    "COPY reports_reportvalue (id, value, company_id, kpi_id, report_id, source) FROM STDIN"
)
SEQUENCED = [
    "accounts_company",
    "accounts_salesrole",
    "accounts_team",
    "kpi_kpi",
    "kpi_rolekpi",
    "accounts_user",
    "accounts_loginname",
    "accounts_teammembership",
    "kpi_plan",
    "kpi_absence",
    "reports_dailyreport",
    "reports_reportvalue",
]


def sequences_reset(cursor: psycopg.Cursor) -> None:
    for table in SEQUENCED:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"GREATEST((SELECT max(id) FROM {table}), 1))"
        )


def generate(args: argparse.Namespace, today: datetime.date) -> DataSet:
    with admin_connect() as admin, admin.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM accounts_company)")
        if cursor.fetchone()[0]:
            sys.exit("bench: the database already has companies; scripts/bench makes a fresh one")
        # Every generated row is consistent: no foreign-key triggers during the bulk load.
        cursor.execute("SET session_replication_role = replica")
        data = build_directory(
            cursor, companies=args.companies, managers=args.managers, days=args.days, today=today
        )
        admin.commit()
        days = [data.first + datetime.timedelta(days=i) for i in range(args.days)]
        # Two connections, so that both COPY streams run at once.
        with admin_connect() as second, second.cursor() as value_cursor:
            value_cursor.execute("SET session_replication_role = replica")
            with (
                cursor.copy(REPORT_COPY) as report_copy,
                value_cursor.copy(VALUE_COPY) as value_copy,
            ):
                copy_reports(data, report_copy, value_copy, days)
            second.commit()
        admin.commit()
        data.facts = data.next_value_id - 1
        sequences_reset(cursor)
        admin.commit()
    with admin_connect(autocommit=True) as admin:
        log("vacuum analyze")
        admin.execute("VACUUM (FREEZE, ANALYZE)")
        admin.execute("CHECKPOINT")
    return data


# --- The floor: the aggregation alone, in one statement ------------------------------------

# The same rows' aggregation parts (Σ, count, days, last value) as the engine computes them,
# and nothing else: no plans, no working days, no pace, no bands. The same facts of record,
# the same team stays (accounts_teammembership), the same KPI set of the manager's role while
# the period lasted; company by company as the app role under row-level security, into a
# table with rollups_total's indexes and policy. What the engine does on top of this is the
# gap full_vs_floor measures.
FLOOR_CTES = """
WITH facts AS (
    SELECT x.manager_id, x.kpi_id, x.date, x.value, k.aggregation = 'last' AS is_last
    FROM ({facts}) x JOIN kpi_kpi k ON k.id = x.kpi_id
),
stays AS (
    SELECT user_id AS manager_id, team_id, effective_from, effective_to
    FROM accounts_teammembership WHERE company_id = %(company)s
),
whole_stays AS (
    SELECT manager_id, max(team_id) AS team_id FROM stays GROUP BY manager_id
    HAVING count(*) = 1 AND max(effective_from) IS NULL AND max(effective_to) IS NULL
),
dated_stays AS (
    SELECT * FROM stays WHERE manager_id NOT IN (SELECT manager_id FROM whole_stays)
),
seg_facts AS (
    SELECT manager_id, 0 AS seg, kpi_id, date, value, is_last FROM facts
    UNION ALL
    SELECT f.manager_id, st.team_id, f.kpi_id, f.date, f.value, f.is_last
    FROM facts f
    JOIN dated_stays st ON st.manager_id = f.manager_id
        AND (st.effective_from IS NULL OR st.effective_from <= f.date)
        AND (st.effective_to IS NULL OR st.effective_to > f.date)
),
parts AS MATERIALIZED (
    SELECT manager_id, seg, kpi_id, 'day' AS period, date AS start, date AS "end",
        value AS s, 1::bigint AS n, CASE WHEN is_last THEN value END AS last_value
    FROM seg_facts
    UNION ALL
    SELECT manager_id, seg, kpi_id, p.period, p.start, max(p."end"), sum(value), count(*),
        (max(CASE WHEN is_last
            THEN ARRAY[(date - DATE '2000-01-01')::numeric, value] END))[2]
    FROM seg_facts
    CROSS JOIN LATERAL (VALUES
        ('week', date_trunc('week', date)::date, date_trunc('week', date)::date + 6),
        ('month', date_trunc('month', date)::date,
            (date_trunc('month', date) + interval '1 month - 1 day')::date)
    ) p(period, start, "end")
    GROUP BY manager_id, seg, kpi_id, p.period, p.start
),
ratios AS (
    SELECT den.manager_id, den.seg, k.id AS kpi_id, den.period, den.start, den."end",
        COALESCE(num.s, 0) AS s, den.s AS n, den.n AS days, NULL::numeric AS last_value
    FROM kpi_kpi k
    JOIN parts den ON den.kpi_id = k.denominator_id
    LEFT JOIN parts num ON num.kpi_id = k.numerator_id AND num.manager_id = den.manager_id
        AND num.seg = den.seg AND num.period = den.period AND num.start = den.start
    WHERE k.company_id = %(company)s AND k.aggregation = 'ratio'
),
rows AS (
    SELECT p.manager_id, p.seg, p.kpi_id, p.period, p.start, p."end", p.s, p.n,
        p.n AS days, p.last_value
    FROM parts p JOIN kpi_kpi k ON k.id = p.kpi_id AND k.aggregation <> 'ratio'
    UNION ALL
    SELECT * FROM ratios
),
mkpis AS MATERIALIZED (
    SELECT m.*, k.unit FROM rows m
    JOIN accounts_user u ON u.id = m.manager_id
    JOIN kpi_kpi k ON k.id = m.kpi_id
    WHERE EXISTS (
        SELECT 1 FROM kpi_rolekpi rk
        WHERE rk.company_id = %(company)s AND rk.sales_role_id = u.sales_role_id
            AND rk.kpi_id = m.kpi_id AND rk.effective_from <= m."end"
            AND (rk.effective_to IS NULL OR rk.effective_to > m.start))
)"""
FLOOR_INSERT = """
INSERT INTO bench_floor (company_id, scope, subject_id, kpi_id, period, start, "end",
    value_sum, value_count, days_reported, last_value, plan, working_days, band, at_risk,
    computed_at)"""
FLOOR_MANAGERS = """
SELECT %(company)s, 'manager', manager_id, kpi_id, period, start, "end", s, n, days,
    last_value, NULL::numeric, NULL::integer, 'none', false, now()
FROM mkpis WHERE seg = 0"""
FLOOR_LEVEL_TWO = """
SELECT %(company)s, CASE WHEN seg = 0 THEN 'company' ELSE 'team' END,
    CASE WHEN seg = 0 THEN %(company)s ELSE seg END, kpi_id, period, start, max("end"),
    sum(s), sum(n), sum(days),
    CASE WHEN max(unit) = 'percent' THEN avg(last_value) ELSE sum(last_value) END,
    NULL::numeric, NULL::integer, 'none', false, now()
FROM (
    SELECT * FROM mkpis
    UNION ALL
    SELECT m.manager_id, ws.team_id, m.kpi_id, m.period, m.start, m."end", m.s, m.n, m.days,
        m.last_value, m.unit
    FROM mkpis m JOIN whole_stays ws ON ws.manager_id = m.manager_id WHERE m.seg = 0
) m
GROUP BY seg, kpi_id, period, start
"""
FLOOR_SQL = FLOOR_INSERT + FLOOR_CTES + FLOOR_MANAGERS + "\nUNION ALL" + FLOOR_LEVEL_TWO

# The floor with the managers' plans (DOMAIN.md, plan: a summed KPI's month plan split
# evenly over the manager's working days, absences excluded; a week's own plan; another
# KPI's month plan) and their working days in each bucket, as the engine stores them on a
# manager's totals, written the straightforward way. Still no silent members, no team
# plans, no pace, no completion or bands. floor_plans_mismatches compares the managers'
# plans and working days with the engine's too.
FLOOR_PLANS_SQL = (
    FLOOR_INSERT
    + FLOOR_CTES
    + """,
managers AS (SELECT DISTINCT manager_id FROM mkpis),
mdays AS (
    SELECT m.manager_id, w.date, date_trunc('week', w.date)::date AS week_start,
        date_trunc('month', w.date)::date AS month_start
    FROM managers m
    JOIN rollups_workingday w ON w.company_id = %(company)s
        AND w.date BETWEEN %(plo)s AND %(phi)s
    WHERE NOT EXISTS (
        SELECT 1 FROM kpi_absence a
        WHERE a.company_id = %(company)s AND a.manager_id = m.manager_id
            AND w.date BETWEEN a.start AND a."end")
),
-- A bucket's working days by the month they are in (a week across two months has both).
bucket_month_days AS MATERIALIZED (
    SELECT manager_id, p.period, p.start, month_start, count(*) AS n
    FROM mdays
    CROSS JOIN LATERAL (VALUES ('day', date), ('week', week_start), ('month', month_start))
        p(period, start)
    GROUP BY manager_id, p.period, p.start, month_start
),
month_days AS (
    SELECT manager_id, month_start, count(*) AS n FROM mdays GROUP BY manager_id, month_start
),
plans AS MATERIALIZED (
    SELECT m.manager_id, p.kpi_id, p.period, p.start,
        COALESCE(max(p.value) FILTER (WHERE p.manager_id IS NOT NULL),
                 max(p.value) FILTER (WHERE p.manager_id IS NULL)) AS value
    FROM managers m
    JOIN accounts_user u ON u.id = m.manager_id
    JOIN kpi_plan p ON p.company_id = %(company)s AND p.start BETWEEN %(plo)s AND %(phi)s
        AND (p.manager_id = m.manager_id
             OR (p.manager_id IS NULL AND p.sales_role_id = u.sales_role_id))
    GROUP BY m.manager_id, p.kpi_id, p.period, p.start
),
split AS (
    SELECT b.manager_id, mp.kpi_id, b.period, b.start, sum(mp.value * b.n * 1.0 / md.n) AS plan
    FROM bucket_month_days b
    JOIN month_days md ON md.manager_id = b.manager_id AND md.month_start = b.month_start
    JOIN plans mp ON mp.manager_id = b.manager_id AND mp.period = 'month'
        AND mp.start = b.month_start
    GROUP BY b.manager_id, mp.kpi_id, b.period, b.start
),
bucket_days AS (
    SELECT manager_id, period, start, sum(n) AS n FROM bucket_month_days
    GROUP BY manager_id, period, start
)
SELECT %(company)s, 'manager', m.manager_id, m.kpi_id, m.period, m.start, m."end", m.s, m.n,
    m.days, m.last_value,
    round(round(CASE WHEN k.aggregation <> 'sum' THEN mp1.value
        WHEN m.period = 'week' AND wp.value IS NOT NULL THEN wp.value
        WHEN mp1.value IS NOT NULL OR mp2.value IS NOT NULL THEN COALESCE(sp.plan, 0)
        END, 12), 4),
    bd.n, 'none', false, now()
FROM mkpis m
JOIN kpi_kpi k ON k.id = m.kpi_id
LEFT JOIN plans mp1 ON mp1.manager_id = m.manager_id AND mp1.kpi_id = m.kpi_id
    AND mp1.period = 'month' AND mp1.start = date_trunc('month', m.start)::date
LEFT JOIN plans mp2 ON mp2.manager_id = m.manager_id AND mp2.kpi_id = m.kpi_id
    AND mp2.period = 'month' AND mp2.start = date_trunc('month', m."end")::date
LEFT JOIN plans wp ON wp.manager_id = m.manager_id AND wp.kpi_id = m.kpi_id
    AND wp.period = 'week' AND m.period = 'week' AND wp.start = m.start
LEFT JOIN split sp ON sp.manager_id = m.manager_id AND sp.kpi_id = m.kpi_id
    AND sp.period = m.period AND sp.start = m.start
LEFT JOIN bucket_days bd ON bd.manager_id = m.manager_id AND bd.period = m.period
    AND bd.start = m.start
WHERE m.seg = 0
UNION ALL"""
    + FLOOR_LEVEL_TWO
)

COMPARE_SQL = """
SELECT count(*) FROM rollups_total t
FULL JOIN bench_floor f USING (company_id, scope, subject_id, kpi_id, period, start)
WHERE t.id IS NULL OR f.id IS NULL OR t."end" <> f."end" OR t.value_sum <> f.value_sum
    OR t.value_count <> f.value_count OR t.days_reported <> f.days_reported
    OR t.last_value IS DISTINCT FROM f.last_value
"""
# The floor with plans: the managers' plans and working days too.
COMPARE_PLANS_SQL = (
    COMPARE_SQL.rstrip()
    + """
    OR (t.scope = 'manager' AND (t.plan IS DISTINCT FROM f.plan
        OR t.working_days IS DISTINCT FROM f.working_days))
"""
)


def floor_table() -> None:
    """bench_floor: rollups_total's columns, indexes, foreign keys and row-level security,
    the app role's."""
    from accounts.rls import CURRENT_COMPANY, POLICY

    app_role = psycopg.conninfo.conninfo_to_dict(os.environ["DATABASE_URL"])["user"]
    with admin_connect(autocommit=True) as admin:
        admin.execute("DROP TABLE IF EXISTS bench_floor")
        admin.execute("CREATE TABLE bench_floor (LIKE rollups_total INCLUDING ALL)")
        # LIKE leaves the foreign keys out. The totals' are deferred to the commit (Django
        # makes them so), where checking a company's 100 000 rows took a quarter of the
        # full rollup's time: the floor's rows are checked the same way.
        foreign_keys = admin.execute(
            """SELECT pg_get_constraintdef(oid) FROM pg_constraint
            WHERE conrelid = 'rollups_total'::regclass AND contype = 'f'"""
        ).fetchall()
        for (definition,) in foreign_keys:
            admin.execute(f"ALTER TABLE bench_floor ADD {definition}")
        admin.execute("ALTER TABLE bench_floor ENABLE ROW LEVEL SECURITY")
        admin.execute("ALTER TABLE bench_floor FORCE ROW LEVEL SECURITY")
        condition = f"company_id = {CURRENT_COMPANY}"
        admin.execute(
            f"CREATE POLICY {POLICY} ON bench_floor USING ({condition}) WITH CHECK ({condition})"
        )
        admin.execute(f'GRANT ALL ON bench_floor TO "{app_role}"')


def floor_run(floor: str = FLOOR_SQL) -> tuple[float, int]:
    """The floor of every company, as the engine's worker runs: one transaction a company
    under its tenant, the facts' span looked up first, the same planner settings."""
    from kpi.periods import month_bounds, week_bounds
    from rollups import engine

    floor_table()
    # The company's whole history, read as the engine's full rollup reads it.
    sql = floor.format(facts=engine.facts_sql(engine.POSTGRESQL, whole=True))
    planner = ", ".join(
        f"set_config('{name}', 'off', true)"
        for name in ("enable_nestloop", "enable_mergejoin", "enable_sort", "jit")
    )
    with psycopg.connect(os.environ["DATABASE_URL"]) as app:
        companies = [row[0] for row in app.execute("SELECT id FROM accounts_company ORDER BY id")]
        app.commit()
        started = time.perf_counter()
        for company_id in companies:
            app.execute(
                f"SELECT set_config('app.company_id', %s, true), {planner}", [str(company_id)]
            )
            lo, hi = app.execute(
                "SELECT min(date), max(date) FROM reports_dailyreport WHERE company_id = %s",
                [company_id],
            ).fetchone()
            if lo is not None:
                # The plans' months, as the engine takes them (rollups.services._write).
                plo = month_bounds(week_bounds(lo)[0])[0]
                phi = month_bounds(week_bounds(hi)[1])[1]
                params = {"company": company_id, "lo": lo, "hi": hi, "plo": plo, "phi": phi}
                app.execute(sql, params)
            app.commit()
        elapsed = time.perf_counter() - started
    with admin_connect() as admin:
        return elapsed, admin.execute("SELECT count(*) FROM bench_floor").fetchone()[0]


# The incremental run's own floor: only reading the stale buckets' facts of record and
# adding them up by manager, KPI and bucket (the parts of the claimed managers' buckets), a
# company at a time as the app role under row-level security. No plans, no teams, nothing
# written, no claims.
INCREMENTAL_FLOOR_SQL = """
SELECT count(*) FROM (
    SELECT x.manager_id, x.kpi_id, p.period, p.start, sum(x.value), count(*), max(x.date)
    FROM ({facts}) x
    CROSS JOIN LATERAL (VALUES
        ('day', x.date), ('week', date_trunc('week', x.date)::date),
        ('month', date_trunc('month', x.date)::date)
    ) p(period, start)
    WHERE (x.manager_id, p.period, p.start) IN (
        SELECT subject_id, period, start FROM rollups_bucket
        WHERE company_id = %(company)s AND scope = 'manager' AND marks > done)
    GROUP BY x.manager_id, x.kpi_id, p.period, p.start
) parts
"""


def incremental_floor_run() -> float:
    """The incremental floor of every company (INCREMENTAL_FLOOR_SQL), timed."""
    from rollups import engine

    sql = INCREMENTAL_FLOOR_SQL.format(facts=engine.facts_sql(engine.POSTGRESQL, whole=False))
    with psycopg.connect(os.environ["DATABASE_URL"]) as app:
        companies = [row[0] for row in app.execute("SELECT id FROM accounts_company ORDER BY id")]
        app.commit()
        started = time.perf_counter()
        for company_id in companies:
            app.execute("SELECT set_config('app.company_id', %s, true)", [str(company_id)])
            app.execute("SET LOCAL enable_nestloop = off")
            app.execute("SET LOCAL jit = off")
            lo, hi = app.execute(
                """SELECT min(start), max("end") FROM rollups_bucket
                WHERE company_id = %s AND marks > done""",
                [company_id],
            ).fetchone()
            if lo is not None:
                app.execute(sql, {"company": company_id, "lo": lo, "hi": hi})
            app.commit()
        return time.perf_counter() - started


# --- The worker: the rollups themselves, in a process of their own ------------------------


def backend_cpu(pid: int) -> float:
    """The seconds a PostgreSQL backend (on this machine) has spent on a CPU so far: unlike
    the wall time, it hardly grows when other programs load the machine."""
    with open(f"/proc/{pid}/schedstat") as schedstat:
        return int(schedstat.read().split()[0]) / 1e9


class SqlTimes:
    """A connection.execute_wrapper: the time in the engine's statement and in the rest, and
    the engine statement's CPU time in the database server."""

    def __init__(self) -> None:
        self.statement = self.other = self.statement_cpu = 0.0
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        engine = "completed AS (" in sql
        pid = context["connection"].connection.info.backend_pid
        cpu = backend_cpu(pid) if engine else 0.0
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - started
            self.queries += 1
            # engine.fresh_sql: into rollup_fresh, the totals, or the incremental statement
            if engine:
                self.statement += spent
                self.statement_cpu += backend_cpu(pid) - cpu
            else:
                self.other += spent


def warm_up(company_id: int) -> None:
    """What a long-running worker (DB_CONN_MAX_AGE keeps its connection) has loaded before
    the rollups it is timed on: the calendar's holiday rules (importing them took seconds,
    counted in the first company's full rollup), the cache's client (its first use, in the
    first company's release, took 0.6 s on a loaded machine: more than a whole incremental
    run of a company) and its connection's catalog entries of the tables the engine reads
    (the statement planned once), and the incremental statement prepared with its plan
    (rollups.services._incremental_run: once per connection, which a worker keeps for
    DB_CONN_MAX_AGE; run here over no bucket). Nothing is computed or written."""
    import holidays
    from django.core.cache import cache
    from django.db import connection
    from django.utils import timezone

    from accounts import tenancy
    from accounts.models import Company
    from rollups import engine, services

    holidays.country_holidays("RU")
    cache.get("bench:warm-up")
    day = datetime.date.today()
    params = dict.fromkeys(("lo", "hi", "plo", "phi", "today", "yesterday"), day)
    with tenancy.tenant_context(company_id), connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN " + engine.fresh_sql(engine.POSTGRESQL, incremental=False),
            {**params, "company": company_id},
        )
    with tenancy.tenant_context(company_id):
        company = Company.objects.get(pk=company_id)
        now = timezone.now()
        nothing = {"ids": [0], "token": "", "now": now, "expired": now}
        services._incremental_run(company, day, day, nothing)


def worker(mode: str) -> None:
    """Runs in a child process: every company's full or incremental rollup, timed."""
    setup_django()
    from django.db import connection

    from accounts.models import Company
    from rollups import services

    # From empty every total is "drift": one warning per company would only be noise.
    logging.getLogger("rollups.services").setLevel(logging.ERROR)

    companies = list(Company.objects.order_by("pk").values_list("pk", flat=True))
    connection.ensure_connection()
    warm_up(companies[0])
    durations = []
    sql = SqlTimes()
    started = time.perf_counter()
    buckets = written = 0
    with connection.execute_wrapper(sql):
        for number, company_id in enumerate(companies):
            company_started = time.perf_counter()
            if mode == "full":
                reconciliation = services.totals_reconcile(company_id=company_id)
                written += reconciliation.written
            else:
                result = services.rollup_run(company_id=company_id)
                buckets += result.buckets
                written += result.written
            durations.append(time.perf_counter() - company_started)
            if number == 0:
                emit(f"worker_peak_mb_1_company_{mode}", round(peak_rss_mb(), 1))
    elapsed = time.perf_counter() - started
    emit(f"{mode}_s", elapsed)
    # Where the time went: the engine's statement, the other statements (claims, upserts,
    # temporary tables, working days), and the rest: Python, and the commits, where the
    # totals' deferred foreign keys are checked.
    emit(f"{mode}_statement_s", sql.statement)
    emit(f"{mode}_statement_cpu_s", sql.statement_cpu)
    emit(f"{mode}_other_sql_s", sql.other)
    emit(f"{mode}_python_s", elapsed - sql.statement - sql.other)
    emit(f"{mode}_queries", sql.queries)
    emit(f"{mode}_company_median_s", statistics.median(durations))
    emit(f"{mode}_company_max_s", max(durations))
    emit(f"{mode}_written", written)
    if mode == "incremental":
        emit("incremental_buckets", buckets)
    emit(f"worker_peak_mb_{mode}", round(peak_rss_mb(), 1))


def nightly_worker(nights: int) -> None:
    """Runs in a child process: the nightly check of every company, the halves interleaved."""
    setup_django()
    from django.db import connection

    from accounts.models import Company
    from rollups import services

    logging.getLogger("rollups.services").setLevel(logging.ERROR)
    companies = list(Company.objects.order_by("pk").values_list("pk", flat=True))
    long, short = companies[0::2], companies[1::2]
    connection.ensure_connection()
    warm_up(companies[0])

    def check(company_id: int) -> float:
        started = time.perf_counter()
        services.totals_verify(company_id=company_id)
        return time.perf_counter() - started

    def whole(company_id: int) -> float:
        started = time.perf_counter()
        services.totals_reconcile(company_id=company_id)
        return time.perf_counter() - started

    full = {"4x": 0.0, "1x": 0.0}
    for long_id, short_id in zip(long, short, strict=True):
        full["4x"] += whole(long_id)
        full["1x"] += whole(short_id)
    nights_4x, nights_1x, ratios = [], [], []
    for _night in range(nights):
        # The day's activity, the same in both halves: every manager's report of today was
        # edited after the last check.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE reports_dailyreport SET updated_at = now() WHERE date = %s",
                [datetime.datetime.now(MOSCOW).date()],
            )
        night = {"4x": 0.0, "1x": 0.0}
        for long_id, short_id in zip(long, short, strict=True):
            night["4x"] += check(long_id)
            night["1x"] += check(short_id)
        nights_4x.append(night["4x"])
        nights_1x.append(night["1x"])
        ratios.append(night["4x"] / night["1x"])
    emit("full_4x_s", full["4x"])
    emit("full_1x_s", full["1x"])
    emit("nightly_4x_s", statistics.median(nights_4x))
    emit("nightly_1x_s", statistics.median(nights_1x))
    emit("nightly_4x_vs_1x", statistics.median(ratios))
    emit("nightly_vs_full_4x", statistics.median(nights_4x) / full["4x"])


def nightly(args: argparse.Namespace, today: datetime.date) -> None:
    """The nightly check over 1× and 4× the history at the same daily activity."""
    companies = args.companies + args.companies % 2
    log(f"generating {companies} companies × {args.managers} managers × {4 * args.days} days")
    data = generate(
        argparse.Namespace(**{**vars(args), "companies": companies, "days": 4 * args.days}),
        today,
    )
    cutoff = (today - datetime.timedelta(days=args.days)).replace(day=1)
    with admin_connect(autocommit=True) as admin:
        short = [row[0] for row in admin.execute("SELECT id FROM accounts_company ORDER BY id")]
        short = short[1::2]
        log(f"cutting the history of half the companies to {cutoff} on")
        admin.execute(
            """DELETE FROM reports_reportvalue v USING reports_dailyreport r
            WHERE v.report_id = r.id AND r.company_id = ANY(%s) AND r.date < %s""",
            [short, cutoff],
        )
        admin.execute(
            "DELETE FROM reports_dailyreport WHERE company_id = ANY(%s) AND date < %s",
            [short, cutoff],
        )
        admin.execute("VACUUM ANALYZE")
        emit(
            "reports_4x",
            admin.execute(
                "SELECT count(*) FROM reports_dailyreport WHERE NOT company_id = ANY(%s)", [short]
            ).fetchone()[0],
        )
        emit(
            "reports_1x",
            admin.execute(
                "SELECT count(*) FROM reports_dailyreport WHERE company_id = ANY(%s)", [short]
            ).fetchone()[0],
        )
    log("full rollup, then a new day and its incremental rollup")
    run_worker("full")
    new_day(data, today)
    run_worker("incremental")
    log(f"the nightly check, {args.nights} nights")
    for name, value in run_worker("nightly", str(args.nights)).items():
        emit(name, value)


def run_worker(mode: str, *extra: str) -> dict[str, str]:
    process = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", mode, *extra],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    figures = {}
    for line in process.stdout.splitlines():
        name, _, value = line.partition("=")
        figures[name] = value
    return figures


# --- The new day ---------------------------------------------------------------------------


def new_day(data: DataSet, today: datetime.date) -> float:
    """Every manager files today's report; buckets marked as the app marks them."""

    with admin_connect() as admin, admin.cursor() as reports, admin_connect() as second:
        with second.cursor() as values:
            with reports.copy(REPORT_COPY) as report_copy, values.copy(VALUE_COPY) as value_copy:
                copy_reports(data, report_copy, value_copy, [today], skip_absent=False)
            admin.commit()
            second.commit()
        sequences_reset(reports)
        admin.commit()
    return mark_day(today)


def mark_day(today: datetime.date) -> float:
    """Every manager's report of `today` marked as the app marks it; the time it took."""
    from accounts import tenancy
    from accounts.models import Company, User
    from rollups import services
    from rollups.changes import ReportChanged

    started = time.perf_counter()
    for company in Company.objects.order_by("pk"):
        with tenancy.tenant_context(company):
            for manager in User.objects.filter(role=User.Role.MANAGER).order_by("pk"):
                change = ReportChanged(manager=manager, day=today)
                services.totals_mark(company=company, change=change)
    return time.perf_counter() - started


# --- On the fly vs stored ------------------------------------------------------------------


def timed(repeat: int, run: Callable[[], object]) -> tuple[float, object]:
    """The median of `repeat` runs in ms, and the last run's result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def on_the_fly(data: DataSet, today: datetime.date) -> None:
    """A team's running month and a company's two years: from the facts vs from the totals."""
    from django.db import connection

    from accounts import tenancy
    from kpi.periods import month_bounds, week_bounds
    from rollups import engine

    company_id = data.companies[0]
    team_id = data.teams[company_id][0]
    team = [m.id for m in data.managers if m.company_id == company_id and m.team_id == team_id]
    month = today.replace(day=1)

    def fresh(lo: datetime.date, hi: datetime.date, where: str, extra: dict) -> list[tuple]:
        params = {
            "company": company_id,
            "lo": lo,
            "hi": hi,
            "plo": month_bounds(week_bounds(lo)[0])[0],
            "phi": month_bounds(week_bounds(hi)[1])[1],
            "today": today,
            "yesterday": today - datetime.timedelta(days=1),
            **extra,
        }
        sql = engine.fresh_sql(engine.dialect_for("postgresql"), incremental=False)
        with tenancy.tenant_context(company_id), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_nestloop = off")
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(
                "SELECT subject_id, kpi_id, start, actual, plan, completion, band, forecast "
                f"FROM ({sql}) fresh WHERE {where}",
                params,
            )
            return cursor.fetchall()

    def query(sql: str, params: dict) -> list[tuple]:
        with tenancy.tenant_context(company_id), connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    team_where = "scope = 'manager' AND period = 'month' AND start = %(month)s"
    team_where += " AND subject_id = ANY(%(team)s)"
    team_params = {"company": company_id, "month": month, "team": team, "today": today}
    stored_ms, stored = timed(
        REPEAT,
        lambda: query(
            "SELECT subject_id, kpi_id, start, actual, plan, completion, band, forecast "
            "FROM rollups_total WHERE company_id = %(company)s AND " + team_where,
            team_params,
        ),
    )
    fly_ms, fly = timed(REPEAT, lambda: fresh(month, today, team_where, team_params))
    groupby_ms, _ = timed(
        REPEAT,
        lambda: query(
            """SELECT r.manager_id, v.kpi_id, sum(v.value), count(*)
            FROM reports_reportvalue v JOIN reports_dailyreport r ON r.id = v.report_id
            WHERE r.company_id = %(company)s AND v.company_id = %(company)s
                AND r.date BETWEEN %(month)s AND %(today)s AND r.manager_id = ANY(%(team)s)
            GROUP BY r.manager_id, v.kpi_id""",
            team_params,
        ),
    )
    emit("stored_read_ms", stored_ms)
    emit("onthefly_ms", fly_ms)
    emit("onthefly_groupby_ms", groupby_ms)
    emit("onthefly_rows", len(fly))
    emit("onthefly_same_as_stored", sorted(map(str, fly)) == sorted(map(str, stored)))

    history_where = "scope = 'company' AND period = 'month'"
    history_params = {"company": company_id}
    stored_ms, stored = timed(
        REPEAT,
        lambda: query(
            "SELECT subject_id, kpi_id, start, actual, plan, completion, band, forecast "
            "FROM rollups_total WHERE company_id = %(company)s AND " + history_where,
            history_params,
        ),
    )
    fly_ms, fly = timed(
        REPEAT_HISTORY, lambda: fresh(data.first, today, history_where, history_params)
    )
    groupby_ms, _ = timed(
        REPEAT,
        lambda: query(
            """SELECT v.kpi_id, date_trunc('month', r.date), sum(v.value), count(*)
            FROM reports_reportvalue v JOIN reports_dailyreport r ON r.id = v.report_id
            WHERE r.company_id = %(company)s AND v.company_id = %(company)s
            GROUP BY v.kpi_id, date_trunc('month', r.date)""",
            history_params,
        ),
    )
    emit("stored_history_ms", stored_ms)
    emit("onthefly_history_ms", fly_ms)
    emit("onthefly_history_groupby_ms", groupby_ms)
    emit("history_rows", len(fly))
    emit("history_same_as_stored", sorted(map(str, fly)) == sorted(map(str, stored)))


# --- The machine ---------------------------------------------------------------------------


def machine() -> None:
    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as info:
        kib = int(next(line for line in info if line.startswith("MemTotal")).split()[1])
    with admin_connect() as admin:
        version = admin.execute("SHOW server_version").fetchone()[0]
    emit("cpu", cpu)
    emit("cores", os.cpu_count())
    emit("ram_gb", f"{kib / 1024 / 1024:.1f}")
    emit("postgres", version)
    emit("load_average", " ".join(f"{load:.2f}" for load in os.getloadavg()))
    emit("python", platform.python_version())
    emit("python_build", python_build())
    emit("calibration_ms", calibration_ms())


class _Part:
    def __init__(self, number: int, text: str) -> None:
        self.number, self.text = number, text

    def value(self, x: object) -> object:
        return self.number + x if isinstance(x, int) else self.text


def calibration_workload() -> None:
    """A fixed pure-Python workload (objects, a dict, formatting, escaping, Decimal
    division), ~25 ms on this machine: it does not change with the app's code. The garbage
    collector is off while it runs (it makes no cycles): its passes would cost what the
    process happens to hold, not what the machine does."""
    import gc
    import html

    collecting = gc.isenabled()
    gc.disable()
    try:
        out, seen = [], {}
        for i in range(20000):
            part = _Part(i, str(i))
            seen[str(i)] = part.value(i) + part.value(1)
            out.append(html.escape(f"<td>{part.text}&{i}</td>").replace("td", "th"))
            if i % 7 == 0:
                Decimal(i) / Decimal(3)
        "".join(out)
    finally:
        if collecting:
            gc.enable()


def calibration_ms() -> float:
    """The machine's speed now: calibration_workload's best of 15 runs, in ms; lower is
    faster. Two runs' CPU figures are read against it; bench/load.py also times it during
    the peak, when the cores are shared (the same code cost a fifth more CPU a request in
    one 400 × 20 run than in another; README: the load bench)."""
    best = float("inf")
    for _ in range(15):
        started = time.perf_counter()
        calibration_workload()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def python_build() -> str:
    """How the interpreter was compiled: "pgo+lto" as the official python image's (the
    Dockerfile's), "plain" as pyenv's default. The plain build ran a pure-Python loop 12 %
    slower, the app's requests a few per cent (README, the load bench): a figure is read
    with its interpreter."""
    flags = sysconfig.get_config_var("CONFIG_ARGS") or ""
    build = [
        name
        for flag, name in (("--enable-optimizations", "pgo"), ("--with-lto", "lto"))
        if flag in flags
    ]
    return "+".join(build) or "plain"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=100)
    parser.add_argument("--managers", type=int, default=20, help="per company")
    parser.add_argument("--days", type=int, default=730, help="of history, up to yesterday")
    parser.add_argument("--nightly", action="store_true", help="the nightly check, 1× vs 4×")
    parser.add_argument("--nights", type=int, default=3, help="with --nightly")
    parser.add_argument(
        "--pairs", type=int, default=1, help="floor and full run back to back, this many times"
    )
    parser.add_argument(
        "--worker", choices=["full", "incremental", "nightly"], help=argparse.SUPPRESS
    )
    parser.add_argument("worker_args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "nightly":
        nightly_worker(int(args.worker_args[0]))
        return
    if args.worker:
        worker(args.worker)
        return
    if args.nightly:
        for name in ("DATABASE_URL", "DATABASE_ADMIN_URL"):
            if not os.environ.get(name):
                sys.exit(f"bench: {name} is not set; run it through scripts/bench rollup")
        setup_django()
        machine()
        nightly(args, datetime.datetime.now(MOSCOW).date())
        return

    for name in ("DATABASE_URL", "DATABASE_ADMIN_URL"):
        if not os.environ.get(name):
            sys.exit(f"bench: {name} is not set; run it through scripts/bench rollup")
    setup_django()
    today = datetime.datetime.now(MOSCOW).date()  # every company is on Moscow time
    machine()

    log(f"generating {args.companies} companies × {args.managers} managers × {args.days} days")
    started = time.perf_counter()
    data = generate(args, today)
    emit("generate_s", time.perf_counter() - started)
    emit("companies", args.companies)
    emit("managers", args.companies * args.managers)
    emit("kpis", data.kpis_per_company)
    emit("days", args.days)
    emit("reports", data.reports)
    emit("facts", data.facts)

    # The machine is shared: each pair runs the floor and the full rollup back to back, so
    # that both see the same load; the ratios' median is the figure.
    fulls, floors, ratios, plan_floors, plan_ratios = [], [], [], [], []
    for pair in range(args.pairs):
        log(f"pair {pair + 1}/{args.pairs}: the floor, a GROUP BY a company")
        floor_s, floor_rows = floor_run()
        log(f"pair {pair + 1}/{args.pairs}: full, totals_reconcile for every company")
        with admin_connect(autocommit=True) as admin:
            admin.execute("TRUNCATE rollups_total, rollups_bucket, rollups_reconciliation")
            admin.execute("CHECKPOINT")
        full = run_worker("full")
        fulls.append(float(full["full_s"]))
        floors.append(floor_s)
        ratios.append(fulls[-1] / floor_s)
        with admin_connect(autocommit=True) as admin:
            log("comparing the totals' parts with the floor's")
            mismatches = admin.execute(COMPARE_SQL).fetchone()[0]
            admin.execute("DROP TABLE bench_floor")
            admin.execute("CHECKPOINT")
        # After the full rollup, which has written the working days the plans split over.
        log(f"pair {pair + 1}/{args.pairs}: the floor with the managers' plans")
        plan_floor_s, _rows = floor_run(FLOOR_PLANS_SQL)
        plan_floors.append(plan_floor_s)
        plan_ratios.append(fulls[-1] / plan_floor_s)
        with admin_connect(autocommit=True) as admin:
            plan_mismatches = admin.execute(COMPARE_PLANS_SQL).fetchone()[0]
            admin.execute("DROP TABLE bench_floor")
            admin.execute("CHECKPOINT")
        emit(
            f"pair_{pair + 1}",
            f"full {fulls[-1]:.3f} floor {floor_s:.3f} ratio {ratios[-1]:.3f} "
            f"floor_with_plans {plan_floor_s:.3f} ratio {plan_ratios[-1]:.3f}",
        )
    full_s = statistics.median(fulls)
    for name, value in full.items():
        if name != "full_s":
            emit(name, value)
    emit("full_s", full_s)
    emit("floor_s", statistics.median(floors))
    emit("full_vs_floor", statistics.median(ratios))
    emit("floor_with_plans_s", statistics.median(plan_floors))
    emit("full_vs_floor_with_plans", statistics.median(plan_ratios))
    with admin_connect(autocommit=True) as admin:
        emit("totals_rows", admin.execute("SELECT count(*) FROM rollups_total").fetchone()[0])
    emit("floor_rows", floor_rows)
    emit("floor_mismatches", mismatches)
    emit("floor_with_plans_mismatches", plan_mismatches)

    log("incremental: a new day from every manager, then rollup_run for every company")
    emit("mark_s", new_day(data, today))
    incrementals, incremental_floors, incremental_ratios = [], [], []
    # A run again over the same marks would find every total already right and write
    # nothing: each run after the first starts from the totals as they were before the new
    # day (kept here), so that it inserts the day's rows and rewrites its week's and month's,
    # as the first did.
    with admin_connect(autocommit=True) as admin:
        admin.execute(
            """CREATE TABLE bench_before_day AS SELECT * FROM rollups_total
            WHERE start <= %(today)s AND "end" >= %(today)s""",
            {"today": today},
        )
    for run in range(args.pairs):
        if run:
            with admin_connect(autocommit=True) as admin:
                admin.execute(
                    """DELETE FROM rollups_total WHERE start <= %(today)s AND "end" >= %(today)s""",
                    {"today": today},
                )
                admin.execute("INSERT INTO rollups_total SELECT * FROM bench_before_day")
                # The deleted rows' index entries gone, as autovacuum leaves a table: else
                # each run would step over the dead entries of the runs before it.
                admin.execute("VACUUM ANALYZE rollups_total")
            mark_day(today)  # the same day's buckets again: the same work
        incremental_floors.append(incremental_floor_run())
        incremental = run_worker("incremental")
        incrementals.append(float(incremental["incremental_s"]))
        incremental_ratios.append(incrementals[-1] / incremental_floors[-1])
        emit(
            f"incremental_pair_{run + 1}",
            f"incremental {incrementals[-1]:.3f} floor {incremental_floors[-1]:.3f}",
        )
    for name, value in incremental.items():
        if name != "incremental_s":
            emit(name, value)
    emit("incremental_s", statistics.median(incrementals))
    emit("incremental_share", statistics.median(incrementals) / full_s)
    emit(
        "incremental_statement_cpu_share",
        float(incremental["incremental_statement_cpu_s"]) / float(full["full_statement_cpu_s"]),
    )
    emit("incremental_floor_s", statistics.median(incremental_floors))
    emit("incremental_floor_share", statistics.median(incremental_floors) / full_s)
    emit("incremental_vs_floor", statistics.median(incremental_ratios))
    emit("worker_peak_mb_1_company", full["worker_peak_mb_1_company_full"])
    emit(
        "worker_peak_mb",
        max(float(full["worker_peak_mb_full"]), float(incremental["worker_peak_mb_incremental"])),
    )

    emit("load_average_after", " ".join(f"{load:.2f}" for load in os.getloadavg()))

    log("on the fly vs stored")
    on_the_fly(data, today)


if __name__ == "__main__":
    main()
