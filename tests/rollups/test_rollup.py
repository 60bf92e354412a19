import datetime
import logging
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services as account_services
from accounts import tenancy
from accounts.models import SalesRole, User
from accounts.tasks import companies_at_local_hour, fan_out
from kpi import services as kpi_services
from kpi.models import KPI
from kpi.periods import month_bounds
from reports import services as report_services
from rollups import engine, services, tasks
from rollups.models import Bucket, Reconciliation, Total, WorkingDay
from tests.conftest import as_owner, generic_plan, plan_nodes, statements_with
from tests.factories import TeamFactory
from tests.rollups.reference import expected_totals, stored_totals


def stale(company) -> set[tuple]:
    return set(
        Bucket.objects.filter(company=company, marks__gt=F("done")).values_list(
            "scope", "subject_id", "period", "start"
        )
    )


def report(cast, manager: User, day: datetime.date, calls: int = 40) -> None:
    existing = manager.daily_reports.filter(date=day).first()
    report_services.report_submit(
        company=cast.company,
        manager=manager,
        day=day,
        values={"calls": calls, "long_calls": 10, "talk_time": "50", "leads": 2},
        actor=cast.admin,
        version=existing.version if existing else 0,
        confirmed=True,
        reason="исправление",
    )


def today_of(cast) -> datetime.date:
    return cast.company.local_time().date()


def test_it_marks_only_the_buckets_a_report_touches(alpha):
    with tenancy.tenant_context(alpha.company):
        services.rollup_run(company_id=alpha.company.pk)
        assert stale(alpha.company) == set()
        day = today_of(alpha)
        report(alpha, alpha.managers[1], day)
        monday = day - datetime.timedelta(days=day.weekday())
        subjects = [
            ("company", alpha.company.pk),
            ("team", alpha.team.pk),
            ("manager", alpha.managers[1].pk),
        ]
        assert stale(alpha.company) == {
            (scope, subject, period, start)
            for scope, subject in subjects
            for period, start in [("day", day), ("week", monday), ("month", day.replace(day=1))]
        }
        result = services.rollup_run(company_id=alpha.company.pk)
        assert result.buckets == 9
        assert stale(alpha.company) == set()
        assert stored_totals(alpha.company) == expected_totals(alpha.company, day)


def test_a_correction_changes_the_totals_and_nothing_else(alpha):
    with tenancy.tenant_context(alpha.company):
        day = today_of(alpha)
        report(alpha, alpha.managers[1], day, calls=40)
        services.rollup_run(company_id=alpha.company.pk)
        before = stored_totals(alpha.company)
        report(alpha, alpha.managers[1], day, calls=55)
        services.rollup_run(company_id=alpha.company.pk)
        after = stored_totals(alpha.company)
        changed = {key for key in after if after[key] != before.get(key)}
        calls = KPI.objects.get(company=alpha.company, code="calls").pk
        assert changed and {key[2] for key in changed} == {calls}
        day_total = Total.objects.get(
            company=alpha.company,
            scope="manager",
            subject_id=alpha.managers[1].pk,
            kpi_id=calls,
            period="day",
            start=day,
        )
        assert day_total.actual == 55
        assert after == expected_totals(alpha.company, day)


def test_running_a_rollup_twice_gives_identical_tables(alpha):
    with tenancy.tenant_context(alpha.company):
        for offset in range(0, 9):
            report(alpha, alpha.managers[offset % 3], today_of(alpha) - datetime.timedelta(offset))
        services.rollup_run(company_id=alpha.company.pk)
        first = stored_totals(alpha.company)
        Bucket.objects.filter(company=alpha.company).update(marks=F("marks") + 1)
        assert services.rollup_run(company_id=alpha.company.pk).written == 0
        assert stored_totals(alpha.company) == first
        reconciliation = services.totals_reconcile(company_id=alpha.company.pk)
        assert reconciliation.drift == 0
        assert (
            stored_totals(alpha.company) == first == expected_totals(alpha.company, today_of(alpha))
        )


