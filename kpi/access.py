"""Guards for KPI configuration: another company's object is 404, a wrong role 403."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from accounts.access import get_for_admin, sales_role_get_for_admin
from accounts.models import Team, User
from kpi.models import KPI, Absence

__all__ = ["sales_role_get_for_admin"]


def kpi_get_for_admin(*, actor: User, uid: str) -> KPI:
    return get_for_admin(KPI, actor=actor, uid=uid)


def absence_get_for_admin(*, actor: User, code: str) -> Absence:
    return get_for_admin(Absence, actor=actor, code=code)


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
