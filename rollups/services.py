"""Keeping the stored totals equal to the daily facts.

A change (a report, a plan, a calendar day, an absence, a KPI set, a manager moved, a KPI's
definition or the company's bands: rollups.changes) goes through `totals_mark`, which marks
the buckets it touches in the change's own transaction and, once that commits, queues a
rollup of the company. The rollup claims stale buckets (SKIP LOCKED, so two workers never
take the same one), recomputes their totals from the facts in one SQL statement, upserts
them and marks the buckets done as of the claim, all in one transaction. A change that lands
meanwhile leaves its bucket stale, and the same worker goes round again. The nightly
reconciliation recomputes a company's every total from the facts, reports the drift it
found and fixes it.
"""

import datetime
import functools
import itertools
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Max, Min, Q, QuerySet
from django.utils import timezone

from accounts import tenancy
from accounts.models import Company, SalesRole, Team, User
from accounts.selectors import memberships_during, team_on
from kpi.calendar import calendar_for
from kpi.models import KPI
from kpi.periods import month_bounds, period_bounds, shift_months, week_bounds
from reports.models import DailyReport, ImportedFigure, ReportValue
from rollups import changes, engine
from rollups.models import Bucket, Period, Reconciliation, Scope, Total, WorkingDay
from salesdesk.after_response import after_response
from salesdesk.statements import Statement

logger = logging.getLogger(__name__)

# A claim older than this belongs to a worker that died: anyone may take the bucket over.
CLAIM_TIMEOUT = datetime.timedelta(minutes=10)
CLAIM_BATCH = 2000
# pg_advisory_xact_lock(ROLLUP_LOCK, company): incremental rollups share it, the full
# reconciliation takes it alone, so it never overwrites a newer incremental result.
ROLLUP_LOCK = 7001
# One quick retry when queueing a rollup after a change (kombu's retry_policy).
ENQUEUE_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


# The figures versions that dashboard.selectors.poll reads to answer an unchanged poll without
# a query: the company's (who is in view: dashboard.signals; every poll reads it) and one per
# subject of the totals (a manager, a team, the company), turned where its buckets are marked
# and after a rollup writes them, so that a head's poll goes the whole way only when a figure
# of their own team changed.
FIGURES_VERSION_KEY = "rollups:figures-version:{company_id}"
SUBJECT_VERSION_KEY = "rollups:figures-version:{company_id}:{scope}:{subject_id}"


def figures_version_key(company_id: int, scope: str | None = None, subject_id: int = 0) -> str:
    """The cache key of the company's version, or of one subject's with `scope`."""
    if scope is None:
        return FIGURES_VERSION_KEY.format(company_id=company_id)
    # str(): a Scope member and its value name the same key.
    return SUBJECT_VERSION_KEY.format(
        company_id=company_id, scope=str(scope), subject_id=subject_id
    )


def figures_version_bump(
    company_id: int, subjects: Iterable[tuple[str, int]] | None = None
) -> None:
    """Turns the versions of these subjects' figures (scope, subject id) and of the company
    scope's (an admin's dashboard shows every subject); without `subjects`, the company's
    version, which every open dashboard of the company reads. Now, and again once the
    transaction commits.

    Now: a poll that runs before the commit does not keep its answer past it. On commit (in
    a request, once its response has gone: salesdesk.after_response): a poll that read the
    new version before the commit saw the old figures. A cache that is down costs the polls
    their shortcut, never the change."""
    if subjects is None:
        keys = [figures_version_key(company_id)]
    else:
        turned = {*subjects, (Scope.COMPANY, company_id)}
        keys = [figures_version_key(company_id, scope, subject) for scope, subject in turned]

    def bump() -> None:
        try:
            cache.set_many(dict.fromkeys(keys, uuid.uuid4().hex), None)
        except Exception:  # the cache's own errors differ by backend
            logger.warning("rollups: the figures versions of %s were not turned", company_id)

    bump()
    transaction.on_commit(partial(after_response, bump), robust=True)


class BucketKey(NamedTuple):
    scope: str
    subject_id: int
    period: str
    start: datetime.date
    end: datetime.date


def _bucket_key(bucket: Bucket) -> BucketKey:
    return BucketKey(bucket.scope, bucket.subject_id, bucket.period, bucket.start, bucket.end)


def _keys(company_id: int, manager_id: int, team_ids: Iterable[int | None], day: datetime.date):
    subjects = [(Scope.COMPANY, company_id), (Scope.MANAGER, manager_id)]
    subjects += [(Scope.TEAM, team_id) for team_id in team_ids if team_id is not None]
    for scope, subject in subjects:
        for period in Period:
            yield BucketKey(scope, subject, period, *period_bounds(period, day))


def _enqueue(company_id: int) -> None:
    """Queues the company's rollup; a broker that is down costs the request a moment, no more.

    In a request this runs after its commit, once the response has gone. Celery's own
    retries would hold it for seconds; the marked buckets stay stale and `sweep_stale` queues
    the rollup once the broker is back.
    """
    from kombu.exceptions import OperationalError as BrokerError

    from rollups.tasks import rollup_company

    try:
        rollup_company.apply_async((company_id,), retry_policy=ENQUEUE_RETRY)
    except BrokerError as error:
        logger.warning(
            "rollups: broker unreachable (%s); the sweeper will queue %s", error, company_id
        )


