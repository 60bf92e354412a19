"""Guards for reports: another company's report is 404, one the user may not see 403."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import User
from reports.models import DailyReport


def report_get_for_viewer(*, actor: User, code: str) -> DailyReport:
    report = get_object_or_404(
        DailyReport.objects.filter(company_id=actor.company_id).select_related(
            "manager__team", "manager__sales_role"
        ),
        code=code,
    )
    permissions.require(
        permissions.may_see(actor, report.manager),
        _("Отчёты менеджера видят он сам, руководитель его команды и администратор."),
    )
    return report
