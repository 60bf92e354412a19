"""What the dashboard costs: its figures read together, the same figures as read one by one."""

import datetime

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import tenancy
from kpi.periods import Window
from rollups.figures import FiguresRead, company_kpis, figures_of_reads, figures_of_subjects
from rollups.models import Scope


def subjects_of(known) -> tuple[dict, dict]:
    cast = known.cast
    managers = {Scope.MANAGER: [m.pk for m in cast.managers]}
    return managers, {**managers, Scope.TEAM: [cast.team.pk]}


def one_read(company, kpis, read: FiguresRead) -> dict:
    return figures_of_subjects(
        company=company, window=read.window, kpis=kpis, subjects=read.subjects, plans=read.plans
    )


def test_it_reads_every_bucket_window_in_one_query_with_the_figures_of_each(known):
    cast = known.cast
    month = Window("month", known.start, known.end)
    managers, everyone = subjects_of(known)
    reads = [
        FiguresRead(month, everyone),
        FiguresRead(month.previous(), everyone, plans=False),
        FiguresRead(Window.around("week", known.days[0]), {Scope.TEAM: [cast.team.pk]}),
        # The same window for other subjects: each read gets only its own.
        FiguresRead(month, managers),
    ]
    with tenancy.tenant_context(cast.company):
        kpis = company_kpis(company=cast.company)
        with CaptureQueriesContext(connection) as captured:
            together = figures_of_reads(company=cast.company, kpis=kpis, reads=reads)
        one_by_one = [one_read(cast.company, kpis, read) for read in reads]
    assert len(captured) == 1, [q["sql"] for q in captured]
    assert together == one_by_one
    assert together[0] and together[2]
    assert {scope for scope, _m, _k in together[3]} == {Scope.MANAGER}


def test_it_sums_ranges_that_share_no_day_together_and_overlapping_ones_apart(known):
    cast = known.cast
    _managers, everyone = subjects_of(known)
    first, second = known.days
    apart = [
        FiguresRead(Window("range", known.start, first), everyone, plans=False),
        FiguresRead(Window("range", second, known.end), everyone, plans=False),
    ]
    overlapping = [
        FiguresRead(Window("range", known.start, second), everyone, plans=False),
        FiguresRead(Window("range", first, known.end), everyone),
    ]
    found = {}
    with tenancy.tenant_context(cast.company):
        kpis = company_kpis(company=cast.company)
        for name, reads in (("apart", apart), ("overlapping", overlapping)):
            together = found[name] = figures_of_reads(company=cast.company, kpis=kpis, reads=reads)
            one_by_one = [one_read(cast.company, kpis, read) for read in reads]
            assert together == one_by_one
            assert all(together)
    calls = next(pk for pk, kpi in kpis.items() if kpi.code == "calls")
    a = cast.managers[0].pk
    # A's 100 calls on the first day and 200 on the second, each in its own range.
    assert [figures[(Scope.MANAGER, a, calls)].actual for figures in found["apart"]] == [100, 200]


def test_the_page_reads_its_stored_totals_in_two_queries(client, known):
    """The window's, the period before's, a year earlier's, the month's and the running
    month's figures in one query, the weeks behind a sharp drop in another (four and one
    before); reloaded while nothing in the block changed, the page draws the block it drew
    and reads no totals at all (the running month's bands, which «since your last visit»
    records, are kept with the block)."""
    client.force_login(known.cast.head)
    for query in ("", f"?period=month&start={known.start.isoformat()}", "?period=day"):
        client.get(reverse("dashboard") + query)
        cache.clear()  # no block remembered: the page renders it
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("dashboard") + query).status_code == 200
        totals = [q["sql"] for q in captured if 'FROM "rollups_total"' in q["sql"]]
        assert len(totals) == 2, (query, totals)
        with CaptureQueriesContext(connection) as again:
            assert client.get(reverse("dashboard") + query).status_code == 200
        totals = [q["sql"] for q in again if 'FROM "rollups_total"' in q["sql"]]
        assert totals == [], query


def test_the_report_statuses_still_judge_a_manager_from_an_earlier_first_report(known):
    """History brought in before joining: the days before the first report are «not_joined»,
    the first report's day on is judged (the first report is found without a Min over every
    report)."""
    from kpi.calendar import calendar_for
    from reports.selectors import report_statuses

    cast = known.cast
    manager = cast.managers[0]
    first = known.days[0]
    before = first - datetime.timedelta(days=1)
    with tenancy.tenant_context(cast.company):
        statuses = report_statuses(
            company=cast.company, manager_ids=[manager.pk], days=[before, first],
            calendar=calendar_for(company=cast.company),
        )  # fmt: skip
    assert statuses[(manager.pk, before)] in ("not_joined", "day_off")
    assert statuses[(manager.pk, first)] in ("submitted", "late")