# What the engine reads of a KPI's definition: a change to any of these recolours or
# recomputes every total of the KPI. (Its name, code and decimals only show.) The source and
# the figure of record say which day figures count (reports/figures.py).
KPI_FIELDS_IN_TOTALS = frozenset(
    {
        "source",
        "record",
        "unit",
        "aggregation",
        "numerator",
        "denominator",
        "direction",
        "band_red_below",
        "band_green_from",
    }
)


def totals_mark(*, company: Company, change: changes.Change) -> int:
    """The one entry for a change to the facts totals are computed from: marks every bucket
    the change touches and, once the writer's transaction commits, queues a rollup.

    Call it inside the transaction that makes the change, so that the change and its marks
    commit (or roll back) together. Returns the number of buckets marked.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("totals_mark() belongs in the transaction of the change it marks")
    match change:
        case (
            changes.ReportChanged(manager=manager, day=day)
            | changes.SourceFigureChanged(manager=manager, day=day)
        ):
            keys: Iterable[BucketKey] = _report_keys(company, manager, day)
        case changes.PlanChanged(period=period, start=start, manager=manager, sales_role=role):
            _first, end = period_bounds(period, start)
            managers = [manager] if manager else _managers_of_role(company, role)
            keys = _span_keys(company, start, end, managers=managers)
        case changes.CalendarDayChanged(date=date):
            # The working day's row follows first: the plans of its month split over the rows.
            working_day_refresh(company=company, date=date)
            keys = _span_keys(company, *month_bounds(date))
        case changes.AbsenceChanged(manager=manager, start=start, end=end):
            # Absent days change the split of the plans of every month they touch.
            first, last = month_bounds(start)[0], month_bounds(end)[1]
            keys = _span_keys(company, first, last, managers=[manager])
        case changes.RoleKPISetChanged(sales_role=role, since=since):
            # The set decides which KPIs the role's totals hold from `since` on.
            today = company.today()
            managers = _managers_of_role(company, role)
            keys = _span_keys(company, since, today, managers=managers)
        case changes.ManagerMoved(manager=manager, old_team_id=old_team_id, since=None):
            # A role's KPIs and plans, or being active, count over the whole history.
            keys = _history_keys(company, manager, old_team_id)
        case changes.ManagerJoined(manager=manager):
            # Every period ending after the day they joined, reaching back to its month's start.
            joined = (manager.date_joined.date(), company.today())
            first, last = month_bounds(min(joined))[0], max(joined)
            keys = _span_keys(company, first, last, managers=[manager])
        case changes.ManagerMoved(manager=manager, old_team_id=old_team_id, since=since):
            # A team move: the two teams' periods around the move (each keeps its days).
            first = min(week_bounds(since)[0], month_bounds(since)[0])
            last = max(week_bounds(since)[1], month_bounds(since)[1], _last_fact(company))
            extra = [old_team_id] if old_team_id else []
            keys = _span_keys(company, first, last, managers=[manager], extra_team_ids=extra)
        case changes.KPIChanged(kpi=kpi, fields=fields):
            keys = _kpi_keys(company, [kpi]) if fields & KPI_FIELDS_IN_TOTALS else ()
        case changes.CompanyBandsChanged():
            # They colour only the KPIs without bands of their own (COALESCE in the engine).
            own = Q(band_red_below__isnull=True) | Q(band_green_from__isnull=True)
            kpis = KPI.objects.filter(own, company=company)
            keys = _kpi_keys(company, list(kpis))
        case _:
            raise TypeError(f"not a change to totals: {change!r}")
    return _buckets_mark(company=company, keys=keys)


def _buckets_mark(*, company: Company, keys: Iterable[BucketKey]) -> int:
    """Marks buckets stale and queues a rollup of the company once the transaction commits.

    Rows are taken in one global order, the same as the rollup's release, so that marking
    transactions and rollups wait for one another without deadlocking.
    """
    rows = sorted(set(keys))
    if not rows:
        return 0
    sql = """INSERT INTO rollups_bucket
        (company_id, scope, subject_id, period, start, "end", marks, done, claimed_by,
         claimed_marks)
        VALUES {values}
        ON CONFLICT (company_id, scope, subject_id, period, start)
        DO UPDATE SET marks = rollups_bucket.marks + 1"""
    # Inside the change's own transaction (totals_mark): a savepoint of its own would only
    # add two round trips to every submit.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        for offset in range(0, len(rows), 500):
            chunk = rows[offset : offset + 500]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, 1, 0, '', 0)"] * len(chunk))
            params = [value for key in chunk for value in (company.pk, *key)]
            cursor.execute(sql.format(values=values), params)
        # Queued once the request's response has gone (salesdesk.after_response): the
        # publish was a tenth of a submission's CPU, and the manager waited for it.
        transaction.on_commit(partial(after_response, partial(_enqueue, company.pk)), robust=True)
        figures_version_bump(company.pk, {(key.scope, key.subject_id) for key in rows})
    return len(rows)


def _team_ids(company: Company) -> list[int]:
    return list(Team.objects.filter(company=company).values_list("pk", flat=True))


class _TeamsOn:
    """The team each of some managers was in on each day of a span (accounts' memberships)."""

    def __init__(
        self,
        company: Company,
        start: datetime.date,
        end: datetime.date,
        managers: Sequence[User] | None = None,
    ):
        users = None if managers is None else [manager.pk for manager in managers]
        # Only the stays' own columns: a report's marking runs in every submit, and loading
        # each member's user row with them was a tenth of its web CPU.
        stays = memberships_during(company=company, start=start, end=end, users=users)
        self.memberships = list(
            stays.select_related(None).only("user", "team", "effective_from", "effective_to")
        )

    def __call__(self, manager_id: int, day: datetime.date) -> int | None:
        return team_on(self.memberships, manager_id, day)

    def teams(self) -> set[int]:
        return {membership.team_id for membership in self.memberships}


# The manager's team on a day, as _report_keys' subquery: compiled once (every submission).
_TEAM_ON = Statement(
    lambda company, manager, day: (
        memberships_during(company=company, start=day, end=day, users=[manager])
        .select_related(None)
        .values("team_id")[:1]
    )
)


def _report_keys(company: Company, manager: User, day: datetime.date) -> list[BucketKey]:
    """A report: the manager's, their team's (that day's) and company's day, week and month.
    The company's first report of a period also marks every other team's: a team's total
    exists, with its silent managers' plans, wherever anyone in the company reported."""
    bounds = [period_bounds(period, day) for period in Period]
    # The manager's team that day (memberships_during's one answer, as a subquery) and
    # whether anyone else reported in each period, in one round trip: this runs in every
    # submit (four ORM queries were a tenth of its web CPU at the 18:00 peak).
    team_sql, team_params = _TEAM_ON.sql(company=company.pk, manager=manager.pk, day=day)
    others = """EXISTS (SELECT 1 FROM reports_dailyreport WHERE company_id = %s
        AND date BETWEEN %s AND %s AND NOT (manager_id = %s AND date = %s))"""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ({team_sql}), " + ", ".join([others] * len(bounds)),
            [*team_params, *(v for b in bounds for v in (company.pk, *b, manager.pk, day))],
        )
        team_id, *reported = cursor.fetchone()
    keys = list(_keys(company.pk, manager.pk, [team_id], day))
    team_ids = None
    for period, (start, end), anyone in zip(Period, bounds, reported, strict=True):
        if not anyone:
            team_ids = _team_ids(company) if team_ids is None else team_ids
            keys += [BucketKey(Scope.TEAM, t, period, start, end) for t in team_ids]
    return keys


