"""Guards: every tenant-owned object a view touches is fetched through one of these.

A code from another company is simply not found (404); a role that may not act gets 403.
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from accounts.models import ApiToken, SalesRole, Team, User


def require_admin(user: User) -> None:
    if not user.can_administer:
        raise PermissionDenied


def require_head_or_admin(user: User) -> None:
    if not (user.is_head or user.can_administer):
        raise PermissionDenied


def user_get_for_admin(*, actor: User, code: str) -> User:
    user = get_object_or_404(User.objects.filter(company_id=actor.company_id), code=code)
    require_admin(actor)
    return user


def team_get_for_admin(*, actor: User, code: str) -> Team:
    team = get_object_or_404(Team.objects.filter(company_id=actor.company_id), code=code)
    require_admin(actor)
    return team


def sales_role_get_for_admin(*, actor: User, code: str) -> SalesRole:
    role = get_object_or_404(SalesRole.objects.filter(company_id=actor.company_id), code=code)
    require_admin(actor)
    return role


def api_token_get_for_owner(*, actor: User, code: str) -> ApiToken:
    return get_object_or_404(
        ApiToken.objects.filter(company_id=actor.company_id, user=actor), code=code
    )