def test_the_nightly_check_reports_and_fixes_drift(alpha, caplog):
    with tenancy.tenant_context(alpha.company):
        report(alpha, alpha.managers[1], today_of(alpha))
        services.rollup_run(company_id=alpha.company.pk)
        right = stored_totals(alpha.company)
        totals = Total.objects.filter(company=alpha.company, scope="manager")
        totals.filter(period="month").update(actual=Decimal("1.2345"))
        totals.filter(period="week").first().delete()
        bogus = totals.filter(period="day").first()
        Total.objects.filter(pk=bogus.pk).update(start=bogus.start - datetime.timedelta(days=400))
        with caplog.at_level(logging.WARNING, logger="rollups.services"):
            reconciliation = services.totals_reconcile(company_id=alpha.company.pk)
        months = len([k for k in right if k[0] == "manager" and k[3] == "month"])
        assert reconciliation.written == months + 1 + 1  # changed, deleted, moved away
        assert reconciliation.deleted == 1
        assert "drifted totals" in caplog.text
        assert stored_totals(alpha.company) == right
        assert Reconciliation.objects.filter(company=alpha.company).count() >= 1


def test_a_plan_change_marks_the_months_of_its_managers(alpha):
    with tenancy.tenant_context(alpha.company):
        services.rollup_run(company_id=alpha.company.pk)
        day = today_of(alpha)
        report(alpha, alpha.managers[1], day)
        services.rollup_run(company_id=alpha.company.pk)
        hunter = SalesRole.objects.get(company=alpha.company, kind="hunter")
        calls = KPI.objects.get(company=alpha.company, code="calls")
        kpi_services.plan_set(
            company=alpha.company, kpi=calls, start=day, value=Decimal(999), sales_role=hunter
        )
        assert ("manager", alpha.managers[1].pk, "month", day.replace(day=1)) in stale(
            alpha.company
        )
        services.rollup_run(company_id=alpha.company.pk)
        month = Total.objects.get(
            company=alpha.company,
            scope="manager",
            subject_id=alpha.managers[1].pk,
            kpi=calls,
            period="month",
            start=day.replace(day=1),
        )
        assert month.plan == 999
        assert stored_totals(alpha.company) == expected_totals(alpha.company, day)


def test_a_calendar_change_moves_the_working_days_and_the_plans(alpha):
    with tenancy.tenant_context(alpha.company):
        day = today_of(alpha)
        report(alpha, alpha.managers[0], day)
        services.rollup_run(company_id=alpha.company.pk)
        working = WorkingDay.objects.filter(
            company=alpha.company, date__gte=day.replace(day=1), date__lte=day
        )
        first = working.order_by("date").first().date
        kpi_services.calendar_day_set(company=alpha.company, date=first, is_working=False)
        assert not WorkingDay.objects.filter(company=alpha.company, date=first).exists()
        assert ("manager", alpha.managers[0].pk, "month", day.replace(day=1)) in stale(
            alpha.company
        )
        services.rollup_run(company_id=alpha.company.pk)
        assert stored_totals(alpha.company) == expected_totals(alpha.company, day)
        kpi_services.calendar_day_remove(company=alpha.company, date=first)
        assert WorkingDay.objects.filter(company=alpha.company, date=first).exists()


def test_an_absence_and_a_kpi_set_change_mark_what_they_affect(alpha):
    with tenancy.tenant_context(alpha.company):
        day = today_of(alpha)
        report(alpha, alpha.managers[1], day)
        services.rollup_run(company_id=alpha.company.pk)
        kpi_services.absence_create(
            company=alpha.company, manager=alpha.managers[1], kind="sick", start=day, end=day
        )
        assert ("manager", alpha.managers[1].pk, "day", day) in stale(alpha.company)
        services.rollup_run(company_id=alpha.company.pk)
        hunter = SalesRole.objects.get(company=alpha.company, kind="hunter")
        leads = KPI.objects.get(company=alpha.company, code="leads")
        kpi_services.role_kpi_remove(
            company=alpha.company, sales_role=hunter, kpi=leads, effective_from=day
        )
        assert ("manager", alpha.managers[1].pk, "day", day) in stale(alpha.company)
        services.rollup_run(company_id=alpha.company.pk)
        kinds = Total.objects.filter(
            company=alpha.company, subject_id=alpha.managers[1].pk, period="day", start=day
        )
        assert not kinds.filter(kpi=leads).exists()
        assert stored_totals(alpha.company) == expected_totals(alpha.company, day)