def _managers_of_role(company: Company, sales_role: SalesRole | None) -> list[User]:
    return list(User.objects.filter(company=company, sales_role=sales_role))


def _span_keys(
    company: Company,
    start: datetime.date,
    end: datetime.date,
    *,
    managers: Sequence[User] | None = None,
    extra_team_ids: Iterable[int] = (),
) -> set[BucketKey]:
    """Every bucket holding a reported day of these managers (None: all) in [start, end].

    The span grows to whole weeks: a week across two months has a plan from both.
    """
    start, end = week_bounds(start)[0], week_bounds(end)[1]
    # Every day with a report, and with a source's figure that counts, in the span.
    all_reports = DailyReport.objects.filter(company=company, date__gte=start, date__lte=end)
    all_counted = _source_days(company).filter(date__gte=start, date__lte=end)
    reports, counted = all_reports, all_counted
    if managers is not None:
        reports = reports.filter(manager__in=managers)
        counted = counted.filter(manager__in=managers)
    extra = list(extra_team_ids)
    teams_on = _TeamsOn(company, start, end, managers)
    keys: set[BucketKey] = set()
    days = itertools.chain(
        reports.values_list("manager_id", "date"),
        counted.values_list("manager_id", "date").distinct(),
    )
    for manager_id, day in days:
        keys.update(_keys(company.pk, manager_id, [teams_on(manager_id, day), *extra], day))
    # A manager's plan counts in their teams' and the company's totals even where they did
    # not report (engine.py): those totals move on every day anyone reported.
    teams = set(_team_ids(company)) if managers is None else teams_on.teams() | set(extra)
    subjects = [(Scope.COMPANY, company.pk)] + [(Scope.TEAM, t) for t in teams if t]
    live = set(all_reports.values_list("date", flat=True).distinct())
    live |= set(all_counted.values_list("date", flat=True).distinct())
    for day in sorted(live):
        for (scope, subject), period in itertools.product(subjects, Period):
            keys.add(BucketKey(scope, subject, period, *period_bounds(period, day)))
    return keys


def _history_keys(company: Company, manager: User, old_team_id: int | None) -> set[BucketKey]:
    """A manager moved to another team or role (or left, or came back): everything they ever
    reported, in their old team's buckets too, and their teams' and the company's totals over
    the company's whole history, which count their plan where they did not report."""
    span = DailyReport.objects.filter(company=company).aggregate(
        first=Min("date"), last=Max("date")
    )
    if span["first"] is None:
        return set()
    extra = [old_team_id] if old_team_id else []
    return _span_keys(
        company, span["first"], span["last"], managers=[manager], extra_team_ids=extra
    )


def _kpi_keys(company: Company, kpis: Sequence[KPI]) -> set[BucketKey]:
    """Every bucket that holds, or after the change may hold, a total of these KPIs.

    The stored totals name the buckets they are in; a KPI that has just become a ratio has
    none yet, and gets them wherever its denominator was reported (engine.fresh_sql).
    """
    if not kpis:
        return set()
    totals = Total.objects.filter(company=company, kpi__in=kpis)
    keys = {
        BucketKey(*row)
        for row in totals.values_list("scope", "subject_id", "period", "start", "end").distinct()
    }
    sources = {kpi.pk for kpi in kpis} | {kpi.denominator_id for kpi in kpis if kpi.denominator_id}
    reported = list(
        ReportValue.objects.filter(company=company, kpi_id__in=sources)
        .values_list("report__manager_id", "report__date")
        .distinct()
    )
    # The source's figures: they count where the source is (or was) the figure of record.
    imported = list(
        ImportedFigure.objects.filter(company=company, kpi_id__in=sources)
        .values_list("manager_id", "date")
        .distinct()
    )
    facts = reported + imported
    if facts:
        days = [day for _manager_id, day in facts]
        teams_on = _TeamsOn(company, min(days), max(days))
    for manager_id, day in facts:
        keys.update(_keys(company.pk, manager_id, [teams_on(manager_id, day)], day))
    return keys


