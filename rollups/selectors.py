"""Reading the stored totals: what dashboards and the API show."""

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Company, User
from accounts.permissions import in_view_of, teams_in_view_of
from kpi.periods import period_start
from reports.figures import Sides, figure_sides, sides_by_group
from rollups.models import Period, Scope, Total

# DOMAIN.md: below 60 % of a team meeting plan the plans are too high, above 90 % too easy.
PLANS_TOO_HIGH_BELOW = Decimal(60)
PLANS_TOO_EASY_ABOVE = Decimal(90)


def plan_advice(share: Decimal | None) -> str:
    """What the share of a team meeting its plans says about the plans ('' when nothing)."""
    if share is None:
        return ""
    if share < PLANS_TOO_HIGH_BELOW:
        return _("План выполняют меньше %(share)s команды: планы, похоже, завышены.") % {
            "share": "60 %"
        }
    if share > PLANS_TOO_EASY_ABOVE:
        return _("План выполняют больше %(share)s команды: планы, похоже, слишком лёгкие.") % {
            "share": "90 %"
        }
    return ""


def visible_totals(*, company: Company, viewer: User | None) -> QuerySet[Total]:
    """An admin sees the company's totals; a head, those of their teams and managers and the
    company's; anyone else, their own. No viewer: the company itself (a company token)."""
    totals = Total.objects.filter(company=company)
    if viewer is None or viewer.can_administer:
        return totals
    managers = list(in_view_of(viewer).values_list("pk", flat=True))
    if viewer.is_head:
        teams = list(teams_in_view_of(viewer).values_list("pk", flat=True))
        return totals.filter(
            Q(scope=Scope.COMPANY)
            | Q(scope=Scope.TEAM, subject_id__in=teams)
            | Q(scope=Scope.MANAGER, subject_id__in=managers)
        )
    return totals.filter(scope=Scope.MANAGER, subject_id__in=managers)


def totals_of_period(
    *, company: Company, viewer: User | None, period: str, start: datetime.date
) -> QuerySet[Total]:
    return (
        visible_totals(company=company, viewer=viewer)
        .filter(period=period, start=period_start(period, start))
        .select_related("kpi")
        .order_by("scope", "subject_id", "kpi__code")
    )


@dataclass(frozen=True)
class Benchmark:
    """The best manager on a sales role for one KPI over a period."""

    sales_role_id: int
    kpi_id: int
    manager_id: int
    completion: Decimal
    actual: Decimal | None


def best_on_role(
    *, company: Company, period: str = Period.MONTH, start: datetime.date
) -> dict[tuple[int, int], Benchmark]:
    """(sales role, KPI) → the manager with the highest completion (ties: the larger actual)."""
    roles = dict(
        User.objects.filter(company=company, sales_role__isnull=False).values_list(
            "pk", "sales_role_id"
        )
    )
    best: dict[tuple[int, int], Benchmark] = {}
    rows = Total.objects.filter(
        company=company,
        scope=Scope.MANAGER,
        period=period,
        start=period_start(period, start),
        completion__isnull=False,
    ).values_list("subject_id", "kpi_id", "completion", "actual")
    for manager_id, kpi_id, completion, actual in rows:
        if manager_id not in roles:
            continue
        key = (roles[manager_id], kpi_id)
        current = best.get(key)
        candidate = Benchmark(key[0], kpi_id, manager_id, completion, actual)
        if current is None or (completion, actual or 0) > (current.completion, current.actual or 0):
            best[key] = candidate
    return best


def totals_sides(*, company: Company, totals: Sequence[Total]) -> dict[tuple[str, int, int], Sides]:
    """(scope, subject, KPI) → the manager's and the source's figures of totals of one period
    where the KPI is checked against a source (reports/figures.py); a team's and the
    company's add up their managers'."""
    if not totals:
        return {}
    start, end = totals[0].start, totals[0].end
    members = list(
        User.objects.filter(company=company, role=User.Role.MANAGER).values_list("pk", "team_id")
    )
    kpis = {total.kpi_id: total.kpi for total in totals}.values()
    found = figure_sides(
        company=company, manager_ids=[pk for pk, _team in members], kpis=kpis, start=start, end=end
    )
    sides = {(Scope.MANAGER, m, k): s for (m, k), s in found.items()}
    groups: dict[tuple[str, int], list[int]] = {(Scope.COMPANY, company.pk): []}
    for pk, team_id in members:
        groups[Scope.COMPANY, company.pk].append(pk)
        if team_id is not None:
            groups.setdefault((Scope.TEAM, team_id), []).append(pk)
    for (scope, subject), ids in groups.items():
        for (_subject, kpi_id), both in sides_by_group(found, {subject: ids}).items():
            sides[scope, subject, kpi_id] = both
    return sides


def figures_versions(keys: Sequence[str]) -> tuple[str, ...] | None:
    """The figures versions under these keys (rollups.services.figures_version_key), each set
    when the cache has none; None when the cache cannot be asked."""
    try:
        found = cache.get_many(keys)
        missing = [key for key in keys if key not in found]
        if missing:
            for key in missing:
                cache.add(key, uuid.uuid4().hex, None)
            found |= cache.get_many(missing)
    except Exception:  # the cache's own errors differ by backend
        return None
    if len(found) != len(keys):
        return None
    return tuple(found[key] for key in keys)
