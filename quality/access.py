"""Who may score calls and see scores: controllers, heads of sales (their teams) and admins."""

import uuid

from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts import permissions
from accounts.models import User
from crm_sync.models import Call
from quality import selectors
from quality.models import CallScore, CallType


def call_get_for_scorer(*, actor: User, code: str) -> Call:
    """A call of the actor's company (404 otherwise) whose manager the actor scores (403
    otherwise, as `call_score_save` refuses it)."""
    call = get_object_or_404(
        Call.objects.filter(company_id=actor.company_id).select_related("manager__team", "client"),
        code=code,
    )
    permissions.require_score(actor, call.manager)
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