def _last_fact(company: Company) -> datetime.date:
    """The company's latest day with a report or a source's figure. A move dated before it
    (the company's clock is not the reports' order) changes the teams' totals up to it: the
    manager's own days, and their plan in the periods they did not report."""
    days = [
        DailyReport.objects.filter(company=company).aggregate(day=Max("date")),
        ImportedFigure.objects.filter(company=company).aggregate(day=Max("date")),
    ]
    return max((d["day"] for d in days if d["day"] is not None), default=datetime.date.min)


def _source_days(company: Company) -> QuerySet[ImportedFigure]:
    """The source's figures that count, on days with or without a report (reports/figures.py)."""
    return ImportedFigure.objects.filter(
        company=company, kpi__record=KPI.Record.SOURCE, source=F("kpi__source")
    )


# The years of [start, end] whose working days are written (working_days_ensure), in SQL
# for a statement to ask along with others: an incremental run asks it with its lock.
WRITTEN_YEARS_SQL = """ARRAY(SELECT DISTINCT CAST(EXTRACT(YEAR FROM date) AS INTEGER)
    FROM rollups_workingday WHERE company_id = %(company)s
        AND date BETWEEN make_date(%(first_year)s, 1, 1) AND make_date(%(last_year)s, 12, 31))"""


def working_days_ensure(
    *,
    company: Company,
    start: datetime.date,
    end: datetime.date,
    written: Iterable[int] | None = None,
) -> None:
    """Writes the company's working days of every year in [start, end] not written yet.

    written: the years of [start, end] written already, where the caller has read them
    (WRITTEN_YEARS_SQL); else they are read here."""
    calendar = None
    if written is None:
        # In one query: every rollup asks (most of them two years, a span's last week
        # reaching into January).
        first, last = datetime.date(start.year, 1, 1), datetime.date(end.year, 12, 31)
        span = WorkingDay.objects.filter(company=company, date__gte=first, date__lte=last)
        written = {day.year for day in span.dates("date", "year")}
    written = set(written)
    for year in range(start.year, end.year + 1):
        if year in written:
            continue
        first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        calendar = calendar or calendar_for(company=company)
        WorkingDay.objects.bulk_create(
            [WorkingDay(company=company, date=day) for day in calendar.working_days(first, last)],
            ignore_conflicts=True,
        )


def working_day_refresh(*, company: Company, date: datetime.date) -> None:
    """The company changed a day of its calendar: the row follows (totals_mark calls it)."""
    year = WorkingDay.objects.filter(
        company=company, date__year=date.year
    )  # a year not written yet will be written whole, with the change, when needed
    if year.exists():
        if calendar_for(company=company).is_working(date):
            WorkingDay.objects.get_or_create(company=company, date=date)
        else:
            year.filter(date=date).delete()


def working_days_sync(*, company: Company) -> int:
    """Brings the company's written years to the calendar's rule; how many days changed.

    The rule can change under stored rows: a `holidays` update brings a year's decree
    (that year was written while provisional) or corrects one. The nightly reconciliation
    calls this before it recomputes every total, so the plans follow the same night.
    """
    stored = set(WorkingDay.objects.filter(company=company).values_list("date", flat=True))
    if not stored:
        return 0
    calendar = calendar_for(company=company)
    wanted = {
        day
        for year in {day.year for day in stored}
        for day in calendar.working_days(datetime.date(year, 1, 1), datetime.date(year, 12, 31))
    }
    WorkingDay.objects.bulk_create(
        [WorkingDay(company=company, date=day) for day in wanted - stored], ignore_conflicts=True
    )
    WorkingDay.objects.filter(company=company, date__in=stored - wanted).delete()
    return len(wanted ^ stored)


@dataclass
class RollupResult:
    buckets: int = 0
    written: int = 0
    deleted: int = 0
    rounds: int = 0


def rollup_run(*, company_id: int, token: str | None = None) -> RollupResult:
    """Recomputes the company's stale buckets until none is left that this worker may take."""
    token = token or uuid.uuid4().hex
    result = RollupResult()
    while True:
        claimed = _claim(company_id=company_id, token=token)
        if not claimed:
            return result
        with tenancy.tenant_context(company_id):
            company = Company.objects.get(pk=company_id)
            written, deleted, left = _recompute(company, claimed, token=token)
        result.buckets += len(claimed)
        result.written += written
        result.deleted += deleted
        result.rounds += 1
        # Nothing stale left that this worker may take: claiming again would find nothing.
        if not left and len(claimed) < CLAIM_BATCH:
            return result


# A company's incremental run is mostly round trips: on PostgreSQL the claim is one statement
# (and the release is part of _incremental_sql's). The claim: the free stale buckets,
# locked (SKIP LOCKED) and claimed.
CLAIM_SQL = """
UPDATE rollups_bucket SET claimed_by = %(token)s, claimed_at = %(now)s, claimed_marks = marks
WHERE id IN (
    SELECT id FROM rollups_bucket
    WHERE company_id = %(company)s AND marks > done
        AND (claimed_by = '' OR claimed_by = %(token)s OR claimed_at < %(expired)s)
    ORDER BY id LIMIT %(batch)s FOR UPDATE SKIP LOCKED)
RETURNING *"""


