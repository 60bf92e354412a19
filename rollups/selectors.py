"""Reading the stored totals: what dashboards and the API show."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Company, User
from accounts.permissions import in_view_of, teams_in_view_of
from kpi.periods import period_start
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


def visible_totals(*, company: Company, viewer: User) -> QuerySet[Total]:
    """An admin sees the company's totals; a head, those of their teams and managers and the
    company's; anyone else, their own."""
    totals = Total.objects.filter(company=company)
    if viewer.can_administer:
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
    *, company: Company, viewer: User, period: str, start: datetime.date
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
