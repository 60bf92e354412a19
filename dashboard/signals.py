"""Saving a user, a team or a company, or a setting the dashboard's figures block shows (a
KPI, a role, a role's set of KPIs), turns the company's figures version (every open
dashboard of the company reads it, whatever subjects it shows, and its digest carries it:
dashboard.selectors.poll.figures_state): their next poll then goes the whole way (login,
company, role: dashboard.views) and shows who is in view now and under which names, instead
of an answer from the cache (PollShortcutMiddleware)."""

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Company, SalesRole, Team, User
from kpi.models import KPI, RoleKPI
from rollups.services import figures_version_bump


@receiver(post_save, sender=User, dispatch_uid="dashboard-poll-user")
def user_saved(
    sender: type, instance: User, created: bool, update_fields: Any = None, **kwargs: Any
) -> None:
    # A login's last_login changes nothing a dashboard shows or who may see it.
    if created or instance.company_id is None or set(update_fields or ()) == {"last_login"}:
        return
    figures_version_bump(instance.company_id)


@receiver(post_save, sender=Team, dispatch_uid="dashboard-poll-team")
def team_saved(sender: type, instance: Team, **kwargs: Any) -> None:
    figures_version_bump(instance.company_id)


@receiver(post_save, sender=Company, dispatch_uid="dashboard-poll-company")
def company_saved(sender: type, instance: Company, created: bool, **kwargs: Any) -> None:
    if not created:
        figures_version_bump(instance.pk)


@receiver(post_save, sender=KPI, dispatch_uid="dashboard-poll-kpi")
@receiver(post_delete, sender=KPI, dispatch_uid="dashboard-poll-kpi-deleted")
@receiver(post_save, sender=RoleKPI, dispatch_uid="dashboard-poll-role-kpi")
@receiver(post_delete, sender=RoleKPI, dispatch_uid="dashboard-poll-role-kpi-deleted")
@receiver(post_save, sender=SalesRole, dispatch_uid="dashboard-poll-role")
@receiver(post_delete, sender=SalesRole, dispatch_uid="dashboard-poll-role-deleted")
def setting_saved(
    sender: type, instance: KPI | RoleKPI | SalesRole, created: bool = False, **kwargs: Any
) -> None:
    # Names, units and sets the block shows that no total carries. A new one shows nowhere
    # yet: a KPI or role until a set or a user has it (saving the user turns the version), a
    # role's set from its day, whose totals that marks (kpi.services._mark_role).
    if not created:
        figures_version_bump(instance.company_id)