def _claim(*, company_id: int, token: str) -> list[Bucket]:
    with tenancy.tenant_context(company_id):
        now = timezone.now()
        if connection.vendor == "postgresql":
            params = {
                "token": token,
                "now": now,
                "company": company_id,
                "expired": now - CLAIM_TIMEOUT,
                "batch": CLAIM_BATCH,
            }
            return list(Bucket.objects.raw(CLAIM_SQL, params))
        free = Q(claimed_by="") | Q(claimed_by=token) | Q(claimed_at__lt=now - CLAIM_TIMEOUT)
        ids = list(
            Bucket.objects.filter(free, company_id=company_id, marks__gt=F("done"))
            .select_for_update(skip_locked=True)
            .order_by("id")
            .values_list("id", flat=True)[:CLAIM_BATCH]
        )
        Bucket.objects.filter(pk__in=ids).update(
            claimed_by=token, claimed_at=now, claimed_marks=F("marks")
        )
        return list(Bucket.objects.filter(pk__in=ids))


def _release(
    *, company_id: int, token: str, ids: list[int], subjects: set[tuple[str, int]]
) -> None:
    """The claimed buckets marked done as of the claim, where the engine runs as separate
    statements (SQLite; on PostgreSQL _incremental_sql releases them itself). Locked in the
    order _buckets_mark() uses, then those still this worker's recorded."""
    list(
        Bucket.objects.filter(pk__in=ids)
        .select_for_update()
        .order_by("scope", "subject_id", "period", "start")
        .values_list("id", flat=True)
    )
    Bucket.objects.filter(pk__in=ids, claimed_by=token).update(
        done=F("claimed_marks"), claimed_by="", claimed_at=None
    )
    figures_version_bump(company_id, subjects)  # the buckets' new totals: the polls see them


def _lock(company_id: int, *, shared: bool) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite: one writer at a time anyway
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [ROLLUP_LOCK, company_id])


def _recompute(company: Company, claimed: list[Bucket], *, token: str) -> tuple[int, int, bool]:
    """Recomputes the claimed buckets' totals and releases them: (written, deleted, left),
    left saying whether the company may have stale buckets this worker could still take."""
    lo = min(bucket.start for bucket in claimed)
    hi = max(bucket.end for bucket in claimed)
    # In the order _buckets_mark() locks buckets in, which the release locks them in too.
    ids = [bucket.pk for bucket in sorted(claimed, key=_bucket_key)]
    # Whose figures change: their versions turn, so that only their dashboards' polls re-render.
    subjects = {(bucket.scope, bucket.subject_id) for bucket in claimed}
    if connection.vendor == "postgresql":
        now = timezone.now()
        params = {"ids": ids, "token": token, "now": now, "expired": now - CLAIM_TIMEOUT}
        written, deleted, left = _incremental_run(company, lo, hi, params)
        figures_version_bump(company.pk, subjects)  # the buckets' new totals: the polls see them
        return written, deleted, left
    with connection.cursor() as cursor:
        # The claimed buckets' keys, copied in one statement (at most CLAIM_BATCH ids).
        cursor.execute(
            'CREATE TEMP TABLE rollup_claimed AS SELECT scope, subject_id, period, start, "end" '
            f"FROM rollups_bucket WHERE id IN ({', '.join(['%s'] * len(ids))})",
            ids,
        )
        try:
            written, deleted = _write(company, cursor, lo, hi, incremental=True)
        finally:
            cursor.execute("DROP TABLE rollup_claimed")
    _release(company_id=company.pk, token=token, ids=ids, subjects=subjects)
    return written, deleted, True


def _incremental_run(
    company: Company, lo: datetime.date, hi: datetime.date, params: dict
) -> tuple[int, int, bool]:
    """_incremental_sql run for the claimed buckets `params["ids"]` of [lo, hi]: (written,
    deleted, left)."""
    from psycopg.types.numeric import Int8

    span = _span(company, lo, hi, buckets=True)
    plo, phi, today = span
    with connection.cursor() as cursor:
        # The lock, the planner's settings (_write's, for a few buckets) and the working
        # years written already in one round trip. A prepared statement's plan is the
        # generic one, built once. The lock comes before anything is written (the working
        # days, in _span_params), as in a full rollup, which holds it exclusively while it
        # writes them: taken after, each would wait for the other (a deadlock).
        cursor.execute(
            f"SELECT pg_advisory_xact_lock_shared(%(lock)s, %(company)s), "
            f"{_planner(incremental=True)}, "
            f"set_config('plan_cache_mode', 'force_generic_plan', true), {WRITTEN_YEARS_SQL}",
            {
                "lock": ROLLUP_LOCK,
                "company": company.pk,
                "first_year": plo.year,
                "last_year": max(phi, today).year,
            },
        )
        written = cursor.fetchone()[-1]
        # psycopg sends an int as the smallest type that holds it, and a prepared statement
        # is kept per parameter types: as bigint always, one plan serves every company.
        params = {
            **_span_params(company, lo, hi, span, written=written),
            **params,
            "company": Int8(company.pk),
            "ids": [Int8(i) for i in params["ids"]],
        }
        with connection.execute_wrapper(_prepared):
            cursor.execute(_incremental_sql(), params)
        return cursor.fetchone()


