"""Guards: the dashboard is the head's and the admins'; a manager outside the view is 404."""

from django.shortcuts import get_object_or_404

from accounts.models import User
from accounts.permissions import require_lead
from accounts.selectors import managers_in_view


def manager_get_for_viewer(*, actor: User, code: str) -> User:
    """One of the managers the actor leads (an admin: any of the company's)."""
    found = get_object_or_404(
        User.objects.filter(company_id=actor.company_id, role=User.Role.MANAGER), code=code
    )
    require_lead(actor)
    return get_object_or_404(managers_in_view(company=actor.company, viewer=actor), pk=found.pk)