def test_a_manager_who_moves_team_takes_the_history_along(alpha):
    other = TeamFactory(company=alpha.company)
    with tenancy.tenant_context(alpha.company):
        day = today_of(alpha)
        report(alpha, alpha.managers[1], day)
        services.rollup_run(company_id=alpha.company.pk)
        account_services.user_update(user=alpha.managers[1], actor=alpha.admin, team=other)
        services.rollup_run(company_id=alpha.company.pk)
        # The old team keeps no reported figure of the day; on a working day it still has a
        # total, its silent members' plans (engine.py).
        day_totals = Total.objects.filter(
            company=alpha.company, scope="team", period="day", start=day, days_reported__gt=0
        )
        teams = set(day_totals.values_list("subject_id", flat=True).distinct())
        assert teams == {other.pk}
        assert stored_totals(alpha.company) == expected_totals(alpha.company, day)


def test_two_workers_never_hold_the_same_bucket(alpha):
    with tenancy.tenant_context(alpha.company):
        report(alpha, alpha.managers[1], today_of(alpha))
        claimed = services._claim(company_id=alpha.company.pk, token="first")
        assert len(claimed) >= 9
        assert services._claim(company_id=alpha.company.pk, token="second") == []
        # The same worker, redelivered after a crash, takes its own claim back at once...
        assert len(services._claim(company_id=alpha.company.pk, token="first")) == len(claimed)
        # ...anyone else only once the claim has expired.
        Bucket.objects.filter(company=alpha.company).update(
            claimed_at=timezone.now() - services.CLAIM_TIMEOUT - datetime.timedelta(seconds=1)
        )
        assert len(services._claim(company_id=alpha.company.pk, token="second")) == len(claimed)


def test_a_change_during_a_rollup_leaves_its_bucket_stale_for_the_next_round(alpha):
    with tenancy.tenant_context(alpha.company):
        day = today_of(alpha)
        report(alpha, alpha.managers[1], day, calls=10)
        claimed = services._claim(company_id=alpha.company.pk, token="worker")
        report(alpha, alpha.managers[1], day, calls=20)  # lands after the claim
        _written, _deleted, left = services._recompute(alpha.company, claimed, token="worker")
        assert left  # the worker goes round again
        assert ("manager", alpha.managers[1].pk, "day", day) in stale(alpha.company)
        services.rollup_run(company_id=alpha.company.pk)
        assert stale(alpha.company) == set()
        assert stored_totals(alpha.company) == expected_totals(alpha.company, day)


def test_an_incremental_run_is_one_statement_planned_once_per_connection(alpha):
    """Planning the incremental statement cost as much as running it: it is prepared on its
    first run and keeps its generic plan; a run with nothing left ends without claiming."""
    with tenancy.tenant_context(alpha.company):
        day = today_of(alpha)
        report(alpha, alpha.managers[1], day)
        assert services.rollup_run(company_id=alpha.company.pk).rounds == 1
        report(alpha, alpha.managers[2], day, calls=30)
        assert services.rollup_run(company_id=alpha.company.pk).rounds == 1
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                "WHERE statement LIKE '%rollup_claimed AS MATERIALIZED%'"
            )
            assert cursor.fetchall() == [(2, 0)]
        assert stale(alpha.company) == set()
        assert stored_totals(alpha.company) == expected_totals(alpha.company, day)


def test_a_company_rollup_reads_and_writes_only_its_own_rows(alpha, beta):
    with tenancy.tenant_context(beta.company):
        beta_buckets = stale(beta.company)
        beta_totals = stored_totals(beta.company)
    assert beta_buckets
    services.rollup_run(company_id=alpha.company.pk)
    with tenancy.tenant_context(beta.company):
        assert stale(beta.company) == beta_buckets
        assert stored_totals(beta.company) == beta_totals
    # Inside alpha's transaction even SQL naming beta sees none of beta's facts: RLS.
    with tenancy.tenant_context(alpha.company), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM ("
            + engine.fresh_sql(engine.POSTGRESQL, incremental=False)
            + ") t",
            {
                "company": beta.company.pk,
                "lo": datetime.date(2000, 1, 1),
                "hi": datetime.date(2100, 1, 1),
                "plo": datetime.date(2000, 1, 1),
                "phi": datetime.date(2100, 1, 1),
                "today": today_of(beta),
                "yesterday": today_of(beta),
            },
        )
        assert cursor.fetchone()[0] == 0