@functools.cache
def _incremental_sql() -> str:
    """A company's incremental rollup on PostgreSQL in one statement: the claimed buckets'
    totals computed (engine.fresh_sql), upserted where they differ, those with no facts left
    deleted, the buckets released as _release does, and whether any stale bucket is left.

    One statement, not the six of _write and _release with two temporary tables: a
    company's incremental run is a few buckets' worth of work, and its cost was round trips
    and planning. With no temporary table in it, a worker's connection prepares it like any
    statement it runs often (settings.py, prepare_threshold), and PostgreSQL can keep its
    plan. It runs under the engine's planner settings (_planner): the delete finds each
    bucket's totals by an index lookup (LATERAL, a nested loop whatever the settings), and
    the rows to delete and release by their ids (= ANY, no join)."""
    ctes, select = engine._fresh_parts(engine.POSTGRESQL, incremental=True, whole=False)
    columns = ", ".join(f'"{c}"' for c in engine.TOTAL_COLUMNS)
    key = ", ".join(f'"{c}"' for c in engine.TOTAL_KEY)
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in engine.TOTAL_VALUES)
    differs = " OR ".join(
        f'rollups_total."{c}" IS DISTINCT FROM excluded."{c}"' for c in engine.TOTAL_VALUES
    )
    return f"""
WITH rollup_claimed AS MATERIALIZED (
    SELECT scope, subject_id, period, start FROM rollups_bucket WHERE id = ANY(%(ids)s)
),
{ctes.strip()},
fresh AS MATERIALIZED ({select}),
upserted AS (
    INSERT INTO rollups_total ({columns}, computed_at)
    SELECT {columns}, %(now)s FROM fresh
    ON CONFLICT ({key}) DO UPDATE SET {updates}, computed_at = excluded.computed_at
    WHERE {differs}
    RETURNING 1
),
deleted AS (
    DELETE FROM rollups_total WHERE id = ANY(ARRAY(
        SELECT t.id FROM rollup_claimed c
        CROSS JOIN LATERAL (
            SELECT t.id, t.kpi_id FROM rollups_total t
            WHERE t.company_id = %(company)s AND t.scope = c.scope
                AND t.subject_id = c.subject_id AND t.period = c.period AND t.start = c.start
            OFFSET 0) t
        WHERE NOT EXISTS (
            SELECT 1 FROM fresh f WHERE f.scope = c.scope AND f.subject_id = c.subject_id
                AND f.kpi_id = t.kpi_id AND f.period = c.period AND f.start = c.start)))
    RETURNING 1
),
-- _release's: the buckets locked in the order _buckets_mark() uses (the ids come in it,
-- _recompute), those still this worker's marked done as of the claim; a change that landed
-- meanwhile leaves one stale. Read by their ids and sorted: ordered by their keys, with sorts
-- priced out, the planner walked the company's every bucket in bucket_uniq's order.
released AS (
    UPDATE rollups_bucket SET done = claimed_marks, claimed_by = '', claimed_at = NULL
    WHERE id = ANY(ARRAY(
        SELECT id FROM rollups_bucket WHERE id = ANY(%(ids)s)
        ORDER BY array_position(%(ids)s, id) FOR UPDATE))
        AND claimed_by = %(token)s
    RETURNING marks > done AS stale
)
SELECT (SELECT count(*) FROM upserted), (SELECT count(*) FROM deleted),
    COALESCE((SELECT bool_or(stale) FROM released), false) OR EXISTS (
        SELECT 1 FROM rollups_bucket
        WHERE company_id = %(company)s AND marks > done AND NOT id = ANY(%(ids)s)
            AND (claimed_by = '' OR claimed_by = %(token)s OR claimed_at < %(expired)s))"""


def _prepared(execute, sql, params, many, context):
    """A connection.execute_wrapper: the statement prepared on its first run, not its fifth.

    Planning the incremental statement took as long as running it (15–30 ms of a company's
    run). psycopg prepares a statement a connection has run prepare_threshold times
    (settings.py), but counts only the last hundred distinct statements, and every Django
    savepoint has a name of its own: in a worker that also runs other tasks, the count was
    lost before it got there. Where parameters are bound by the client (behind PgBouncer in
    transaction mode, settings.py) nothing is prepared and it runs as any statement."""
    if not connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"):
        return execute(sql, params, many, context)
    with connection.wrap_database_errors:
        return context["cursor"].cursor.execute(sql, params, prepare=True)


def _span(
    company: Company, lo: datetime.date, hi: datetime.date, *, buckets: bool
) -> tuple[datetime.date, datetime.date, datetime.date]:
    """The plans' months for the facts of [lo, hi] (plo, phi: whole months around whole
    weeks), and the company's today.

    buckets: [lo, hi] runs from the first claimed bucket's start to the last one's end (an
    incremental run), so the months it touches hold every day their plans split over: a
    week that crosses into another month is a claimed one, inside [lo, hi]. The engine
    counts every manager's working days of those months, so one report's run (its day,
    week and month) reads one month of them, not the three around its month's weeks."""
    if buckets:
        plo, phi = month_bounds(lo)[0], month_bounds(hi)[1]
    else:
        plo = month_bounds(week_bounds(lo)[0])[0]
        phi = month_bounds(week_bounds(hi)[1])[1]
    return plo, phi, company.today()


def _span_params(
    company: Company,
    lo: datetime.date,
    hi: datetime.date,
    span: tuple[datetime.date, datetime.date, datetime.date],
    *,
    written: Iterable[int] | None = None,
) -> dict:
    """The engine's parameters for the facts of [lo, hi] and their span (_span's); the
    working days of the plans' months and of today written first (written:
    working_days_ensure's)."""
    plo, phi, today = span
    working_days_ensure(company=company, start=plo, end=max(phi, today), written=written)
    return {
        "company": company.pk,
        "lo": lo,
        "hi": hi,
        "plo": plo,
        "phi": phi,
        "today": today,
        "yesterday": today - datetime.timedelta(days=1),
    }


