"""The open dashboard's poll: a digest of what its figures block shows, so an unchanged block
is answered with "nothing changed" without being built."""

import contextlib
import datetime
import hashlib
import zlib
import zoneinfo
from collections.abc import Iterable

from django.core.cache import cache
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.models import Company, Team, User
from dashboard.selectors.attention import DROP_WEEKS, STATUS_DAYS_BACK
from kpi.periods import Window
from kpi.selectors import ABSENCES_OVERLAPPING
from reports.models import DailyReport
from rollups.models import Bucket, Scope
from rollups.selectors import figures_versions
from rollups.services import figures_version_key
from salesdesk.release import release
from salesdesk.statements import Statement

# The open dashboard's figures are re-rendered at least this often even when nothing it
# depends on turned a version: a safety net. What the block shows turns one when it changes:
# a report or total (rollups.services.figures_version_bump), the settings it shows (a KPI's
# name, a role's set, a team, a user, the company: dashboard.signals), a new release (the
# variant). At five minutes, a third of the open dashboards' re-rendered blocks at 18:00
# were this tick alone (bench/load.py).
STATE_SECONDS = 3600
# The figures block sends back the state it shows (figures_state) with its poll.
STATE_HEADER = "X-Figures-State"


def _tick(viewer_id: int, now: datetime.datetime) -> int:
    # Each viewer's tick at its own offset: not every open dashboard re-renders at once.
    return int(now.timestamp() + viewer_id * 37) // STATE_SECONDS


def _viewer_key(kind: str, viewer_id: int, variant: str) -> str:
    """The cache key of what is kept for one viewer's block in one variant: its state
    ("figures-state") or its rendered HTML ("figures-block")."""
    variant_hash = hashlib.blake2b(variant.encode(), digest_size=12).hexdigest()
    return f"dashboard:{kind}:{viewer_id}:{variant_hash}"


def _remembered_key(viewer_id: int, variant: str) -> str:
    return _viewer_key("figures-state", viewer_id, variant)


def _remembered(
    versions: tuple[str, ...], viewer_id: int, today: datetime.date, now: datetime.datetime
):
    return (versions, _tick(viewer_id, now), today.isoformat())


def poll_variant(request: HttpRequest) -> str:
    """What else the figures block depends on: the path (window, sort), the language, the
    release of the code that renders it (a deploy re-renders every open block once)."""
    return f"{request.get_full_path()} {request.LANGUAGE_CODE} {release()}"


def version_keys(
    *, company: Company, viewer: User, managers: list[User], team_ids: Iterable[int]
) -> list[str]:
    """The figures versions the viewer's block depends on (rollups.services.figures_version_bump):
    the company's (who is in view), and an admin's company scope (it turns with every
    subject) or a head's teams and managers. A report in another team turns none of a
    head's, so their poll stays a cache read."""
    keys = [figures_version_key(company.pk)]
    if viewer.can_administer:
        return [*keys, figures_version_key(company.pk, Scope.COMPANY, company.pk)]
    teams = {m.team_id for m in managers if m.team_id is not None}
    teams |= set(team_ids)
    keys += [figures_version_key(company.pk, Scope.TEAM, team) for team in sorted(teams)]
    keys += [figures_version_key(company.pk, Scope.MANAGER, m.pk) for m in managers]
    return keys


