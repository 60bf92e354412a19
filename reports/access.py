"""Guards for reports: another company's report is 404, one the user may not see 403."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import User
from reports.models import DailyReport


def may_see_reports_of(actor: User, manager: User) -> bool:
    """The manager, and whoever may correct the manager's reports: the head, the admins."""
    return permissions.may_see(actor, manager)


def report_get_for_viewer(*, actor: User, code: str) -> DailyReport:
    report = get_object_or_404(
        DailyReport.objects.filter(company_id=actor.company_id).select_related(
            "manager__team", "manager__sales_role"
        ),
        code=code,
    )
    permissions.require(
        may_see_reports_of(actor, report.manager),
        _("Отчёты менеджера видят он сам, руководитель его команды и администратор."),
    )
    return report


def require_manager(actor: User) -> None:
    if not actor.is_manager or actor.sales_role_id is None:
        raise PermissionDenied
