"""The set-based SQL that turns daily facts into stored totals (PostgreSQL and SQLite).

One statement computes every requested total from the days' figures of record (the
manager's or the source's, reports/figures.py) into a temporary
table; the caller upserts it into `rollups_total` and deletes the totals that have no
facts behind them any more. Nothing of a company's history passes through Python, so a
worker's memory does not grow with the data.

How parts combine (DOMAIN.md, cadence), at every level:
- manager: Σ values and the count of reported days (a ratio: Σ numerator and Σ denominator),
  the last reported value; actual = Σ, Σ/count, last, or Σ numerator / Σ denominator.
- team, company (DOMAIN.md, teams and the company): the parts summed over the managers who
  reported in the period; a last-value KPI adds the managers' last values up (their average
  for a percentage). A summed, higher-is-better KPI's plan is the whole team's: the plans of
  every active manager of the team (who had joined by the period's end) add up, whether
  they reported it or not (a silent manager
  adds nothing to the actual); a lower-is-better one adds only the plans of those who
  reported (a silent manager earns the team no allowance); averaged, ratio and last-value
  KPIs take the reporters' mean (a last value's plans add up, like its values). Every
  manager with a plan counts in the share meeting plan; a silent one does not meet it. A
  team's or the company's total exists for a period in which anyone in the company
  reported (the buckets are marked by reports), for every KPI one of its managers reported
  or has a plan for: nobody having reported gives nothing done against the plan. A team
  counts each manager for the days they spent in it (accounts_teammembership): their reports
  of those days, their plan split over their working days in it (a week's own plan: its
  share of the week's working days), and their pace over those days; the company counts
  them whole.
- plan: a summed KPI's month plan split evenly over the manager's working days (absences
  excluded), or a weekly plan set for exactly that week; other KPIs: the plan of the month
  the period starts in. The manager's own plan wins over the role's default. It is carried
  to PLAN_PLACES decimals: completion, meeting plan and at risk are judged on it; only the
  stored plan is rounded to 4.
- the running week and month: elapsed working days run to today when the manager has
  reported today, else to yesterday; forecast = actual ÷ elapsed × working days (summed
  KPIs; others keep their value), at risk when the forecast misses the plan. The plan to
  date (DOMAIN.md, the two readings: done so far = actual ÷ plan to date) is the plan × elapsed
  ÷ working days (summed KPIs; others' target holds every day); a team's adds up its
  members' as its plan does.
- band: the colour of the completion as printed, a whole percent (kpi.bands.reading). The
  light a screen shows is rollups.figures.Figure's: pace while the period runs.
"""

from dataclasses import dataclass

from reports.figures import FACTS_OF_RECORD_SQL

TOTAL_COLUMNS = (
    "company_id",
    "scope",
    "subject_id",
    "kpi_id",
    "period",
    "start",
    "end",
    "value_sum",
    "value_count",
    "days_reported",
    "last_value",
    "actual",
    "plan",
    "completion",
    "band",
    "working_days",
    "elapsed_days",
    "forecast",
    "plan_to_date",
    "at_risk",
    "meeting_plan",
    "share_meeting_plan",
)
# A split plan is a repeating fraction (11 over 23 days); completion is computed from it to
# this many places, so 3 against 11/23 is 627.27 %, not 627.22 % from the stored 0.4783.
PLAN_PLACES = 12

TOTAL_KEY = ("company_id", "scope", "subject_id", "kpi_id", "period", "start")
# The columns whose difference is drift; computed_at is not.
TOTAL_VALUES = tuple(c for c in TOTAL_COLUMNS if c not in TOTAL_KEY)


@dataclass(frozen=True)
class Dialect:
    """The few date expressions the two databases spell differently."""

    week_start: str
    month_start: str
    week_end: str
    month_end: str
    # The (UTC) date of a timestamp.
    date_of: str
    # Restricts reportvalue to the reports of the span without a join (PostgreSQL: an
    # index scan on report_id = ANY(...), never a scan of the company's whole history).
    reports_in_span: str
    # Ends a subquery the planner must not pull up into the query around it.
    fence: str