def state_unchanged(
    *,
    company_id: int,
    viewer_id: int,
    session_auth_hash: str,
    variant: str,
    seen: str,
    now: datetime.datetime | None = None,
) -> bool:
    """The poll's state is still the one last computed for this viewer and block, and none of
    the figures versions it depends on (version_keys: the company's and its subjects', turned
    by every marking and finished rollup of theirs, rollups.services.figures_version_bump)
    has turned since, nor the day or the tick: two cache reads, no query, before the user is
    loaded (PollShortcutMiddleware). The entry was written by a request that passed every
    check (login, company, role: dashboard.views) for this viewer of this company with this
    session hash; a new password changes the hash, and saving the user or the company
    (deactivated, role, suspended) turns the company's version (dashboard.signals), so that
    the next poll goes the whole way again. False sends the poll to figures_state."""
    now = now or timezone.now()
    try:
        remembered = cache.get(_remembered_key(viewer_id, variant))
        if remembered is None or len(remembered) != 6:
            return False
        at, state, company, zone, auth_hash, keys = remembered
        if company != company_id or state != seen:
            return False
        if not constant_time_compare(auth_hash, session_auth_hash):
            return False
        found = cache.get_many(keys)
    except Exception:  # the cache's own errors differ by backend
        return False
    if len(found) != len(keys):
        return False
    versions = tuple(found[key] for key in keys)
    today = now.astimezone(zoneinfo.ZoneInfo(zone)).date()
    return at == _remembered(versions, viewer_id, today, now)


def state_remember(
    *,
    company: Company,
    viewer: User,
    managers: list[User],
    team_ids: Iterable[int],
    variant: str,
    compute,
    now: datetime.datetime | None = None,
) -> str:
    """compute() (the block's figures_state), remembered for state_unchanged under the
    figures versions read before it: a change marked while it ran turns one of them. The
    state remembered for this viewer and block is reused while none of them, the day nor
    the tick has turned (state_unchanged's rule): the page, loaded every few polls, and a
    poll that sent an older state skip the three aggregates."""
    now = now or timezone.now()
    keys = version_keys(company=company, viewer=viewer, managers=managers, team_ids=team_ids)
    versions = figures_versions(keys)
    if versions is None:
        return compute()
    at = _remembered(versions, viewer.pk, company.today(), now)
    auth_hash = viewer.get_session_auth_hash()
    with contextlib.suppress(Exception):  # the cache's own errors differ by backend
        found = cache.get(_remembered_key(viewer.pk, variant))
        if (
            found is not None
            and len(found) == 6
            and found[0] == at
            and found[2:] == (company.pk, company.timezone, auth_hash, keys)
        ):
            return found[1]
    state = compute()
    remembered = (at, state, company.pk, company.timezone, auth_hash, keys)
    # A cache that is down costs the next poll its shortcut, nothing else.
    with contextlib.suppress(Exception):  # the cache's own errors differ by backend
        cache.set(_remembered_key(viewer.pk, variant), remembered, STATE_SECONDS)
    return state


def _block_key(viewer_id: int, variant: str) -> str:
    return _viewer_key("figures-block", viewer_id, variant)


def block_remembered(
    *, viewer_id: int, variant: str, state: str
) -> tuple[str, dict[str, str]] | None:
    """The figures block last rendered for this viewer and variant, if it was rendered at
    this state, and the running month's bands kept with it: the state is a digest of
    everything the block shows and of the running month's totals (figures_state), so the
    same state renders the same block and the same bands. The page, loaded every few polls,
    then draws the block its last poll drew instead of rendering it again. None: render it."""
    try:
        found = cache.get(_block_key(viewer_id, variant))
    except Exception:  # the cache's own errors differ by backend
        return None
    if found is None or len(found) != 3 or found[0] != state:
        return None
    return zlib.decompress(found[1]).decode(), found[2]


def block_remember(
    *, viewer_id: int, variant: str, state: str, html: str, seen_bands: dict[str, str]
) -> None:
    """Keeps the block rendered at `state` for block_remembered (compressed: ~50 KB of HTML
    for a team of seven is ~6 KB), with the running month's bands the page records as seen
    (dashboard.selectors.visits), as long as a state is remembered."""
    packed = (state, zlib.compress(html.encode(), 1), seen_bands)
    # A cache that is down costs the next page its shortcut, nothing else.
    with contextlib.suppress(Exception):  # the cache's own errors differ by backend
        cache.set(_block_key(viewer_id, variant), packed, STATE_SECONDS)


# A bucket is a day, a week or a month: one that overlaps a span [a, b] ends by b + 30 days.
LONGEST_BUCKET = datetime.timedelta(days=31)


