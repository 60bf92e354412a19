"""The totals computed the straightforward way: Python, day by day, from the reports.

What the engine's SQL must equal: from the days' figures of record (reports/figures.py).
It reuses the product's own single-manager rules
(kpi.aggregation.period_value, kpi.selectors.period_plan, kpi.bands) and spells out the
team and company rules of rollups/engine.py's docstring.
"""

import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from accounts.models import Company, TeamMembership, User
from kpi.aggregation import period_value
from kpi.bands import completion, reading
from kpi.calendar import calendar_for, manager_working_days
from kpi.models import KPI, RoleKPI
from kpi.periods import month_bounds, period_bounds
from kpi.selectors import ManagerPlans, manager_plans, period_plan
from reports.figures import source_counts
from reports.models import DailyReport, ImportedFigure, ReportValue
from rollups.engine import PLAN_PLACES

FOUR = Decimal("0.0001")
EXACT = Decimal(1).scaleb(-PLAN_PLACES)
Key = tuple[str, int, int, str, datetime.date]  # scope, subject, kpi, period, start


def q4(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(FOUR, rounding=ROUND_HALF_UP)


def q_exact(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(EXACT, rounding=ROUND_HALF_UP)


def _worse(value: Decimal, plan: Decimal, kpi: KPI) -> bool:
    return value > plan if kpi.direction == KPI.Direction.LOWER else value < plan


def _meets(value: Decimal | None, plan: Decimal | None, kpi: KPI) -> bool | None:
    percent = completion(actual=value, plan=plan, direction=kpi.direction)
    return None if percent is None else percent >= 100


ONE_DAY = datetime.timedelta(days=1)


def _plan_to_date(kpi: KPI, plan: Decimal | None, elapsed: int, working: int) -> Decimal | None:
    """What done so far is measured against: the plan × elapsed ÷ working days of a summed
    KPI, the target of any other."""
    if plan is None:
        return None
    if not kpi.is_summed:
        return plan
    return plan * elapsed / working if working else None


def _mean(values: list[Decimal]) -> Decimal | None:
    return sum(values, Decimal(0)) / len(values) if values else None


def expected_totals(company: Company, today: datetime.date) -> dict[Key, dict]:
    calendar = calendar_for(company=company)
    kpis = {kpi.pk: kpi for kpi in KPI.objects.filter(company=company)}
    facts: dict[int, dict[datetime.date, dict[str, Decimal]]] = defaultdict(dict)
    rows = ReportValue.objects.filter(company=company).values_list(
        "report__manager_id", "report__date", "kpi__code", "value"
    )
    for manager_id, day, code, value in rows:
        facts[manager_id].setdefault(day, {})[code] = value
    # The source's figure where it is the figure of record, reported day or not.
    for figure in ImportedFigure.objects.filter(company=company).select_related("kpi"):
        if source_counts(figure.kpi) and figure.source == figure.kpi.source:
            facts[figure.manager_id].setdefault(figure.date, {})[figure.kpi.code] = figure.value
    managers = {m.pk: m for m in User.objects.filter(company=company, pk__in=facts)}
    # The day is over when the manager has sent its report: a source's figure of today
    # (a call, a deal won this morning) does not end it.
    reported_today = set(
        DailyReport.objects.filter(company=company, date=today).values_list("manager_id", flat=True)
    )
    role_kpis = list(RoleKPI.objects.filter(company=company))
    stays: dict[int, list[tuple[int, datetime.date | None, datetime.date | None]]] = defaultdict(
        list
    )
    for user_id, team_id, since, until in TeamMembership.objects.filter(
        company=company
    ).values_list("user_id", "team_id", "effective_from", "effective_to"):
        stays[user_id].append((team_id, since, until))

    def team_of(manager_id: int, day: datetime.date) -> int | None:
        """DOMAIN.md: a manager counts in each team for the days spent in it."""
        for team_id, since, until in stays[manager_id]:
            if (since is None or since <= day) and (until is None or day < until):
                return team_id
        return None

    def in_set(manager: User, start: datetime.date, end: datetime.date) -> set[int]:
        return {
            r.kpi_id
            for r in role_kpis
            if r.sales_role_id == manager.sales_role_id
            and r.effective_from <= end
            and (r.effective_to is None or r.effective_to > start)
        }

    manager_rows: dict[Key, dict] = {}
    for manager_id, figures in facts.items():
        manager = managers[manager_id]
        buckets = {(p, *period_bounds(p, day)) for day in figures for p in ("day", "week", "month")}
        for period, start, end in buckets:
            inside = {day: values for day, values in figures.items() if start <= day <= end}
            for kpi_id in in_set(manager, start, end):
                kpi = kpis[kpi_id]
                row = _manager_row(kpi, inside, calendar, manager, period, start, end)
                if row is None:
                    continue
                working = manager_working_days(
                    company=company, manager=manager, start=start, end=end, calendar=calendar
                )
                row["working_days"] = len(working) or None
                running = period != "day" and start <= today <= end
                row["running"] = running
                row["elapsed_days"] = None
                row["forecast"] = None
                row["plan_to_date_exact"] = None
                if running:
                    as_of = (
                        today
                        if manager_id in reported_today
                        else today - datetime.timedelta(days=1)
                    )
                    row["elapsed_days"] = len([d for d in working if d <= as_of])
                    row["plan_to_date_exact"] = _plan_to_date(
                        kpi, row["plan_exact"], row["elapsed_days"], len(working)
                    )
                    if not kpi.is_summed:
                        row["forecast"] = row["actual"]
                    elif row["elapsed_days"]:
                        row["forecast"] = q4(
                            row["actual"] * row["working_days"] / row["elapsed_days"]
                        )
                row["at_risk"] = bool(
                    running
                    and row["forecast"] is not None
                    and row["plan_exact"] is not None
                    and _worse(row["forecast"], row["plan_exact"], kpi)
                )
                value = row["forecast"] if running else row["actual"]
                row["meeting_plan"] = _meets(value, row["plan_exact"], kpi)
                row["share_meeting_plan"] = None
                row["silent"] = False
                manager_rows[("manager", manager_id, kpi_id, period, start)] = row

    # A team's share of each manager: the days of the bucket they spent in it, day by day.
    span = [day for figures in facts.values() for day in figures]
    first_day = min((period_bounds("week", d)[0] for d in span), default=today)
    last_day = max((period_bounds("week", d)[1] for d in span), default=today)
    plans_of: dict[int, ManagerPlans] = {}

    def plans_for(manager: User) -> ManagerPlans:
        if manager.pk not in plans_of:
            plans_of[manager.pk] = manager_plans(
                company=company, manager=manager, start=first_day, end=last_day
            )
        return plans_of[manager.pk]

    team_rows: list[dict] = []
    for manager_id, figures in facts.items():
        manager = managers[manager_id]
        plans = plans_for(manager)
        stints = {
            (p, *period_bounds(p, day), team_of(manager_id, day))
            for day in figures
            for p in ("day", "week", "month")
        }
        for period, start, end, team_id in stints:
            if team_id is None:
                continue
            inside = {
                day: values
                for day, values in figures.items()
                if start <= day <= end and team_of(manager_id, day) == team_id
            }
            team_days = [
                d for d in plans.working_days(start, end) if team_of(manager_id, d) == team_id
            ]
            for kpi_id in in_set(manager, start, end):
                kpi = kpis[kpi_id]
                plan = _team_share(plans, kpi, period, start, end, team_days)
                row = _manager_row(kpi, inside, calendar, manager, period, start, end, plan=plan)
                if row is None:
                    continue
                row["working_days"] = len(team_days) or None
                running = period != "day" and start <= today <= end
                row["running"] = running
                row["forecast"] = None
                row["plan_to_date_exact"] = None
                if running:
                    as_of = (
                        today
                        if manager_id in reported_today
                        else today - datetime.timedelta(days=1)
                    )
                    elapsed = len([d for d in team_days if d <= as_of])
                    row["plan_to_date_exact"] = _plan_to_date(
                        kpi, row["plan_exact"], elapsed, len(team_days)
                    )
                    if not kpi.is_summed:
                        row["forecast"] = row["actual"]
                    elif elapsed:
                        row["forecast"] = q4(row["actual"] * row["working_days"] / elapsed)
                value = row["forecast"] if running else row["actual"]
                row["meeting_plan"] = _meets(value, row["plan_exact"], kpi)
                row["team_id"], row["manager_id"], row["silent"] = team_id, manager_id, False
                row["period"], row["start"] = period, start
                team_rows.append(row)
    reported_in_team = {
        (r["team_id"], r["manager_id"], r["kpi_id"], r["period"], r["start"]) for r in team_rows
    }

    # The whole team's plan (DOMAIN.md, teams and the company): every active manager who had
    # joined by the period's end, in a period in which anyone in the company reported, with a
    # plan for a KPI of their role's set they did not report.
    live = {(key[3], key[4], row["end"]) for key, row in manager_rows.items()}
    silent_rows: list[dict] = []
    members = User.objects.filter(
        company=company, role=User.Role.MANAGER, is_active=True, sales_role__isnull=False
    )
    team_silent_rows: list[dict] = []
    for member in members if live else []:
        first = min(start for _p, start, _e in live)
        last = max(end for _p, _s, end in live)
        plans = manager_plans(company=company, manager=member, start=first, end=last)
        joined = member.date_joined.astimezone(datetime.UTC).date()
        for period, start, end in live:
            if end < joined:
                continue
            working = plans.working_days(start, end)
            silent = {"period": period, "start": start, "end": end, "silent": True}
            silent["running"] = period != "day" and start <= today <= end
            as_of = today if today in facts.get(member.pk, {}) else today - ONE_DAY
            for kpi_id in in_set(member, start, end) if working else ():
                if ("manager", member.pk, kpi_id, period, start) in manager_rows:
                    continue
                plan = q_exact(plans.period_plan(kpis[kpi_id], start, end))
                if plan is not None:
                    elapsed = len([d for d in working if d <= as_of])
                    to_date = (
                        _plan_to_date(kpis[kpi_id], plan, elapsed, len(working))
                        if silent["running"]
                        else None
                    )
                    silent_rows.append(
                        {
                            **silent,
                            "kpi_id": kpi_id,
                            "plan_exact": plan,
                            "plan_to_date_exact": to_date,
                        }
                    )
            # In each team they spent some of the period's working days in.
            for team_id in {team_of(member.pk, day) for day in _days(start, end)} - {None}:
                team_days = [d for d in working if team_of(member.pk, d) == team_id]
                if not team_days:
                    continue
                elapsed = len([d for d in team_days if d <= as_of])
                for kpi_id in in_set(member, start, end):
                    if (team_id, member.pk, kpi_id, period, start) in reported_in_team:
                        continue
                    kpi = kpis[kpi_id]
                    plan = q_exact(_team_share(plans, kpi, period, start, end, team_days))
                    if plan is not None:
                        team_silent_rows.append(
                            {
                                **silent,
                                "kpi_id": kpi_id,
                                "plan_exact": plan,
                                "plan_to_date_exact": _plan_to_date(
                                    kpi, plan, elapsed, len(team_days)
                                )
                                if silent["running"]
                                else None,
                                "team_id": team_id,
                            }
                        )

    totals = dict(manager_rows)
    groups: dict[Key, list[dict]] = defaultdict(list)
    # The company counts each manager whole; a team, for the days spent in it.
    for (_scope, _manager, kpi_id, period, start), row in manager_rows.items():
        groups[("company", company.pk, kpi_id, period, start)].append(row)
    for row in silent_rows:
        groups[("company", company.pk, row["kpi_id"], row["period"], row["start"])].append(row)
    for row in team_rows + team_silent_rows:
        groups[("team", row["team_id"], row["kpi_id"], row["period"], row["start"])].append(row)
    for key, members_rows in groups.items():
        totals[key] = _group_row(kpis[key[2]], members_rows)
    for row in totals.values():
        kpi = kpis[row["kpi_id"]]
        row["completion"] = completion(
            actual=row["actual"], plan=row.pop("plan_exact"), direction=kpi.direction
        )
        # The colour of the completion as printed, a whole percent.
        row["band"] = str(reading(kpi, row["completion"]).band)
        exact = row.pop("plan_to_date_exact", None)
        row["plan_to_date"] = q4(exact) if row["running"] else None
        for name in ("running", "team_id", "kpi_id", "silent"):
            row.pop(name, None)
    return totals


def _days(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    return [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]


def _team_share(
    plans: ManagerPlans,
    kpi: KPI,
    period: str,
    start: datetime.date,
    end: datetime.date,
    team_days: list[datetime.date],
) -> Decimal | None:
    """A manager's plan for a bucket, counted in a team: the day plans of the working days
    they spent in it (a week's own plan spread evenly over the week's working days)."""
    whole = plans.period_plan(kpi, start, end)
    if whole is None or not kpi.is_summed:
        return whole
    weekly = plans.weeks.get((kpi.pk, start)) if period == "week" else None
    share = Decimal(0)
    for day in team_days:
        if weekly is not None:
            share += weekly / len(plans.working_days(start, end))
            continue
        month_plan = plans.month_plan(kpi, day)
        if month_plan is not None:
            share += month_plan / len(plans.working_days(*month_bounds(day)))
    return share


def _manager_row(
    kpi, inside, calendar, manager, period, start, end, *, plan: object = "own"
) -> dict | None:
    if kpi.aggregation == KPI.Aggregation.RATIO:
        top = [v[kpi.numerator.code] for v in inside.values() if kpi.numerator.code in v]
        bottom = [v[kpi.denominator.code] for v in inside.values() if kpi.denominator.code in v]
        if not bottom:
            return None
        s, n, days, last = sum(top, Decimal(0)), sum(bottom, Decimal(0)), len(bottom), None
    else:
        reported = sorted((day, v[kpi.code]) for day, v in inside.items() if kpi.code in v)
        if not reported:
            return None
        s = sum((value for _day, value in reported), Decimal(0))
        n = days = len(reported)
        last = reported[-1][1] if kpi.aggregation == KPI.Aggregation.LAST else None
    if plan == "own":
        plan = period_plan(
            company=manager.company,
            manager=manager,
            kpi=kpi,
            start=start,
            end=end,
            calendar=calendar,
        )
    return {
        "kpi_id": kpi.pk,
        "end": end,
        "value_sum": s,
        "value_count": Decimal(n),
        "days_reported": days,
        "last_value": last,
        "actual": q4(period_value(kpi, inside)),
        "plan": q4(q_exact(plan)),
        "plan_exact": q_exact(plan),
    }


def _group_row(kpi: KPI, members: list[dict]) -> dict:
    """A team's or the company's row; a silent member's row holds only their plan."""
    reporters = [m for m in members if not m["silent"]]
    s = sum((m["value_sum"] for m in reporters), Decimal(0))
    n = sum((m["value_count"] for m in reporters), Decimal(0))
    lasts = [m["last_value"] for m in reporters if m["last_value"] is not None]
    # A silent manager's plan is the team's to meet only where more is better and the KPI
    # adds up: elsewhere their unknown would be an allowance, or no part of the pool.
    whole_team = kpi.aggregation == KPI.Aggregation.SUM and kpi.direction == KPI.Direction.HIGHER
    planned = members if whole_team else reporters
    plans = [m["plan_exact"] for m in planned if m["plan_exact"] is not None]
    percent = kpi.unit == KPI.Unit.PERCENT
    last = (_mean(lasts) if percent else sum(lasts, Decimal(0))) if lasts else None
    averaged = kpi.aggregation in (KPI.Aggregation.AVERAGE, KPI.Aggregation.RATIO) or (
        kpi.aggregation == KPI.Aggregation.LAST and percent
    )
    plan = (_mean(plans) if averaged else sum(plans, Decimal(0))) if plans else None
    to_date = [m["plan_to_date_exact"] for m in planned if m["plan_to_date_exact"] is not None]
    plan_to_date = (_mean(to_date) if averaged else sum(to_date, Decimal(0))) if to_date else None
    if kpi.aggregation == KPI.Aggregation.SUM:
        actual = s
    elif kpi.aggregation == KPI.Aggregation.AVERAGE:
        actual = s / n if n else None
    elif kpi.aggregation == KPI.Aggregation.LAST:
        actual = last
    else:
        actual = None if n == 0 else (s * 100 / n if percent else s / n)
    actual, plan = q4(actual), q_exact(plan)
    running = members[0]["running"]
    forecast = None
    if running:
        if kpi.is_summed:
            # A silent manager's pace is nothing done.
            paces = [Decimal(0) for m in members if m["silent"]]
            paces += [m["actual"] if m["forecast"] is None else m["forecast"] for m in reporters]
            paces = [p for p in paces if p is not None]
            forecast = q4(sum(paces, Decimal(0))) if paces else None
        else:
            forecast = actual
    judged = [False for m in members if m["silent"]]
    judged += [m["meeting_plan"] for m in reporters if m["meeting_plan"] is not None]
    share = None
    if judged:
        share = (Decimal(sum(judged)) * 100 / len(judged)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
    return {
        "kpi_id": kpi.pk,
        "end": members[0]["end"],
        "value_sum": s,
        "value_count": n,
        "days_reported": sum(m["days_reported"] for m in reporters),
        "last_value": q4(last),
        "actual": actual,
        "plan": q4(plan),
        "plan_exact": plan,
        "plan_to_date_exact": q_exact(plan_to_date),
        "working_days": None,
        "elapsed_days": None,
        "forecast": forecast,
        "at_risk": bool(
            running and forecast is not None and plan is not None and _worse(forecast, plan, kpi)
        ),
        "meeting_plan": None,
        "share_meeting_plan": share,
        "running": running,
    }


def stored_totals(company: Company) -> dict[Key, dict]:
    from rollups.models import Total

    fields = [
        "end",
        "value_sum",
        "value_count",
        "days_reported",
        "last_value",
        "actual",
        "plan",
        "working_days",
        "elapsed_days",
        "forecast",
        "plan_to_date",
        "at_risk",
        "meeting_plan",
        "share_meeting_plan",
        "completion",
        "band",
    ]
    return {
        (t["scope"], t["subject_id"], t["kpi_id"], t["period"], t["start"]): {
            name: t[name] for name in fields
        }
        for t in Total.objects.filter(company=company).values(
            "scope", "subject_id", "kpi_id", "period", "start", *fields
        )
    }
