"""Guards for reports: another company's report is 404, one the user may not see 403."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from accounts.models import User
from reports.models import DailyReport


def may_see_reports_of(actor: User, manager: User) -> bool:
    """The manager, the head of the manager's team, and the company's admins."""
    if actor.pk == manager.pk or actor.can_administer:
        return True
    return actor.is_head and manager.team_id is not None and manager.team.head_id == actor.pk


def report_get_for_viewer(*, actor: User, code: str) -> DailyReport:
    report = get_object_or_404(
        DailyReport.objects.filter(company_id=actor.company_id).select_related(
            "manager__team", "manager__sales_role"
        ),
        code=code,
    )
    if not may_see_reports_of(actor, report.manager):
        raise PermissionDenied
    return report


def require_manager(actor: User) -> None:
    if not actor.is_manager or actor.sales_role_id is None:
        raise PermissionDenied
