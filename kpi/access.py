"""Guards for KPI configuration: another company's object is 404, a wrong role 403."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from accounts.access import require_admin
from accounts.models import SalesRole, Team, User
from kpi.models import KPI, Absence


def kpi_get_for_admin(*, actor: User, uid: str) -> KPI:
    kpi = get_object_or_404(KPI.objects.filter(company_id=actor.company_id), uid=uid)
    require_admin(actor)
    return kpi


def sales_role_get_for_admin(*, actor: User, code: str) -> SalesRole:
    role = get_object_or_404(SalesRole.objects.filter(company_id=actor.company_id), code=code)
    require_admin(actor)
    return role


def absence_get_for_admin(*, actor: User, code: str) -> Absence:
    absence = get_object_or_404(Absence.objects.filter(company_id=actor.company_id), code=code)
    require_admin(actor)
    return absence


def require_planner(actor: User) -> None:
    if not (actor.can_administer or actor.is_head):
        raise PermissionDenied


def team_get_for_planner(*, actor: User, code: str) -> Team:
    """Plans are set by the company's admins, and by a head of sales for their own team."""
    team = get_object_or_404(Team.objects.filter(company_id=actor.company_id), code=code)
    if not (actor.can_administer or (actor.is_head and team.head_id == actor.pk)):
        raise PermissionDenied
    return team


def teams_for_planner(*, actor: User) -> list[Team]:
    require_planner(actor)
    teams = Team.objects.filter(company_id=actor.company_id)
    if not actor.can_administer:
        teams = teams.filter(head=actor)
    return list(teams)
