"""A manager who moves teams counts in each team for the days spent in it (DOMAIN.md, teams
and the company): the old team keeps her days before the move, the new one has hers from the
move on, the company has all of them once, and no month before the move changes."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

from accounts import services as account_services
from accounts import tenancy
from accounts.models import Company, TeamMembership
from kpi import services as kpi_services
from kpi.periods import Window, month_bounds
from reports.selectors import team_report_status
from rollups import services
from rollups.figures import company_kpis, figures_of_subjects
from rollups.models import Total
from tests.rollups.reference import expected_totals, stored_totals
from tests.rollups.test_team_plan import Office, month_total, office, report, working_days

pytestmark = pytest.mark.django_db

FOUR = Decimal("0.0001")


def moved_on(o: Office, day: datetime.date, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ан moves from the first team to the second when the company's clock says `day`."""
    noon = datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)
    o.an.refresh_from_db()  # office() dated her joining back in the table
    real = Company.local_time
    with monkeypatch.context() as patch:
        patch.setattr(Company, "local_time", lambda self, moment=None: real(self, moment or noon))
        account_services.user_update(user=o.an, actor=o.admin, team=o.second)


def current(o: Office) -> None:
    """The rollup the changes queued leaves the totals equal to the reference and the nightly
    check finds nothing to fix."""
    services.rollup_run(company_id=o.company.pk)
    assert stored_totals(o.company) == expected_totals(o.company, o.company.local_time().date())
    assert services.totals_reconcile(company_id=o.company.pk).drift == 0


def share(part: int, whole: int) -> Decimal:
    return Decimal(100) * part / whole


def test_a_manager_who_moves_on_the_15th_counts_in_each_team_for_her_half(monkeypatch):
    o = office()
    with tenancy.tenant_context(o.company):
        days = working_days(o)
        move = o.month.replace(day=15)
        before = [day for day in days if day < move]
        for day in before:
            report(o, o.an, day, calls=10)
        moved_on(o, move, monkeypatch)
        for day in days[len(before) :]:
            report(o, o.an, day, calls=10)
        current(o)
        first = month_total(o, "team", o.first.pk, "calls")
        # Her 10 calls a day before the 15th, against Бо's 100 and her plan of those days.
        expected_plan = (Decimal(100) + share(len(before), len(days))).quantize(FOUR, ROUND_HALF_UP)
        assert (first.actual, first.days_reported) == (10 * len(before), len(before))
        assert first.plan == expected_plan
        second = month_total(o, "team", o.second.pk, "calls")
        after = len(days) - len(before)
        expected_plan = (Decimal(100) + share(after, len(days))).quantize(FOUR, ROUND_HALF_UP)
        assert (second.actual, second.days_reported) == (10 * after, after)
        assert second.plan == expected_plan
        # The company counts her month once: all her days, her whole plan.
        company = month_total(o, "company", o.company.pk, "calls")
        assert (company.actual, company.plan) == (10 * len(days), 300)
        own = month_total(o, "manager", o.an.pk, "calls")
        assert (own.actual, own.plan) == (10 * len(days), 100)


def test_a_silent_manager_who_moves_brings_each_team_her_share_of_the_plan(monkeypatch):
    o = office()
    with tenancy.tenant_context(o.company):
        days = working_days(o)
        move = o.month.replace(day=15)
        before = len([day for day in days if day < move])
        report(o, o.bo, days[0], calls=100)
        moved_on(o, move, monkeypatch)
        current(o)
        first = month_total(o, "team", o.first.pk, "calls")
        assert first.plan == (Decimal(100) + share(before, len(days))).quantize(FOUR, ROUND_HALF_UP)
        # Ан did not report: in each team she is one more who does not meet the plan.
        assert first.share_meeting_plan == Decimal("50.0")
        second = month_total(o, "team", o.second.pk, "calls")
        rest = len(days) - before
        assert second.plan == (Decimal(100) + share(rest, len(days))).quantize(FOUR, ROUND_HALF_UP)
        assert (second.actual, second.share_meeting_plan) == (0, Decimal("0.0"))
        assert month_total(o, "company", o.company.pk, "calls").plan == 300