def test_the_tasks_are_idempotent(alpha):
    with tenancy.tenant_context(alpha.company):
        report(alpha, alpha.managers[1], today_of(alpha))
    first = tasks.rollup_company.apply(args=[alpha.company.pk], task_id="same").get()
    second = tasks.rollup_company.apply(args=[alpha.company.pk], task_id="same").get()
    assert first["buckets"] > 0 and second == {"buckets": 0, "written": 0, "deleted": 0}
    nightly = tasks.reconcile_company.apply(args=[alpha.company.pk]).get()
    assert nightly["drift"] == 0


def test_one_companys_failure_stops_no_other(alpha, beta, settings, caplog):
    from salesdesk.celery import app

    app.conf.task_always_eager = True
    try:
        with caplog.at_level(logging.ERROR, logger="accounts.tasks"):
            queued = fan_out(tasks.reconcile_company, [987654321, beta.company.pk])
    finally:
        app.conf.task_always_eager = False
    assert queued == [beta.company.pk]
    assert "987654321" in caplog.text
    with tenancy.tenant_context(beta.company):
        assert Reconciliation.objects.filter(company=beta.company).exists()


def test_the_nightly_job_picks_companies_at_three_at_night(alpha):
    moscow_3am = datetime.datetime(2026, 11, 25, 0, 30, tzinfo=datetime.UTC)
    assert alpha.company.pk in companies_at_local_hour(3, moscow_3am)
    assert alpha.company.pk not in companies_at_local_hour(3, moscow_3am.replace(hour=5))


def test_the_sweeper_finds_companies_with_abandoned_buckets(alpha, beta):
    services.rollup_run(company_id=beta.company.pk)
    due = services.stale_companies()
    assert alpha.company.pk in due and beta.company.pk not in due


def test_a_manager_without_a_team_counts_in_the_company_only(alpha):
    with tenancy.tenant_context(alpha.company):
        account_services.user_update(user=alpha.managers[1], actor=alpha.admin, team=None)
        day = today_of(alpha)
        report(alpha, alpha.managers[1], day, calls=33)
        services.rollup_run(company_id=alpha.company.pk)
        calls = KPI.objects.get(company=alpha.company, code="calls")
        rows = Total.objects.filter(company=alpha.company, kpi=calls, period="day", start=day)
        # No team counts the report; on a working day a team's total holds its silent
        # members' plans (engine.py), with nothing reported.
        assert not rows.filter(scope="team", days_reported__gt=0).exists()
        assert rows.get(scope="company").actual == 33


def test_an_incremental_run_takes_the_lock_before_it_writes_working_days(alpha):
    """A full rollup holds the company's lock exclusively while it writes the working days;
    an incremental run that wrote them first and asked for the lock after would wait on the
    full rollup while the full rollup waits on its uncommitted rows: a deadlock (seen in the
    suite: a cast's reconciliation against the worker's incremental run)."""
    with tenancy.tenant_context(alpha.company):
        services.rollup_run(company_id=alpha.company.pk)
        report(alpha, alpha.managers[1], today_of(alpha))
        WorkingDay.objects.filter(company=alpha.company).delete()  # years not written yet
        with CaptureQueriesContext(connection) as queries:
            services.rollup_run(company_id=alpha.company.pk)
    statements = [q["sql"] for q in queries]
    locked = next(i for i, sql in enumerate(statements) if "pg_advisory_xact_lock" in sql)
    written = next(i for i, sql in enumerate(statements) if 'INTO "rollups_workingday"' in sql)
    assert locked < written