POSTGRESQL = Dialect(
    week_start="({d} - (EXTRACT(ISODOW FROM {d})::int - 1))",
    month_start="(date_trunc('month', {d})::date)",
    week_end="({d} + 6)",
    month_end="((date_trunc('month', {d}) + interval '1 month - 1 day')::date)",
    date_of="CAST({d} AS DATE)",
    reports_in_span="v.report_id = ANY(ARRAY({reports}))",
    fence="OFFSET 0",
)
SQLITE = Dialect(
    week_start="date({d}, '-' || ((CAST(strftime('%%w', {d}) AS INTEGER) + 6) %% 7) || ' days')",
    month_start="date({d}, 'start of month')",
    week_end="date({d}, '+6 days')",
    month_end="date({d}, 'start of month', '+1 month', '-1 day')",
    date_of="date({d})",
    reports_in_span="v.report_id IN ({reports})",
    fence="LIMIT -1 OFFSET 0",
)


def dialect_for(vendor: str) -> Dialect:
    return POSTGRESQL if vendor == "postgresql" else SQLITE


def _completion(actual: str, plan: str, direction: str) -> str:
    """kpi.bands.completion() in SQL: percent, capped at 999.99, rounded half up to 0.01."""
    lower = f"{plan} * 100.0 / {actual}"
    higher = f"(CASE WHEN {actual} < 0 THEN 0 ELSE {actual} END) * 100.0 / {plan}"
    return f"""(CASE
        WHEN {plan} IS NULL OR {actual} IS NULL OR {plan} < 0 THEN NULL
        WHEN {direction} = 'lower' THEN (CASE WHEN {actual} <= 0 THEN 999.99
            ELSE round(CASE WHEN {lower} > 999.99 THEN 999.99 ELSE {lower} END, 2) END)
        WHEN {plan} = 0 THEN NULL
        ELSE round(CASE WHEN {higher} > 999.99 THEN 999.99 ELSE {higher} END, 2) END)"""


def _actual(aggregation: str, unit: str, s: str, n: str, last: str) -> str:
    """kpi.aggregation.period_value() from the parts, rounded to 4 places."""
    return f"""round(CASE {aggregation}
        WHEN 'sum' THEN {s}
        WHEN 'avg' THEN {s} * 1.0 / NULLIF({n}, 0)
        WHEN 'last' THEN {last}
        ELSE (CASE WHEN {n} = 0 THEN NULL WHEN {unit} = 'percent' THEN {s} * 100.0 / {n}
              ELSE {s} * 1.0 / {n} END) END, 4)"""


def _worse(value: str, plan: str, direction: str) -> str:
    return f"(CASE WHEN {direction} = 'lower' THEN {value} > {plan} ELSE {value} < {plan} END)"


def _met(completion: str) -> str:
    """A completion meets the plan: 100 % or more; NULL where there is no plan."""
    return f"({completion} >= 100)"


def _meets(value: str, plan: str, direction: str) -> str:
    """The value meets the plan (_met of its completion)."""
    return _met(_completion(value, plan, direction))


def _during(stay: str, start: str, end: str) -> str:
    """A team stay (a TeamMembership row's columns) overlaps [start, end]."""
    return f"""AND ({stay}.effective_from IS NULL OR {stay}.effective_from <= {end})
        AND ({stay}.effective_to IS NULL OR {stay}.effective_to > {start})"""


def _level_two(d: Dialect, scope: str, subject: str, group: str, rows: str) -> str:
    """A team's or the company's totals from its managers' rows of the same statement.

    A silent manager's row (no report of the KPI in the period) brings its plan only to a
    summed, higher-is-better KPI; it brings no value and does not meet the plan."""

    def member(column: str) -> str:
        return f"""CASE WHEN silent = 1 AND NOT (aggregation = 'sum' AND direction = 'higher')
        THEN NULL ELSE {column} END"""

    def combined(column: str) -> str:
        return f"""CASE WHEN max(aggregation) IN ('avg', 'ratio')
            OR (max(aggregation) = 'last' AND max(unit) = 'percent')
        THEN avg({member(column)}) ELSE sum({member(column)}) END"""

    combined_last = "CASE WHEN max(unit) = 'percent' THEN avg(last_value) ELSE sum(last_value) END"
    return f"""
    SELECT '{scope}' AS scope, {subject} AS subject_id, kpi_id, period, start, max("end") AS "end",
        max(aggregation) AS aggregation, max(direction) AS direction, max(unit) AS unit,
        sum(s) AS s, sum(n) AS n, sum(days) AS days, {combined_last} AS last_value,
        round({combined("plan_exact")}, {PLAN_PLACES}) AS plan_exact,
        round({combined("plan_to_date")}, {PLAN_PLACES}) AS plan_to_date,
        max(running) AS running,
        sum(CASE WHEN forecast IS NULL THEN actual ELSE forecast END) AS forecast_sum,
        sum(CASE WHEN meeting_plan THEN 1 ELSE 0 END) AS meeting,
        count(meeting_plan) AS planned
    FROM {rows}
    GROUP BY {group}kpi_id, period, start"""


