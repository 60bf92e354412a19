"""Guards for KPI configuration: another company's object is 404, a wrong role 403."""

from django.shortcuts import get_object_or_404

from accounts import permissions
from accounts.access import get_for_admin, sales_role_get_for_admin
from accounts.models import Team, User
from kpi.models import KPI, Absence

__all__ = ["sales_role_get_for_admin"]


def kpi_get_for_admin(*, actor: User, uid: str) -> KPI:
    return get_for_admin(KPI, actor=actor, uid=uid)


def absence_get_for_admin(*, actor: User, code: str) -> Absence:
    return get_for_admin(Absence, actor=actor, code=code)


def team_get_for_planner(*, actor: User, code: str) -> Team:
    """Plans are set by the company's admins, and by a head of sales for their own team."""
    team = get_object_or_404(Team.objects.filter(company_id=actor.company_id), code=code)
    permissions.require_plan(actor, team=team)
    return team


def teams_for_planner(*, actor: User) -> list[Team]:
    permissions.require_plan(actor)
    return list(permissions.teams_in_view_of(actor))
