"""The nightly check in time proportional to change: recent months, then a rotating slice."""

import datetime
from decimal import Decimal

from django.utils import timezone

from accounts import tenancy
from kpi.periods import month_bounds, shift_months
from reports.models import DailyReport
from rollups import services, tasks
from rollups.models import Reconciliation, Total
from tests.rollups.reference import stored_totals
from tests.rollups.test_rollup import report, today_of

# Months back with a report each: clear of the month the alpha cast closed (two back).
OLD_MONTHS = range(3, 9)


def history(cast) -> dict[int, datetime.date]:
    """A report in each of six old months, totals rolled up and checked in full."""
    today = today_of(cast)
    days = {back: shift_months(today, -back) + datetime.timedelta(days=9) for back in OLD_MONTHS}
    with tenancy.tenant_context(cast.company):
        for back, day in days.items():
            report(cast, cast.managers[1], day, calls=10 + back)
    services.rollup_run(company_id=cast.company.pk)
    assert services.totals_reconcile(company_id=cast.company.pk).drift == 0
    return days


def corrupt(cast, day: datetime.date, *, manager: int = 1) -> int:
    """A manager's month totals (one per KPI) get a wrong actual; how many."""
    with tenancy.tenant_context(cast.company):
        month = Total.objects.filter(
            company=cast.company,
            scope="manager",
            subject_id=cast.managers[manager].pk,
            period="month",
            start=month_bounds(day)[0],
        )
        corrupted = month.update(actual=Decimal("1.2345"))
    assert corrupted > 0
    return corrupted


def test_the_rotation_finds_an_old_drift_within_its_cycle(alpha):
    days = history(alpha)
    with tenancy.tenant_context(alpha.company):
        right = stored_totals(alpha.company)
    oldest = days[max(OLD_MONTHS)]
    corrupted = corrupt(alpha, oldest)
    # The months below the running and the previous one, back to the oldest report: -2 … -8.
    old_months = max(OLD_MONTHS) - 1
    cycle = services.verification_cycle(months_of_history=old_months)
    assert cycle == 5
    found = []
    for _night in range(cycle):
        reconciliation = services.totals_verify(company_id=alpha.company.pk)
        assert not reconciliation.full
        found.append(reconciliation.drift)
    # The first night checks the two months below the recent ones, not the oldest.
    assert found[0] == 0
    assert sum(found) == found[cycle - 2] == corrupted
    with tenancy.tenant_context(alpha.company):
        assert stored_totals(alpha.company) == right
        slices = list(
            Reconciliation.objects.filter(company=alpha.company, full=False)
            .order_by("started_at")
            .values_list("rotation_from", "rotation_to")
        )
    today = today_of(alpha)
    assert slices[0] == (shift_months(today, -3), shift_months(today, -1) - datetime.timedelta(1))
    assert slices[1] == (shift_months(today, -5), shift_months(today, -3) - datetime.timedelta(1))
    # Having walked past the first report, the rotation starts again from the newest.
    assert slices[cycle - 1] == slices[0]


def test_the_running_month_and_a_month_edited_since_are_checked_the_same_night(alpha):
    days = history(alpha)
    with tenancy.tenant_context(alpha.company):
        right = stored_totals(alpha.company)
        edited = days[6]
        DailyReport.objects.filter(company=alpha.company, date=edited).update(
            updated_at=timezone.now()
        )
    corrupted = corrupt(alpha, edited)
    # The cast's manager 1 reported yesterday.
    corrupted += corrupt(alpha, today_of(alpha) - datetime.timedelta(days=1), manager=0)
    nightly = tasks.reconcile_company.apply(args=[alpha.company.pk]).get()
    assert nightly["drift"] == corrupted
    with tenancy.tenant_context(alpha.company):
        assert stored_totals(alpha.company) == right


def test_a_total_with_nothing_behind_it_is_deleted_by_the_rotation(alpha):
    history(alpha)
    with tenancy.tenant_context(alpha.company):
        right = stored_totals(alpha.company)
        bogus = Total.objects.filter(company=alpha.company, period="day").first()
        Total.objects.filter(pk=bogus.pk).update(
            start=shift_months(today_of(alpha), -4) + datetime.timedelta(days=20),
            end=shift_months(today_of(alpha), -4) + datetime.timedelta(days=20),
        )
    drift = [services.totals_verify(company_id=alpha.company.pk) for _night in range(2)]
    assert [r.deleted for r in drift] == [0, 1]
    assert sum(r.written for r in drift) == 1  # the moved total's own day, written back
    with tenancy.tenant_context(alpha.company):
        assert stored_totals(alpha.company) == right
