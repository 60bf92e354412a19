"""The head's review: what the dashboard opens on, the week's report strip, when a pace is
raised, the leaderboard's benchmark, and the print and Excel versions of what is on screen."""

import dataclasses
import datetime
from decimal import Decimal

from accounts import tenancy
from dashboard.selectors.attention import (
    at_risk_shown,
    attention_list,
    pace_is_telling,
    review_window,
)
from dashboard.selectors.strip import report_strip
from dashboard.selectors.table import Cell, ManagerRow, RoleGroup, Summary, SummaryLine, _best
from kpi.calendar import calendar_for
from kpi.models import KPI
from kpi.periods import Window
from reports.selectors import missed_days, report_statuses
from rollups.figures import Figure


def running(kpi: KPI, *, elapsed: int, working: int = 21, actual: int = 10) -> Figure:
    """A running month's figure far behind its plan of 1000: forecast under plan, red."""
    forecast = Decimal(actual * working) / elapsed
    return Figure(
        kpi=kpi, actual=Decimal(actual), plan=Decimal(1000), completion=Decimal(1), band="red",
        working_days=working, elapsed_days=elapsed, forecast=forecast, at_risk=True,
        plan_to_date=Decimal(1000) * elapsed / working,
    )  # fmt: skip


def test_early_in_the_month_the_pace_is_not_raised_and_later_it_is(alpha):
    with tenancy.tenant_context(alpha.company):
        calls = KPI.objects.get(company=alpha.company, code="calls")
    early, late = running(calls, elapsed=2), running(calls, elapsed=7)
    assert early.at_risk and early.shown_band == "red"  # the figure itself is as defined
    assert not pace_is_telling(early) and not at_risk_shown(early)
    assert pace_is_telling(late) and at_risk_shown(late)
    # A week: from its second working day; a finished period is always telling.
    assert not pace_is_telling(running(calls, elapsed=1, working=5))
    assert pace_is_telling(running(calls, elapsed=2, working=5))
    # A team's total counts no days: its plan to date says how much of the period is gone.
    team = running(calls, elapsed=2)
    team = dataclasses.replace(team, elapsed_days=None, working_days=None)
    assert not pace_is_telling(team)
    team = dataclasses.replace(team, plan_to_date=Decimal(400))
    assert pace_is_telling(team)
    finished = Figure(
        kpi=calls, actual=Decimal(1), plan=Decimal(10), completion=Decimal(10), band="red"
    )
    assert pace_is_telling(finished)


def test_the_attention_list_does_not_flag_everyone_on_the_second_day(alpha):
    """Every manager far behind at the running month's pace: on its second working day
    nobody is named for it (they all reported), on its seventh every one is."""
    company = alpha.company
    with tenancy.tenant_context(company):
        calls = KPI.objects.get(company=company, code="calls")
        managers = list(alpha.managers)
        today = company.today()
        calendar = calendar_for(company=company)
        days = [today, today - datetime.timedelta(days=1)]
        everyone_reported = {(m.pk, d): "submitted" for m in managers for d in days}

        def named(elapsed: int) -> list:
            figures = {(m.pk, calls.pk): running(calls, elapsed=elapsed) for m in managers}
            return attention_list(
                company=company, viewer=alpha.head, managers=managers, calendar=calendar,
                statuses=everyone_reported, month_figures=figures,
            )  # fmt: skip

        assert named(2) == []
        late = named(7)
    assert len(late) == len(managers)
    assert all("под угрозой" in "; ".join(item.reasons) for item in late)


def test_the_best_on_the_role_is_never_a_zero(alpha):
    with tenancy.tenant_context(alpha.company):
        calls = KPI.objects.get(company=alpha.company, code="calls")
    zero = Figure(kpi=calls, actual=Decimal(0), plan=Decimal(10), completion=Decimal(0), band="red")
    rows = [ManagerRow(m, "submitted", [Cell(zero)]) for m in alpha.managers]
    assert _best(rows, 0) is None
    some = Figure(
        kpi=calls, actual=Decimal(4), plan=Decimal(10), completion=Decimal(40), band="red"
    )
    rows[1].cells = [Cell(some)]
    assert _best(rows, 0).manager == alpha.managers[1]
    group = RoleGroup(None, [calls], rows)
    assert group.leaders[0].manager == alpha.managers[1]


