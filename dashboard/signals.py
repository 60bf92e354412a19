"""Saving a user, a team or a company turns the company's figures version (every open
dashboard of the company reads it, whatever subjects it shows): their next poll then goes
the whole way (login, company, role: dashboard.views) and shows who is in view now, instead
of an answer from the cache (PollShortcutMiddleware)."""

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import Company, Team, User
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
