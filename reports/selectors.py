import datetime
from dataclasses import dataclass

from django.db.models import Max, QuerySet
from django.utils import timezone

from accounts.models import Company, Team, User
from reports.models import DailyReport


def recent_reports_of_manager(
    *, company: Company, manager: User, days: int = 14
) -> QuerySet[DailyReport]:
    since = timezone.localdate() - datetime.timedelta(days=days)
    return (
        DailyReport.objects.filter(company=company, manager=manager, date__gte=since)
        .prefetch_related("values__kpi")
        .order_by("-date")
    )


@dataclass(frozen=True)
class ManagerStatus:
    manager: User
    last_report: datetime.date | None
    reported_today: bool


@dataclass(frozen=True)
class TeamStatus:
    team: Team
    managers: list[ManagerStatus]


def team_report_status(*, company: Company, head: User) -> list[TeamStatus]:
    """Teams the user sees (a head: own; an admin: all), with each manager's last report."""
    teams = Team.objects.filter(company=company)
    if not head.can_administer:
        teams = teams.filter(head=head)
    today = timezone.localdate()
    managers = (
        User.objects.filter(company=company, team__in=teams, role=User.Role.MANAGER, is_active=True)
        .select_related("sales_role")
        .order_by("last_name")
    )
    last_reports = dict(
        DailyReport.objects.filter(company=company, manager__in=managers)
        .order_by()
        .values("manager_id")
        .annotate(last=Max("date"))
        .values_list("manager_id", "last")
    )
    by_team: dict[int, list[ManagerStatus]] = {}
    for manager in managers:
        last = last_reports.get(manager.pk)
        by_team.setdefault(manager.team_id, []).append(ManagerStatus(manager, last, last == today))
    return [TeamStatus(team, by_team.get(team.pk, [])) for team in teams]