def test_the_plan_advice_is_said_once_for_all_its_kpis(alpha):
    with tenancy.tenant_context(alpha.company):
        kpis = list(KPI.objects.filter(company=alpha.company, code__in=["calls", "leads"]))
    low = [
        SummaryLine(kpi, Figure(kpi=kpi, actual=None, plan=None, completion=None, band="",
                                share_meeting_plan=Decimal(33)), None, None)
        for kpi in kpis
    ]  # fmt: skip
    ((advice, advised),) = Summary("Команда", low).advice
    assert "завышены" in advice and advised == kpis


def test_the_review_opens_on_the_last_working_day_or_on_monday_the_week(alpha):
    with tenancy.tenant_context(alpha.company):
        calendar = calendar_for(company=alpha.company)
    wednesday = datetime.date(2026, 11, 25)
    assert review_window(calendar, wednesday) == Window.around(
        "day", wednesday - datetime.timedelta(days=1)
    )
    monday = datetime.date(2026, 11, 23)
    assert review_window(calendar, monday) == Window.around("week", datetime.date(2026, 11, 20))
    sunday = datetime.date(2026, 11, 29)
    assert review_window(calendar, sunday) == Window.around("day", datetime.date(2026, 11, 27))


def joined_on(company, managers, day: datetime.date) -> None:
    for manager in managers:
        manager.date_joined = company.day_start(day)
        manager.save(update_fields=["date_joined"])


def test_the_strip_shows_a_day_off_as_a_day_off_and_the_future_unjudged(alpha):
    with tenancy.tenant_context(alpha.company):
        joined_on(alpha.company, alpha.managers, datetime.date(2026, 11, 1))
        calendar = calendar_for(company=alpha.company)
        sunday = datetime.date(2026, 11, 29)
        strip = report_strip(
            company=alpha.company, managers=list(alpha.managers), day=sunday,
            today=datetime.date(2026, 11, 26), calendar=calendar,
        )  # fmt: skip
    assert [d.weekday() for d in strip.days] == [0, 1, 2, 3, 4]
    row = strip.rows[0]
    assert row.days == ["missing", "missing", "missing", "pending", "future"]
    assert strip.next is None and strip.previous == datetime.date(2026, 11, 16)


def test_days_before_a_manager_joined_are_not_missed_reports(alpha):
    """Joined on a Wednesday: Monday and Tuesday are «not_joined» in the strip, in the
    team's statuses and in the manager's missed days alike (one rule: report_statuses)."""
    company = alpha.company
    newcomer = alpha.managers[2]
    with tenancy.tenant_context(company):
        today = company.today()
        monday = today - datetime.timedelta(days=today.weekday() + 7)
        wednesday = monday + datetime.timedelta(days=2)
        joined_on(company, [newcomer], wednesday)
        calendar = calendar_for(company=company)
        strip = report_strip(
            company=company, managers=[newcomer], day=monday, today=today, calendar=calendar
        )
        statuses = report_statuses(
            company=company, manager_ids=[newcomer.pk], days=[monday, wednesday],
            calendar=calendar,
        )  # fmt: skip
        missed = [m.day for m in missed_days(company=company, manager=newcomer)]
    (row,) = strip.rows
    assert row.days[:2] == ["not_joined", "not_joined"]
    assert strip.has_not_joined and row.missed == sum(1 for d in row.days if d == "missing")
    assert statuses[(newcomer.pk, monday)] == "not_joined"
    assert statuses[(newcomer.pk, wednesday)] in ("missing", "day_off", "absent")
    assert monday not in missed and all(day >= wednesday for day in missed)
