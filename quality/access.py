"""Who may score calls and see scores: controllers, heads of sales (their teams) and admins."""

import uuid

from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts import permissions
from accounts.models import User
from crm_sync.models import Call
from quality import selectors
from quality.models import CallScore, CallType


def can_score(user: User) -> bool:
    return permissions.may_score(user)


def require_scorer(user: User) -> None:
    permissions.require_score(user)


def call_get_for_scorer(*, actor: User, code: str) -> Call:
    """A call of a manager the actor checks (404 otherwise), for scorers only (403)."""
    managers = selectors.managers_to_check(company=actor.company, viewer=actor)
    call = get_object_or_404(
        Call.objects.filter(company_id=actor.company_id, manager__in=managers).select_related(
            "manager", "client"
        ),
        code=code,
    )
    require_scorer(actor)
    return call


def call_type_get(*, actor: User, code: str) -> CallType:
    """A call type of the actor's company by the code a query string carries (404 if not)."""
    try:
        uuid.UUID(code)
    except ValueError:
        raise Http404 from None
    return get_object_or_404(CallType.objects.filter(company_id=actor.company_id), code=code)


def score_get_for_viewer(*, actor: User, code: str) -> CallScore:
    """A score the actor may see: their own as a manager, their teams' as a head."""
    return get_object_or_404(
        selectors.scores_in_view(company=actor.company, viewer=actor), code=code
    )