def test_an_incremental_run_asks_for_the_written_working_years_with_its_lock(alpha):
    """A run reads which years of working days are written in the statement that takes its
    lock: a round trip of its own was a run's every time (a report's run is a few
    milliseconds of work). Years not written yet are still written (the test above)."""
    with tenancy.tenant_context(alpha.company):
        services.rollup_run(company_id=alpha.company.pk)
        report(alpha, alpha.managers[1], today_of(alpha))
        with CaptureQueriesContext(connection) as queries:
            services.rollup_run(company_id=alpha.company.pk)
        assert stale(alpha.company) == set()
        assert stored_totals(alpha.company) == expected_totals(alpha.company, today_of(alpha))
    # Besides the engine's statement, which counts the working days.
    reads = [
        q["sql"]
        for q in queries
        if "rollups_workingday" in q["sql"] and "rollup_claimed" not in q["sql"]
    ]
    assert len(reads) == 1 and "pg_advisory_xact_lock" in reads[0], reads


def test_one_report_s_run_counts_the_working_days_of_its_own_month_only(alpha):
    """The engine counts every manager's working days of the months the claimed buckets
    touch; a report's run (its day, week and month) touches one month, not the three around
    that month's weeks that a full rollup's span takes (bench/load.py: the incremental
    statement was most of PostgreSQL's time at the 18:00 peak)."""
    today = today_of(alpha)
    month = today.replace(day=1)
    while True:  # a month whose first week starts in the month before (not on a Monday)
        month = (month - datetime.timedelta(days=1)).replace(day=1)
        if month.weekday() != 0:
            break
    fifteenth = month.replace(day=15)
    day = fifteenth - datetime.timedelta(days=fifteenth.weekday() - 2)  # its week's Wednesday
    spans = []

    def engine_spans(execute, sql, params, many, context):
        if "rollup_claimed" in sql:
            spans.append((params["plo"], params["phi"]))
        return execute(sql, params, many, context)

    with tenancy.tenant_context(alpha.company):
        services.rollup_run(company_id=alpha.company.pk)
        report(alpha, alpha.managers[1], day)
        with connection.execute_wrapper(engine_spans):
            services.rollup_run(company_id=alpha.company.pk)
        assert stale(alpha.company) == set()
        assert stored_totals(alpha.company) == expected_totals(alpha.company, today)
    assert spans == [tuple(month_bounds(month))]


@pytest.mark.django_db(transaction=True)
def test_a_run_reads_its_span_s_reports_by_company_and_day(alpha):
    """The engine finds the reports of a span (a day's run: its week and month) by company
    and day, whoever filed them: report_day_uniq leads with the manager, and under it the
    date range read every entry of the company's whole history, in every run.

    The plan is read with the statistics of the cast's own rows (committed, then analysed as
    the tables' owner): left to the statistics an earlier test left, the planner took one
    row for the company's reports and every index on company_id for as cheap as another."""
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("ANALYZE reports_dailyreport, reports_reportvalue")
    today = today_of(alpha)
    params = {"company": alpha.company.pk, "lo": month_bounds(today)[0], "hi": today}
    with tenancy.tenant_context(alpha.company), connection.cursor() as cursor:
        # The cast's few rows would be read whole whatever the indexes: as on a long history.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN (FORMAT JSON) " + engine.facts_sql(engine.POSTGRESQL, whole=False), params
        )
        plan = cursor.fetchone()[0]

    def indexes(node, table=False):
        """The indexes the plan reads reports_dailyreport by (a bitmap heap scan's are its
        bitmap index scans')."""
        table = table or node.get("Relation Name") == "reports_dailyreport"
        if table and node.get("Index Name"):
            yield node["Index Name"]
        for child in node.get("Plans", []):
            yield from indexes(child, table and node["Node Type"].startswith("Bitmap"))

    used = set(indexes(plan[0]["Plan"]))
    # Joined to its values by id the planner may read a report by its primary key too; the
    # span itself never by an index that reads the company's whole history.
    assert "report_company_day" in used, plan
    whole_history = {
        "report_day_uniq",
        "report_code_uniq",
        "reports_dailyreport_company_id_498a8199",
    }
    assert not whole_history & used, plan


