"""Guards: every tenant-owned object a view touches is fetched through one of these.

A code from another company is simply not found (404); a role that may not act gets 403,
by the rule of `accounts.permissions` (the one home of who may do what).
"""

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import ApiToken, CompanyToken, SalesRole, Team, User
from accounts.permissions import require_configure, require_lead, users_listed_for


def get_or_404[M: Model](queryset: QuerySet[M], **lookup: object) -> M:
    """`get_object_or_404` for codes that come from a form: one that is not even a UUID is
    not found either (Django raises ValidationError for it, which would be a 500)."""
    try:
        return get_object_or_404(queryset, **lookup)
    except ValidationError as error:
        raise Http404 from error


def get_for_admin[M: Model](model: type[M], *, actor: User, **lookup: object) -> M:
    """The actor's company's object (404 otherwise), for company admins only (403 otherwise)."""
    found = get_or_404(model.objects.filter(company_id=actor.company_id), **lookup)
    require_configure(actor)
    return found


def user_get_for_admin(*, actor: User, code: str) -> User:
    return get_for_admin(User, actor=actor, code=code)


def user_get_for_viewer(*, actor: User, code: str) -> User:
    """A user the actor may look up (an admin: anyone of the company; a head: the managers
    they see and themselves); anyone else is not found, as another company's would be."""
    require_lead(actor)
    return get_or_404(users_listed_for(actor), code=code)


def team_get_for_admin(*, actor: User, code: str) -> Team:
    return get_for_admin(Team, actor=actor, code=code)


def sales_role_get_for_admin(*, actor: User, code: str) -> SalesRole:
    return get_for_admin(SalesRole, actor=actor, code=code)


def company_token_get_for_admin(*, actor: User, code: str) -> CompanyToken:
    return get_for_admin(CompanyToken, actor=actor, code=code)


def api_token_get_for_owner(*, actor: User, code: str) -> ApiToken:
    return get_object_or_404(
        ApiToken.objects.filter(company_id=actor.company_id, user=actor), code=code
    )