def _planner(*, incremental: bool) -> str:
    """The engine statement's planner settings (_write says why), as set_config() calls."""
    planner = ", ".join(
        f"set_config('{name}', 'off', true)"
        for name in ("enable_nestloop", "enable_mergejoin", "enable_sort", "jit")
    )
    if incremental:
        planner += ", set_config('join_collapse_limit', '1', true)"
    return planner


def _write(
    company: Company,
    cursor,
    lo: datetime.date,
    hi: datetime.date,
    *,
    incremental: bool,
    inside: bool = False,
):
    """Computes the totals into rollup_fresh, upserts what differs, deletes what has gone.

    inside: only the buckets wholly in [lo, hi] are compared, written and deleted. The facts
    are read from [lo, hi] alone, so a bucket reaching past it (the month around a week at
    the edge) would come out short; the caller aligns the span to whole weeks and months.
    """
    params = _span_params(company, lo, hi, _span(company, lo, hi, buckets=incremental))
    dialect = engine.dialect_for(connection.vendor)
    if connection.vendor == "postgresql":
        # The statement's intermediate results are CTEs the planner cannot count: left to
        # itself it nests loops over them, and sorts tens of thousands of rows it takes for
        # one to merge-join or group them; hashing is linear whatever their number. JIT
        # would compile its long expressions for longer than they take to run.
        # Incremental: joins in the order written; for a few buckets, searching the orders
        # of this many joins took longer than running them. The settings in one round trip
        # (SET LOCAL takes one each): a company's incremental run is mostly round trips.
        cursor.execute(f"SELECT {_planner(incremental=incremental)}")
    columns = ", ".join(f'"{c}"' for c in engine.TOTAL_COLUMNS)
    # Neither incremental nor inside: [lo, hi] is the company's whole history.
    fresh = engine.fresh_sql(dialect, incremental=incremental, whole=not incremental and not inside)
    if not incremental and not inside and not Total.objects.filter(company=company).exists():
        # The company's first totals: nothing to compare with or delete, so they go straight
        # into the table, without the temporary copy.
        cursor.execute(
            f"""INSERT INTO rollups_total ({columns}, computed_at)
            SELECT {columns}, %(now)s FROM ({fresh}) f""",
            {**params, "now": timezone.now()},
        )
        return cursor.rowcount, 0
    cursor.execute("CREATE TEMP TABLE rollup_fresh AS " + fresh, params)
    if connection.vendor == "postgresql":
        # The statements after it are the planner's own again. Incremental: a few buckets'
        # totals are replaced; the upsert and the delete find them by their key, index
        # lookups in a nested loop rather than a hash of every total the company has. (A
        # full rollup replaces them all: the hash is the right plan there.)
        restore = (
            "set_config('enable_mergejoin', 'on', true), set_config('enable_sort', 'on', true)"
        )
        if incremental:
            restore += ", set_config('enable_nestloop', 'on', true)"
        cursor.execute(f"SELECT {restore}")
    try:
        key = ", ".join(f'"{c}"' for c in engine.TOTAL_KEY)
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in engine.TOTAL_VALUES)
        differs = " OR ".join(
            f'rollups_total."{c}" IS DISTINCT FROM excluded."{c}"' for c in engine.TOTAL_VALUES
        )
        within = 'AND start >= %(lo)s AND "end" <= %(hi)s' if inside else ""
        cursor.execute(
            f"""INSERT INTO rollups_total ({columns}, computed_at)
            SELECT {columns}, %(now)s FROM rollup_fresh WHERE true {within}
            ON CONFLICT ({key}) DO UPDATE SET {updates}, computed_at = excluded.computed_at
            WHERE {differs}""",
            {"now": timezone.now(), "lo": lo, "hi": hi},
        )
        written = cursor.rowcount
        only_claimed = (
            """AND (scope, subject_id, period, start) IN (
                SELECT scope, subject_id, period, start FROM rollup_claimed)"""
            if incremental
            else ""
        )
        cursor.execute(
            f"""DELETE FROM rollups_total WHERE company_id = %(company)s {only_claimed} {within}
            AND NOT EXISTS (
                SELECT 1 FROM rollup_fresh f WHERE f.scope = rollups_total.scope
                    AND f.subject_id = rollups_total.subject_id
                    AND f.kpi_id = rollups_total.kpi_id AND f.period = rollups_total.period
                    AND f.start = rollups_total.start)""",
            {"company": company.pk, "lo": lo, "hi": hi},
        )
        return written, cursor.rowcount
    finally:
        cursor.execute("DROP TABLE rollup_fresh")


def totals_reconcile(*, company_id: int) -> Reconciliation:
    """Recomputes every total of the company from the facts; what had to change is drift."""
    started = timezone.now()
    with tenancy.tenant_context(company_id):
        company = Company.objects.get(pk=company_id)
        _lock(company_id, shared=False)
        working_days_sync(company=company)
        span = DailyReport.objects.filter(company=company).aggregate(
            first=Min("date"), last=Max("date")
        )
        # The source's figures of record count on days nobody reported too.
        counted = _source_days(company).aggregate(first=Min("date"), last=Max("date"))
        if counted["first"] is not None:
            span = {
                "first": min(d for d in (span["first"], counted["first"]) if d is not None),
                "last": max(d for d in (span["last"], counted["last"]) if d is not None),
            }
        written = deleted = 0
        with connection.cursor() as cursor:
            if span["first"] is None:
                deleted = Total.objects.filter(company=company).delete()[0]
            else:
                written, deleted = _write(
                    company, cursor, span["first"], span["last"], incremental=False
                )
        reconciliation = Reconciliation(
            company=company,
            started_at=started,
            finished_at=timezone.now(),
            totals=Total.objects.filter(company=company).count(),
            written=written,
            deleted=deleted,
        )
        reconciliation.save()
    if reconciliation.drift:
        logger.warning(
            "rollups: company %s had %s drifted totals (%s rewritten, %s deleted), now fixed",
            company_id,
            reconciliation.drift,
            written,
            deleted,
        )
    return reconciliation