@pytest.mark.django_db(transaction=True)
def test_the_claim_reads_the_company_s_stale_buckets_not_every_company_s(alpha, beta):
    """The rollup's claim (services.CLAIM_SQL: the first of the company's stale buckets by
    id) reads them by an index of the stale buckets in id order. The table keeps a bucket of
    every day, week and month anyone reported in, every company's; on `stale` (the company
    alone) the claim's generic plan, which a worker's connection keeps, walked the primary
    key over them all (6 ms a claim among 120 companies' five days, bench/load.py)."""
    history = """INSERT INTO rollups_bucket (company_id, scope, subject_id, period, start,
        "end", marks, done, claimed_by, claimed_marks)
        SELECT %(company)s, 'manager', m, 'day', d, d, 1, 1, '', 0
        FROM generate_series(1000001, 1000040) m,
            generate_series(%(first)s::date, %(last)s::date, '1 day') d"""
    today = today_of(beta)
    with tenancy.tenant_context(beta.company), connection.cursor() as cursor:
        first = today - datetime.timedelta(days=400)
        cursor.execute(history, {"company": beta.company.pk, "first": first, "last": today})
    with tenancy.tenant_context(alpha.company):
        report(alpha, alpha.managers[0], today_of(alpha))  # the company's buckets marked
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("ANALYZE rollups_bucket")
    now = timezone.now()
    params = {
        "token": "probe",
        "now": now,
        "company": alpha.company.pk,
        "expired": now,
        "batch": services.CLAIM_BATCH,
    }
    with tenancy.tenant_context(alpha.company):
        plan = generic_plan(services.CLAIM_SQL, params)

    read = [n for n in plan_nodes(plan[0]["Plan"]) if n.get("Relation Name") == "rollups_bucket"]
    assert {scan.get("Index Name") for scan in read} >= {"stale_by_id"}, plan
    # Nothing of another company's buckets read and thrown away.
    assert sum(scan.get("Rows Removed by Filter", 0) for scan in read) < 10, plan


@pytest.mark.django_db(transaction=True)
def test_a_report_s_rollup_reads_its_own_kpis_and_buckets_not_every_tenant_s_or_year_s(alpha, beta):
    """The incremental statement (services._incremental_sql), planned as a worker's connection
    keeps it, reads the company's KPIs and its claimed buckets, not every tenant's KPIs (its
    bands' join to the company's row left the planner a nested loop over kpi_kpi's primary
    key) nor every bucket of the company's history (its release locked the buckets in key
    order by walking bucket_uniq over all of them)."""
    today = today_of(alpha)
    with tenancy.tenant_context(beta.company):
        template = KPI.objects.filter(company=beta.company).first()
        fields = [f.attname for f in KPI._meta.concrete_fields if f.name not in {"id", "uid"}]
        copies = [
            KPI(**{**{f: getattr(template, f) for f in fields}, "code": f"extra-{n}"})
            for n in range(3000)
        ]
        KPI.objects.bulk_create(copies)
    history = """INSERT INTO rollups_bucket (company_id, scope, subject_id, period, start,
        "end", marks, done, claimed_by, claimed_marks)
        SELECT %(company)s, 'manager', m, 'day', d, d, 1, 1, '', 0
        FROM generate_series(1000001, 1000020) m,
            generate_series(%(first)s::date, %(last)s::date, '1 day') d"""
    with tenancy.tenant_context(alpha.company), connection.cursor() as cursor:
        first = today - datetime.timedelta(days=400)
        cursor.execute(history, {"company": alpha.company.pk, "first": first, "last": today})
    with tenancy.tenant_context(alpha.company):
        services.rollup_run(company_id=alpha.company.pk)
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("ANALYZE rollups_bucket, kpi_kpi")
    with tenancy.tenant_context(alpha.company):
        report(alpha, alpha.managers[0], today)
        with statements_with("rollup_claimed") as statements:
            services.rollup_run(company_id=alpha.company.pk)
    [(sql, params)] = statements
    with tenancy.tenant_context(alpha.company), connection.cursor() as cursor:
        cursor.execute(f"SELECT {services._planner(incremental=True)}")
        plan = generic_plan(sql, params)

    def removed(table, node):
        """The rows of `table` read and thrown away under the plan's node."""
        return sum(
            scan.get("Rows Removed by Filter", 0)
            for scan in plan_nodes(node)
            if scan.get("Relation Name") == table
        )

    [release] = [n for n in plan_nodes(plan[0]["Plan"]) if n.get("Subplan Name") == "CTE released"]
    # The company's own KPIs are filtered by kind here and there; another's 3,000 never read.
    assert removed("kpi_kpi", plan[0]["Plan"]) < 300, plan
    assert removed("rollups_bucket", release) < 50, release