def test_a_move_today_leaves_the_months_before_as_they_were_and_is_current_at_once():
    o = office()
    with tenancy.tenant_context(o.company):
        today = o.company.local_time().date()
        for day in working_days(o)[:3]:
            report(o, o.an, day, calls=10)
        report(o, o.an, today, calls=7)
        services.rollup_run(company_id=o.company.pk)
        past = {key: row for key, row in stored_totals(o.company).items() if row["end"] < today}
        assert month_total(o, "team", o.first.pk, "calls").actual == 30

        o.an.refresh_from_db()
        account_services.user_update(user=o.an, actor=o.admin, team=o.second)
        current(o)
        after = stored_totals(o.company)
        # Every period over before the move is as it was: last month is the first team's still.
        assert {key: after.get(key) for key in past} == past
        assert month_total(o, "team", o.first.pk, "calls").actual == 30
        second = month_total(o, "team", o.second.pk, "calls")
        assert second.actual == 0  # Ве's silence; nothing of Ан's from last month
        # Today is the move's day: her report of today is the new team's.
        this_month = today.replace(day=1)
        new = Total.objects.get(
            company=o.company,
            scope="team",
            subject_id=o.second.pk,
            kpi=o.kpis["calls"],
            period="day",
            start=today,
        )
        assert new.actual == 7
        old = Total.objects.filter(
            company=o.company,
            scope="team",
            subject_id=o.first.pk,
            kpi=o.kpis["calls"],
            period="month",
            start=this_month,
        ).first()
        assert old is None or old.actual == 0


def test_a_custom_range_counts_a_moved_manager_in_each_team_as_the_month_does(monkeypatch):
    o = office()
    with tenancy.tenant_context(o.company):
        for day in working_days(o):
            report(o, o.an, day, calls=10)
        # Her reports from the 15th on are the new team's, whenever they were filed.
        moved_on(o, o.month.replace(day=15), monkeypatch)
        current(o)
        kpis = company_kpis(company=o.company)
        calls = o.kpis["calls"].pk
        # The month as a custom range: the same figures as the month's stored totals.
        found = figures_of_subjects(
            company=o.company,
            window=Window("range", o.month, month_bounds(o.month)[1]),
            kpis=kpis,
            subjects={"team": [o.first.pk, o.second.pk], "company": [o.company.pk]},
        )
        for scope, subject in (("team", o.first.pk), ("team", o.second.pk)):
            stored = month_total(o, scope, subject, "calls")
            figure = found[(scope, subject, calls)]
            assert (figure.actual, figure.plan) == (stored.actual, stored.plan), scope
        assert found[("company", o.company.pk, calls)].plan == 300


def test_who_has_not_reported_lists_a_moved_manager_in_her_new_team():
    o = office()
    with tenancy.tenant_context(o.company):
        o.an.refresh_from_db()
        account_services.user_update(user=o.an, actor=o.admin, team=o.second)
        status = team_report_status(company=o.company, head=o.admin)
        found = {team.team.pk: {m.manager.pk for m in team.managers} for team in status}
        assert found == {o.first.pk: {o.bo.pk}, o.second.pk: {o.an.pk, o.ve.pk}}


def test_a_team_counts_a_manager_in_one_stay_as_in_the_same_stay_in_pieces():
    """The engine computes a manager who has been in one team all along once and adds her
    whole figures to the team (engine.py, whole_stays); the same days in the same team,
    recorded as two stays, go the way of a move. Both give the team the same totals."""
    o = office()
    with tenancy.tenant_context(o.company):
        days = working_days(o)
        for day in days[:12]:
            report(o, o.an, day, calls=10 + day.day)
        week = days[7] - datetime.timedelta(days=days[7].weekday())
        kpi_services.plan_set(
            company=o.company,
            kpi=o.kpis["calls"],
            start=week,
            period="week",
            value=Decimal(33),
            manager=o.an,
        )
        services.rollup_run(company_id=o.company.pk)
        assert Total.objects.filter(company=o.company, scope="team", period="week").exists()
        whole = stored_totals(o.company)
        TeamMembership.objects.filter(company=o.company, user=o.an).update(effective_to=days[6])
        TeamMembership.objects.create(
            company=o.company, user=o.an, team=o.first, effective_from=days[6]
        )
        reconciliation = services.totals_reconcile(company_id=o.company.pk)
        assert (reconciliation.written, reconciliation.deleted) == (0, 0)
        assert stored_totals(o.company) == whole
        assert whole == expected_totals(o.company, o.company.local_time().date())