# What a team's or the company's total reads of its members' rows (_level_two), besides
# plan_exact and meeting_plan.
LEVEL_TWO_COLUMNS = """kpi_id, period, start, "end", aggregation, direction, unit, s, n, days,
        last_value, plan_to_date, running, forecast, actual, silent"""


def facts_sql(d: Dialect, *, whole: bool) -> str:
    """The facts of record in [lo, hi] (reports.figures.FACTS_OF_RECORD_SQL).

    whole: [lo, hi] holds every report of the company, whose values are then read by the
    company; the planner knows how many there are and sizes every step after them. Else
    only the span's reports' values are read (the dialect's reports_in_span), never the
    company's whole history."""
    if whole:
        return FACTS_OF_RECORD_SQL.format(in_span="true")
    in_span = d.reports_in_span.format(
        reports="""SELECT id FROM reports_dailyreport
            WHERE company_id = %(company)s AND date BETWEEN %(lo)s AND %(hi)s"""
    )
    return FACTS_OF_RECORD_SQL.format(in_span=in_span)


def fresh_sql(d: Dialect, *, incremental: bool, whole: bool = False) -> str:
    """SELECT of every total asked for, with the columns of TOTAL_COLUMNS.

    Parameters: company, lo, hi (the facts' dates), plo, phi (whole months around them),
    today, yesterday. Incremental: only the buckets in the table (or CTE) rollup_claimed
    (scope, subject_id, period, start) are produced, from the facts of their periods.
    whole: [lo, hi] spans the company's every report (facts_sql).
    """
    ctes, select = _fresh_parts(d, incremental=incremental, whole=whole)
    return f"WITH {ctes.lstrip()}\n{select}"


