"""The open dashboard's poll: a digest of what its figures block shows, so an unchanged block
is answered with "nothing changed" without being built."""

import datetime
import hashlib

from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Company, Team, User
from dashboard.selectors.attention import DROP_WEEKS, STATUS_DAYS_BACK
from kpi.models import Absence
from kpi.periods import Window
from reports.models import DailyReport
from rollups.models import Bucket, Scope

# The open dashboard's figures are re-rendered at least this often even when neither a report
# nor a total changed (a renamed KPI, new colour bands, a moved calendar day: settings).
STATE_SECONDS = 300


def figures_state(
    *,
    company: Company,
    viewer: User,
    managers: list[User],
    window: Window,
    today: datetime.date,
    variant: str,
    now: datetime.datetime | None = None,
) -> str:
    """A digest of what the dashboard's figures block shows, for answering its poll with
    "nothing changed" without building the block: three aggregate queries.

    It changes with the managers in view (and their names, teams, roles), any total the
    block reads (the viewer's managers, teams and, for an admin, the company, over the
    windows it compares) marked stale or recomputed, their reports and absences of the last
    days (the report statuses), the day, and `variant` (the window and sort asked for, the
    language); and every STATE_SECONDS whatever happens, which bounds how long a change of
    settings no total shows (a KPI's name) waits for the next full page load; a KPI's bands
    or a calendar day mark the totals they change (rollups.services.totals_mark).
    """
    now = now or timezone.now()
    month = Window.around("month", today)
    # The table compares with the previous window and its team lines with a year earlier; the
    # attention list compares the last full week with DROP_WEEKS before it.
    first = min(window.previous().start, month.start - datetime.timedelta(weeks=DROP_WEEKS + 2))
    earlier = window.year_earlier()
    ids = [m.pk for m in managers]
    recent = today - datetime.timedelta(days=STATUS_DAYS_BACK)
    # Every bucket the block reads: the managers', the viewer's teams', an admin's company's.
    subjects = Q(scope=Scope.MANAGER, subject_id__in=ids)
    if viewer.can_administer:
        subjects |= Q(scope__in=[Scope.TEAM, Scope.COMPANY])
    else:
        led = Team.objects.filter(company=company, head=viewer).values("pk")
        subjects |= Q(scope=Scope.TEAM, subject_id__in=led)
    spans = Q(end__gte=first, start__lte=max(window.end, month.end)) | Q(
        end__gte=earlier.start, start__lte=earlier.end
    )
    buckets = Bucket.objects.filter(spans, subjects, company=company).aggregate(
        count=Count("id"), marks=Sum("marks"), done=Sum("done")
    )
    # The reports and absences behind today's and the last working day's statuses.
    reports = DailyReport.objects.filter(
        company=company, manager_id__in=ids, date__gte=recent
    ).aggregate(count=Count("id"), last=Max(Coalesce("updated_at", "submitted_at")))
    absences = list(
        Absence.objects.filter(company=company, manager_id__in=ids, start__lte=today)
        .filter(end__gte=recent)
        .order_by("id")
        .values_list("manager_id", "start", "end")
    )
    facts = (
        viewer.pk,
        variant,
        today,
        # Each viewer's tick at its own offset: not every open dashboard re-renders at once.
        int(now.timestamp() + viewer.pk * 37) // STATE_SECONDS,
        [(m.pk, m.team_id, m.sales_role_id, m.last_name, m.first_name) for m in managers],
        buckets,
        reports,
        absences,
    )
    return hashlib.blake2b(repr(facts).encode(), digest_size=12).hexdigest()