# The nightly check's rotation: this many months older than the recent ones, a night.
ROTATION_MONTHS = 2


def verification_cycle(*, months_of_history: int) -> int:
    """Nights within which totals_verify has checked every month of a history this long:
    the rotation's slices back to the first month, and the night that wraps round."""
    return -(-months_of_history // ROTATION_MONTHS) + 1


def totals_verify(*, company_id: int) -> Reconciliation:
    """The nightly check, in time proportional to the day's activity, not to the history.

    It recomputes from the facts the months that may have changed since the last check (the
    running and the previous month, and every month of a report or a source's figure filed
    or edited since), plus a rotating slice of ROTATION_MONTHS older months, walking back
    from the last night's slice and starting again from the newest when it has passed the
    first fact: every total is checked at least once every verification_cycle() nights.
    What had to change is drift, logged and fixed as totals_reconcile does for the whole.
    A change the marks missed (a plan, an absence, a deleted report) is found by the rotation.
    """
    started = timezone.now()
    with tenancy.tenant_context(company_id):
        company = Company.objects.get(pk=company_id)
        _lock(company_id, shared=False)
        working_days_sync(company=company)
        last = Reconciliation.objects.filter(company=company).order_by("-started_at").first()
        today = company.today()
        months = {month_bounds(today)[0], shift_months(today, -1)}
        if last is not None:
            since = Q(submitted_at__gte=last.started_at) | Q(updated_at__gte=last.started_at)
            reports = DailyReport.objects.filter(since, company=company)
            figures = _source_days(company).filter(imported_at__gte=last.started_at)
            months |= set(reports.dates("date", "month")) | set(figures.dates("date", "month"))
        recent_from = min(months)
        rotation = _rotation_slice(company, last, before=recent_from)
        if rotation is not None:
            first = rotation[0]
            while first <= rotation[1]:
                months.add(first)
                first = shift_months(first, 1)
        written = deleted = checked = 0
        with connection.cursor() as cursor:
            for lo, hi in _month_spans(months):
                # Whole weeks around the months: each of their weeks is computed whole.
                lo_week, hi_week = week_bounds(lo)[0], week_bounds(hi)[1]
                w, d = _write(company, cursor, lo_week, hi_week, incremental=False, inside=True)
                written, deleted = written + w, deleted + d
                checked += Total.objects.filter(
                    company=company, start__gte=lo_week, end__lte=hi_week
                ).count()
        reconciliation = Reconciliation.objects.create(
            company=company,
            started_at=started,
            finished_at=timezone.now(),
            totals=checked,
            written=written,
            deleted=deleted,
            full=False,
            rotation_from=rotation[0] if rotation else None,
            rotation_to=rotation[1] if rotation else None,
        )
    if reconciliation.drift:
        logger.warning(
            "rollups: company %s had %s drifted totals (%s rewritten, %s deleted), now fixed",
            company_id,
            reconciliation.drift,
            written,
            deleted,
        )
    return reconciliation


def _rotation_slice(
    company: Company, last: Reconciliation | None, *, before: datetime.date
) -> tuple[datetime.date, datetime.date] | None:
    """Tonight's slice of old months, [first month's start, last month's end], or None when
    nothing is older than the recent months. It continues back from the last night's slice
    and starts again below `before` once nothing (a fact or a stored total) is older."""
    end = before
    if last is not None and last.rotation_from is not None and last.rotation_from < before:
        end = last.rotation_from
    if not _anything_before(company, end):
        end = before
        if not _anything_before(company, end):
            return None
    return shift_months(end, -ROTATION_MONTHS), end - datetime.timedelta(days=1)


def _anything_before(company: Company, day: datetime.date) -> bool:
    return (
        DailyReport.objects.filter(company=company, date__lt=day).exists()
        or _source_days(company).filter(date__lt=day).exists()
        or Total.objects.filter(company=company, period__in=Period.values, start__lt=day).exists()
    )


def _month_spans(months: Iterable[datetime.date]) -> list[tuple[datetime.date, datetime.date]]:
    """Month starts merged into runs of consecutive months: [first day, last day] each."""
    spans: list[tuple[datetime.date, datetime.date]] = []
    for month in sorted(months):
        if spans and shift_months(spans[-1][1], 1) == month:
            spans[-1] = (spans[-1][0], month_bounds(month)[1])
        else:
            spans.append(month_bounds(month))
    return spans


def stale_companies() -> list[int]:
    """Companies with stale buckets that nobody holds: their rollup was lost or its worker died."""
    due = []
    cutoff = timezone.now() - CLAIM_TIMEOUT
    for company_id in Company.objects.values_list("pk", flat=True):
        with tenancy.tenant_context(company_id):
            if (
                Bucket.objects.filter(company_id=company_id, marks__gt=F("done"))
                .filter(Q(claimed_by="") | Q(claimed_at__lt=cutoff))
                .exists()
            ):
                due.append(company_id)
    return due