def _fresh_parts(d: Dialect, *, incremental: bool, whole: bool) -> tuple[str, str]:
    """fresh_sql's CTEs (without WITH) and its final SELECT, for a statement to build on."""
    week, month = d.week_start.format(d="date"), d.month_start.format(d="date")

    def only(period: str, column: str) -> str:
        if not incremental:
            return ""
        return f"WHERE {column} IN (SELECT start FROM rollup_claimed WHERE period = '{period}')"

    def claimed(scope: str, subject: str) -> str:
        if not incremental:
            return ""
        return f"""AND ({subject}, period, start) IN (
            SELECT subject_id, period, start FROM rollup_claimed WHERE scope = '{scope}')"""

    mend = d.month_end.format(d="t.start")
    wend = d.week_end.format(d="t.start")
    running = "(p.period <> 'day' AND p.start <= %(today)s AND %(today)s <= p.\"end\")"
    summed = "p.aggregation = 'sum'"
    # After melapsed, which has worked it out once a row (the expressions below repeat it).
    paced = "p.running = 1"
    forecast = f"""(CASE WHEN NOT {paced} THEN NULL
        WHEN NOT {summed} THEN p.actual
        WHEN p.elapsed_days > 0
            THEN round(p.actual * p.working_days * 1.0 / p.elapsed_days, 4) END)"""
    plan_to_date = f"""(CASE WHEN NOT {paced} THEN NULL
        WHEN NOT {summed} THEN p.plan_exact
        WHEN p.working_days > 0 THEN p.plan_exact * p.elapsed_days * 1.0 / p.working_days END)"""
    team_forecast = """(CASE WHEN t.running = 0 THEN NULL
        WHEN t.aggregation = 'sum' THEN round(t.forecast_sum, 4) ELSE t.actual END)"""
    ctes = f"""
facts AS (
    SELECT x.manager_id, x.kpi_id, x.date, x.value,
        {d.week_start.format(d="x.date")} AS week_start,
        {d.month_start.format(d="x.date")} AS month_start
    FROM ({facts_sql(d, whole=whole)}) x
),
-- The teams' stays: a manager counts in a team for the days spent in it.
stays AS (
    SELECT user_id AS manager_id, team_id, effective_from, effective_to
    FROM accounts_teammembership WHERE company_id = %(company)s
),
-- A manager in one team all along (one stay without dates, the usual case): the team counts
-- their whole figures (seg 0), so they are computed once and added to the team at its level.
whole_stays AS (
    SELECT manager_id, max(team_id) AS team_id FROM stays GROUP BY manager_id
    HAVING count(*) = 1 AND max(effective_from) IS NULL AND max(effective_to) IS NULL
),
-- The others' stays: their figures in each team are computed from the days spent in it.
dated_stays AS (
    SELECT * FROM stays WHERE manager_id NOT IN (SELECT manager_id FROM whole_stays)
),
-- Each fact in the manager's whole figures (seg 0: their own, the company's and, for a
-- whole stay, the team's) and, for a dated stay, in the figures of the team they were in
-- that day (seg = the team).
seg_facts AS (
    SELECT manager_id, 0 AS seg, kpi_id, date, value, week_start, month_start FROM facts
    UNION ALL
    SELECT f.manager_id, st.team_id, f.kpi_id, f.date, f.value, f.week_start, f.month_start
    FROM facts f
    JOIN dated_stays st ON st.manager_id = f.manager_id {_during("st", "f.date", "f.date")}
),
parts AS (
    SELECT manager_id, seg, kpi_id, 'day' AS period, date AS start, value AS s, 1 AS n,
        date AS last_date
    FROM seg_facts {only("day", "date")}
    UNION ALL
    SELECT manager_id, seg, kpi_id, 'week', week_start, sum(value), count(*), max(date)
    FROM seg_facts {only("week", "week_start")} GROUP BY manager_id, seg, kpi_id, week_start
    UNION ALL
    SELECT manager_id, seg, kpi_id, 'month', month_start, sum(value), count(*), max(date)
    FROM seg_facts {only("month", "month_start")} GROUP BY manager_id, seg, kpi_id, month_start
),
-- A last-value KPI's facts: a week's or month's last value is its last reported day's.
last_facts AS (
    SELECT f.manager_id, f.kpi_id, f.date, f.value
    FROM facts f JOIN kpi_kpi k ON k.id = f.kpi_id AND k.aggregation = 'last'
),
typed AS (
    SELECT p.manager_id, p.seg, p.kpi_id, p.period, p.start, p.s, p.n, p.n AS days,
        CASE WHEN k.aggregation <> 'last' THEN NULL WHEN p.period = 'day' THEN p.s
            ELSE f.value END AS last_value
    FROM parts p
    JOIN kpi_kpi k ON k.id = p.kpi_id
    LEFT JOIN last_facts f ON p.period <> 'day' AND f.manager_id = p.manager_id
        AND f.kpi_id = p.kpi_id AND f.date = p.last_date
    WHERE k.aggregation <> 'ratio'
),
ratios AS (
    SELECT den.manager_id, den.seg, k.id AS kpi_id, den.period, den.start,
        COALESCE(num.s, 0) AS s, den.s AS n, den.n AS days, CAST(NULL AS NUMERIC) AS last_value
    FROM kpi_kpi k
    JOIN parts den ON den.kpi_id = k.denominator_id
    LEFT JOIN parts num ON num.kpi_id = k.numerator_id AND num.manager_id = den.manager_id
        AND num.seg = den.seg AND num.period = den.period AND num.start = den.start
    WHERE k.company_id = %(company)s AND k.aggregation = 'ratio'
),
mrows AS (
    SELECT t.*, u.sales_role_id,
        CASE t.period WHEN 'day' THEN t.start WHEN 'week' THEN {wend} ELSE {mend} END AS "end"
    FROM (SELECT * FROM typed UNION ALL SELECT * FROM ratios) t
    JOIN accounts_user u ON u.id = t.manager_id
),
-- Only the KPIs of the manager's role while the period lasted.
mkpis AS MATERIALIZED (
    SELECT m.* FROM mrows m
    WHERE EXISTS (
        SELECT 1 FROM kpi_rolekpi rk
        WHERE rk.company_id = %(company)s AND rk.sales_role_id = m.sales_role_id
            AND rk.kpi_id = m.kpi_id AND rk.effective_from <= m."end"
            AND (rk.effective_to IS NULL OR rk.effective_to > m.start))
),
-- Who counts in a team's and the company's plan, reported or not: the active managers.
members AS (
    SELECT u.id AS manager_id, u.sales_role_id,
        {d.date_of.format(d="u.date_joined")} AS joined
    FROM accounts_user u
    WHERE u.company_id = %(company)s AND u.role = 'manager' AND u.is_active
        AND u.sales_role_id IS NOT NULL
),
-- A member's place in the company (seg 0) and in each team they were in (seg = the team).
member_segs AS (
    SELECT manager_id, 0 AS seg, sales_role_id, joined,
        CAST(NULL AS DATE) AS effective_from, CAST(NULL AS DATE) AS effective_to
    FROM members
    UNION ALL
    SELECT mb.manager_id, st.team_id, mb.sales_role_id, mb.joined, st.effective_from,
        st.effective_to
    FROM members mb JOIN dated_stays st ON st.manager_id = mb.manager_id
),
company_live AS (SELECT DISTINCT period, start, "end" FROM mkpis),
-- A member's KPI of the role's set that they did not report, in a period anyone in the
-- company reported in and that ends after they joined (in a team: that they spent some of
-- in it): their plan still counts.
silent AS MATERIALIZED (
    SELECT DISTINCT mb.manager_id, mb.seg, rk.kpi_id, b.period, b.start, 0 AS s, 0 AS n,
        0 AS days, CAST(NULL AS NUMERIC) AS last_value, mb.sales_role_id, b."end", 1 AS silent
    FROM company_live b
    JOIN member_segs mb ON b."end" >= mb.joined {_during("mb", "b.start", 'b."end"')}
    JOIN kpi_rolekpi rk ON rk.company_id = %(company)s AND rk.sales_role_id = mb.sales_role_id
        AND rk.effective_from <= b."end"
        AND (rk.effective_to IS NULL OR rk.effective_to > b.start)
    WHERE NOT EXISTS (
        SELECT 1 FROM mkpis m WHERE m.manager_id = mb.manager_id AND m.seg = mb.seg
            AND m.kpi_id = rk.kpi_id AND m.period = b.period AND m.start = b.start)
),
level_rows AS NOT MATERIALIZED (
    SELECT manager_id, seg, kpi_id, period, start, s, n, days, last_value, sales_role_id,
        "end", 0 AS silent
    FROM mkpis
    UNION ALL
    SELECT manager_id, seg, kpi_id, period, start, s, n, days, last_value, sales_role_id,
        "end", silent
    FROM silent
),
managers AS (SELECT manager_id FROM mkpis UNION SELECT manager_id FROM members),
mdays AS (
    SELECT m.manager_id, w.date, {month} AS month_start, {week} AS week_start
    FROM managers m
    JOIN rollups_workingday w ON w.company_id = %(company)s
        AND w.date BETWEEN %(plo)s AND %(phi)s
    WHERE NOT EXISTS (
        SELECT 1 FROM kpi_absence a
        WHERE a.company_id = %(company)s AND a.manager_id = m.manager_id
            AND w.date BETWEEN a.start AND a."end")
),
-- A manager's working days: all of them (seg 0), and those spent in each team.
seg_days AS (
    SELECT manager_id, 0 AS seg, date, month_start, week_start FROM mdays
    UNION ALL
    SELECT x.manager_id, st.team_id, x.date, x.month_start, x.week_start
    FROM mdays x
    JOIN dated_stays st ON st.manager_id = x.manager_id {_during("st", "x.date", "x.date")}
),
month_wd AS (
    SELECT manager_id, month_start, count(*) AS n FROM mdays GROUP BY manager_id, month_start
),
-- A week's and a month's working days by the month they are in (a week across two months
-- has both). A day's are looked up in seg_days itself (mplanned): most rows are days.
bucket_wd AS (
    SELECT manager_id, seg, 'week' AS period, week_start AS start, month_start, count(*) AS n
    FROM seg_days GROUP BY manager_id, seg, week_start, month_start
    UNION ALL
    SELECT manager_id, seg, 'month', month_start, month_start, count(*)
    FROM seg_days GROUP BY manager_id, seg, month_start
),
bucket_days AS MATERIALIZED (
    SELECT manager_id, seg, period, start, sum(n) AS n FROM bucket_wd
    GROUP BY manager_id, seg, period, start
),
plans AS MATERIALIZED (
    SELECT m.manager_id, p.kpi_id, p.period, p.start,
        COALESCE(max(CASE WHEN p.manager_id IS NOT NULL THEN p.value END),
                 max(CASE WHEN p.manager_id IS NULL THEN p.value END)) AS value
    FROM managers m
    JOIN accounts_user u ON u.id = m.manager_id
    JOIN kpi_plan p ON p.company_id = %(company)s AND p.start BETWEEN %(plo)s AND %(phi)s
        AND (p.manager_id = m.manager_id
             OR (p.manager_id IS NULL AND p.sales_role_id = u.sales_role_id))
    GROUP BY m.manager_id, p.kpi_id, p.period, p.start
),
split AS MATERIALIZED (
    SELECT b.manager_id, b.seg, mp.kpi_id, b.period, b.start,
        sum(mp.value * b.n * 1.0 / mw.n) AS plan
    FROM bucket_wd b
    JOIN month_wd mw ON mw.manager_id = b.manager_id AND mw.month_start = b.month_start
    JOIN plans mp ON mp.manager_id = b.manager_id AND mp.period = 'month'
        AND mp.start = b.month_start
    JOIN kpi_kpi k ON k.id = mp.kpi_id AND k.aggregation = 'sum'
    GROUP BY b.manager_id, b.seg, mp.kpi_id, b.period, b.start
),
periods_planned AS (
    SELECT m.*, k.aggregation, k.direction, k.unit,
        {_actual("k.aggregation", "k.unit", "m.s", "m.n", "m.last_value")} AS actual,
        round(CASE WHEN k.aggregation <> 'sum' THEN mp1.value
            WHEN m.period = 'week' AND wp.value IS NOT NULL AND m.seg = 0 THEN wp.value
            -- A week's plan in a team: the share of its working days spent there.
            WHEN m.period = 'week' AND wp.value IS NOT NULL
                THEN wp.value * COALESCE(bd.n, 0) * 1.0 / bw.n
            WHEN mp1.value IS NOT NULL OR mp2.value IS NOT NULL THEN COALESCE(sp.plan, 0)
            END, {PLAN_PLACES}) AS plan_exact,
        bd.n AS working_days,
        -- A week's own plan and not a working day in it: a team counts no share of it.
        (k.aggregation = 'sum' AND m.period = 'week' AND wp.value IS NOT NULL
            AND bd.n IS NULL) AS idle_week
    FROM level_rows m
    JOIN kpi_kpi k ON k.id = m.kpi_id
    LEFT JOIN plans mp1 ON mp1.manager_id = m.manager_id AND mp1.kpi_id = m.kpi_id
        AND mp1.period = 'month' AND mp1.start = {d.month_start.format(d="m.start")}
    LEFT JOIN plans mp2 ON mp2.manager_id = m.manager_id AND mp2.kpi_id = m.kpi_id
        AND mp2.period = 'month' AND mp2.start = {d.month_start.format(d='m."end"')}
    LEFT JOIN plans wp ON wp.manager_id = m.manager_id AND wp.kpi_id = m.kpi_id
        AND wp.period = 'week' AND m.period = 'week' AND wp.start = m.start
    LEFT JOIN split sp ON sp.manager_id = m.manager_id AND sp.seg = m.seg
        AND sp.kpi_id = m.kpi_id AND sp.period = m.period AND sp.start = m.start
    LEFT JOIN bucket_days bd ON bd.manager_id = m.manager_id AND bd.seg = m.seg
        AND bd.period = m.period AND bd.start = m.start
    LEFT JOIN bucket_days bw ON bw.manager_id = m.manager_id AND bw.seg = 0
        AND bw.period = m.period AND bw.start = m.start
    WHERE m.period <> 'day'
),
-- The running week's and month's working days so far: to today when the manager has
-- reported today, else to yesterday.
reported_today AS (
    SELECT manager_id FROM reports_dailyreport
    WHERE company_id = %(company)s AND date = %(today)s
),
elapsed AS (
    SELECT x.manager_id, x.seg, 'week' AS period, x.week_start AS start, count(*) AS n
    FROM seg_days x
    WHERE x.week_start = {d.week_start.format(d="%(today)s")}
        AND x.date <= CASE WHEN x.manager_id IN (SELECT manager_id FROM reported_today)
            THEN %(today)s ELSE %(yesterday)s END
    GROUP BY x.manager_id, x.seg, x.week_start
    UNION ALL
    SELECT x.manager_id, x.seg, 'month', x.month_start, count(*)
    FROM seg_days x
    WHERE x.month_start = {d.month_start.format(d="%(today)s")}
        AND x.date <= CASE WHEN x.manager_id IN (SELECT manager_id FROM reported_today)
            THEN %(today)s ELSE %(yesterday)s END
    GROUP BY x.manager_id, x.seg, x.month_start
),
-- A day (most rows): its month's plan, split over it if it is a working day (one share of
-- the month's: the same sum split takes for a week, of one day); no week plan, not running.
-- The same rules as a week's or month's below, with less to join.
mplanned AS (
    SELECT m.*, k.aggregation, k.direction, k.unit,
        {_actual("k.aggregation", "k.unit", "m.s", "m.n", "m.last_value")} AS actual,
        round(CASE WHEN k.aggregation <> 'sum' THEN mp1.value
            WHEN mp1.value IS NOT NULL THEN COALESCE(
                CASE WHEN wd.date IS NOT NULL THEN mp1.value * 1 * 1.0 / mw.n END, 0) END,
            {PLAN_PLACES}) AS plan_exact,
        CASE WHEN wd.date IS NOT NULL THEN CAST(1 AS BIGINT) END AS working_days,
        false AS idle_week, 0 AS running, CAST(NULL AS INTEGER) AS elapsed_days
    FROM level_rows m
    JOIN kpi_kpi k ON k.id = m.kpi_id
    LEFT JOIN plans mp1 ON mp1.manager_id = m.manager_id AND mp1.kpi_id = m.kpi_id
        AND mp1.period = 'month' AND mp1.start = {d.month_start.format(d="m.start")}
    LEFT JOIN seg_days wd ON wd.manager_id = m.manager_id AND wd.seg = m.seg
        AND wd.date = m.start
    LEFT JOIN month_wd mw ON mw.manager_id = m.manager_id AND mw.month_start = wd.month_start
    WHERE m.period = 'day'
    UNION ALL
    SELECT p.*, CASE WHEN {running} THEN 1 ELSE 0 END AS running,
        CASE WHEN {running} THEN COALESCE(e.n, 0) END AS elapsed_days
    FROM periods_planned p
    LEFT JOIN elapsed e ON e.manager_id = p.manager_id AND e.seg = p.seg
        AND e.period = p.period AND e.start = p.start
),
melapsed AS MATERIALIZED (
    SELECT p.* FROM mplanned p
    -- A silent manager counts where they had a plan and days to work.
    WHERE p.silent = 0 OR (p.plan_exact IS NOT NULL AND p.working_days IS NOT NULL)
),
-- A manager's completion of the period's plan is worked out once, here: a period that has
-- ended meets the plan by it, and the totals show it (all_rows). A running one is judged by
-- its forecast (DOMAIN.md, pace). The fence keeps the inner select whole: pulled up, each
-- use of a column would be its expression again.
mpace AS MATERIALIZED (
    SELECT p.*, CASE WHEN p.silent = 1 THEN false
            WHEN {paced} THEN {_meets("p.forecast", "p.plan_exact", "p.direction")}
            ELSE {_met("p.completion")} END AS meeting_plan
    FROM (SELECT p.*, {forecast} AS forecast, {plan_to_date} AS plan_to_date,
            {_completion("p.actual", "p.plan_exact", "p.direction")} AS completion
        FROM melapsed p {d.fence}) p
),
-- A team's members: those of a dated stay by their days in it, those of a whole stay whole
-- (the same figures; only a week's own plan without a working day is no team's share).
team_rows AS (
    SELECT seg AS team_id, {LEVEL_TWO_COLUMNS}, plan_exact, meeting_plan
    FROM mpace WHERE seg <> 0
    UNION ALL
    SELECT ws.team_id, {LEVEL_TWO_COLUMNS},
        CASE WHEN m.idle_week THEN NULL ELSE m.plan_exact END,
        CASE WHEN m.idle_week THEN NULL ELSE m.meeting_plan END
    FROM mpace m JOIN whole_stays ws ON ws.manager_id = m.manager_id
    WHERE m.seg = 0
),
teams AS ({_level_two(d, "team", "team_id", "team_id, ", "team_rows")}),
whole AS ({_level_two(d, "company", "%(company)s", "", "mpace WHERE seg = 0")}),
level_two AS (
    SELECT t.*, {_actual("t.aggregation", "t.unit", "t.s", "t.n", "t.last_value")} AS actual
    FROM (SELECT * FROM teams WHERE true {claimed("team", "subject_id")}
          UNION ALL SELECT * FROM whole WHERE true {claimed("company", "subject_id")}) t
),
all_rows AS (
    SELECT 'manager' AS scope, manager_id AS subject_id, kpi_id, period, start, "end",
        direction, s, n, days, last_value, actual, plan_exact, working_days, elapsed_days,
        forecast, plan_to_date,
        CASE WHEN running = 1 AND forecast IS NOT NULL AND plan_exact IS NOT NULL
            THEN {_worse("forecast", "plan_exact", "direction")} ELSE false END AS at_risk,
        meeting_plan, CAST(NULL AS NUMERIC) AS share_meeting_plan, completion
    FROM mpace WHERE silent = 0 AND seg = 0 {claimed("manager", "manager_id")}
    UNION ALL
    SELECT t.scope, t.subject_id, t.kpi_id, t.period, t.start, t."end", t.direction,
        t.s, t.n, t.days, t.last_value, t.actual, t.plan_exact, NULL, NULL, {team_forecast},
        CASE WHEN t.running = 1 THEN t.plan_to_date END,
        CASE WHEN t.running = 1 AND {team_forecast} IS NOT NULL AND t.plan_exact IS NOT NULL
            THEN {_worse(team_forecast, "t.plan_exact", "t.direction")} ELSE false END,
        NULL, CASE WHEN t.planned > 0 THEN round(t.meeting * 100.0 / t.planned, 1) END,
        {_completion("t.actual", "t.plan_exact", "t.direction")}
    FROM level_two t
),
-- The KPIs' bands, the company's where a KPI has none of its own: a row a KPI, joined to
-- the totals by a hash (joined to every total, the company's one row was read again for
-- each of them: a nested loop, there being no column of the totals to hash it on). The
-- company's bands are two subqueries, each read once: joined, the company's one row left
-- no column to hash the KPIs on, and in the nested loop that took, with nested loops
-- priced out (rollups.services._planner), the planner read the KPIs by their primary key,
-- every tenant's, and kept the company's.
bands AS (
    SELECT k.id AS kpi_id,
        COALESCE(k.band_red_below,
            (SELECT c.band_red_below FROM accounts_company c WHERE c.id = %(company)s)) AS red,
        COALESCE(k.band_green_from,
            (SELECT c.band_green_from FROM accounts_company c WHERE c.id = %(company)s)) AS green
    FROM kpi_kpi k
    WHERE k.company_id = %(company)s
),
completed AS (
    SELECT r.*, b.red, b.green
    FROM all_rows r
    JOIN bands b ON b.kpi_id = r.kpi_id
)"""
    select = """
SELECT %(company)s AS company_id, scope, subject_id, kpi_id, period, start, "end",
    s AS value_sum, n AS value_count, days AS days_reported, last_value, actual,
    round(plan_exact, 4) AS plan, completion,
    CASE WHEN completion IS NULL THEN 'none' WHEN round(completion, 0) < red THEN 'red'
        WHEN round(completion, 0) < green THEN 'yellow' ELSE 'green' END AS band,
    working_days, elapsed_days, forecast, round(plan_to_date, 4) AS plan_to_date, at_risk,
    meeting_plan, share_meeting_plan
FROM completed
"""
    return ctes, select