def _buckets(
    company, ids, admin, viewer, first, last, latest, earlier_first, earlier_last, earlier_latest
):
    """Every bucket the block reads: the managers', the viewer's teams', an admin's company's,
    overlapping the two spans [first, last] (with their latest end, last + LONGEST_BUCKET). Each
    subject and span is its own range of the index on the subject's buckets by their end
    (bucket_subject_end), so the read is the spans' buckets, not every bucket of the
    subjects' history that ends after the earliest span begins."""
    subjects = [Q(scope=Scope.MANAGER, subject_id__in=ids)]
    if admin:
        subjects += [Q(scope=Scope.TEAM), Q(scope=Scope.COMPANY)]
    else:
        led = Team.objects.filter(company=company, head=viewer).values("pk")
        subjects += [Q(scope=Scope.TEAM, subject_id__in=led)]
    spans = [
        Q(end__gte=first, end__lte=latest, start__lte=last),
        Q(end__gte=earlier_first, end__lte=earlier_latest, start__lte=earlier_last),
    ]
    read = Q()
    for subject in subjects:
        for span in spans:
            read |= subject & span
    # One row (grouped by the one company), as an aggregate, without Django's outer query.
    return (
        Bucket.objects.filter(read, company=company)
        .order_by()
        .values("company")
        .annotate(count=Count("id"), marks=Sum("marks"), done=Sum("done"))
        .values_list("count", "marks", "done")
    )


# figures_state's three reads, compiled once (every poll that is not answered from the cache).
_BUCKETS = Statement(_buckets)
# The reports behind today's and the last working day's statuses (and the absences:
# kpi.selectors.ABSENCES_OVERLAPPING, which report_statuses reads).
_REPORTS = Statement(
    lambda company, ids, recent: (
        DailyReport.objects.filter(company=company, manager_id__in=ids, date__gte=recent)
        .order_by()
        .values("company")
        .annotate(count=Count("id"), last=Max(Coalesce("updated_at", "submitted_at")))
        .values_list("count", "last")
    )
)


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
    days (the report statuses), the day, `variant` (the window and sort asked for, the
    language, the release), the company's own figures version, which the settings the block
    shows turn when saved (a KPI's name, a role's KPIs: dashboard.signals; a KPI's bands or
    a calendar day also mark the totals they change, rollups.services.totals_mark); and
    every STATE_SECONDS whatever happens, a safety net.
    """
    now = now or timezone.now()
    month = Window.around("month", today)
    # The table compares with the previous window and its team lines with a year earlier; the
    # attention list compares the last full week with DROP_WEEKS before it.
    first = min(window.previous().start, month.start - datetime.timedelta(weeks=DROP_WEEKS + 2))
    earlier = window.year_earlier()
    ids = [m.pk for m in managers]
    recent = today - datetime.timedelta(days=STATUS_DAYS_BACK)
    last = max(window.end, month.end)
    buckets = _BUCKETS(
        company=company.pk, ids=ids, admin=viewer.can_administer, viewer=viewer.pk,
        first=first, last=last, latest=last + LONGEST_BUCKET, earlier_first=earlier.start,
        earlier_last=earlier.end, earlier_latest=earlier.end + LONGEST_BUCKET,
    ) or [(0, None, None)]  # fmt: skip
    reports = _REPORTS(company=company.pk, ids=ids, recent=recent) or [(0, None)]
    absences = sorted(
        ABSENCES_OVERLAPPING(company=company.pk, ids=ids, first=recent, last=today)
    )  # in one order, for the digest
    facts = (
        viewer.pk,
        variant,
        today,
        _tick(viewer.pk, now),
        figures_versions([figures_version_key(company.pk)]),
        [(m.pk, m.team_id, m.sales_role_id, m.last_name, m.first_name) for m in managers],
        buckets,
        reports,
        absences,
    )
    return hashlib.blake2b(repr(facts).encode(), digest_size=12).hexdigest()
