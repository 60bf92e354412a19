"""Who may see whom and who may do what: the one home of these rules.

Services call the `may_*` checks (through `require`) with the acting user, so a page and the
API refuse the same write with the same 403 and message. Selectors and guards scope what is
shown through `in_view_of` and `teams_in_view_of`. `actor=None` in a service means the system
itself (demo data, imports, tasks), which no rule here limits.

The rules (DOMAIN.md's people):
- an admin (or a head who is also an admin) sees and configures the whole company;
- a head of sales sees the managers of the teams they lead, sets those managers' plans,
  corrects their reports on any day, scores their calls, and closes a past month;
- a role's default plan applies to the role's managers in every team, so only an admin sets it;
- a quality controller scores every manager's calls and sees no figures;
- a manager sees themselves.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from accounts.models import SalesRole, Team, User


def require(allowed: bool, message: str) -> None:
    """Refuses (403) with the reason the page and the API both show."""
    if not allowed:
        raise PermissionDenied(message)


# --- Who is in view ---------------------------------------------------------------------------


def in_view_of(actor: User) -> QuerySet[User]:
    """The managers (active or not) whose figures, reports, deals and scores the actor sees:
    an admin, the company's; a head of sales, those of the teams they lead; a manager, self."""
    managers = User.objects.filter(company_id=actor.company_id, role=User.Role.MANAGER)
    if actor.can_administer:
        return managers
    if actor.is_head:
        return managers.filter(team__head=actor)
    if actor.is_manager:
        return managers.filter(pk=actor.pk)
    return managers.none()


def teams_in_view_of(actor: User) -> QuerySet[Team]:
    """The teams whose totals the actor sees: an admin, all; a head, those they lead."""
    teams = Team.objects.filter(company_id=actor.company_id)
    if actor.can_administer:
        return teams
    if actor.is_head:
        return teams.filter(head=actor)
    return teams.none()


def users_listed_for(actor: User) -> QuerySet[User]:
    """The people whose names and codes an actor may look up (the API's users/): an admin,
    the company's; a head of sales, the managers they see and themselves; anyone else,
    nobody (the list is refused with `require_lead`)."""
    users = User.objects.filter(company_id=actor.company_id)
    if actor.can_administer:
        return users
    if actor.is_head:
        return users.filter(pk__in=in_view_of(actor).values("pk")) | users.filter(pk=actor.pk)
    return users.none()


def of_managers_in_view[M: Model](records: QuerySet[M], *, viewer: User) -> QuerySet[M]:
    """Records with a `manager`, as `viewer` may see them (`in_view_of`)."""
    if viewer.can_administer:
        return records  # the whole company's, whoever the record's user is
    if viewer.is_manager:
        return records.filter(manager_id=viewer.pk)  # in_view_of's self, without its subquery
    return records.filter(manager__in=in_view_of(viewer))


def may_see(actor: User, manager: User) -> bool:
    return _company(actor, manager) and (
        actor.can_administer or actor.pk == manager.pk or _leads(actor, manager)
    )


def scorable_by(actor: User) -> QuerySet[User]:
    """The managers whose calls the actor scores: a controller's and an admin's, every one;
    a head's, their teams'."""
    if actor.role == User.Role.QUALITY:
        return User.objects.filter(company_id=actor.company_id, role=User.Role.MANAGER)
    if actor.can_administer or actor.is_head:
        return in_view_of(actor)
    return User.objects.none()


# --- Who may do what --------------------------------------------------------------------------


def may_configure(actor: User) -> bool:
    """Users, teams, roles, KPIs and their sets, bands, the calendar, absences: admins."""
    return actor.can_administer


def may_plan(
    actor: User,
    *,
    manager: User | None = None,
    sales_role: SalesRole | None = None,
    team: Team | None = None,
) -> bool:
    """A manager's plan: an admin, or the head of the manager's team. A role's default plan is
    company-wide (every team's managers of the role inherit it): admins only. A team's plan
    grid: an admin, or the team's head. With none of them: whether the actor sets any plans."""
    if sales_role is not None:
        return may_plan_role_defaults(actor)
    if actor.can_administer:
        return True
    if not actor.is_head:
        return False
    if team is not None:
        return team.head_id == actor.pk and team.company_id == actor.company_id
    return manager is None or _leads(actor, manager)


def may_plan_role_defaults(actor: User) -> bool:
    """A sales role's default plan holds for the role's managers in every team: admins."""
    return actor.can_administer


def may_correct(actor: User, manager: User) -> bool:
    """A manager's report of any day (past the manager's own back-dating window): an admin, or
    the head of the manager's team."""
    return _company(actor, manager) and (actor.can_administer or _leads(actor, manager))


def may_lead(actor: User) -> bool:
    """The team's pages (dashboard, team reports, funnel, imports, client analysis): heads
    of sales and admins; what each shows is scoped by `in_view_of`."""
    return actor.is_head or actor.can_administer


def may_report(actor: User) -> bool:
    """Filing one's own end-of-day reports: a manager with a sales role (their KPIs)."""
    return actor.is_manager and actor.sales_role_id is not None


def may_close_month(actor: User) -> bool:
    return actor.can_administer or actor.is_head


def may_reopen_month(actor: User) -> bool:
    return actor.can_administer


def may_score(actor: User, manager: User | None = None) -> bool:
    """Scoring calls at all (`manager=None`), or one manager's calls."""
    if actor.role == User.Role.QUALITY or actor.can_administer:
        return manager is None or _company(actor, manager)
    if actor.is_head:
        return manager is None or _leads(actor, manager)
    return False


# --- The messages, one per refusal ------------------------------------------------------------


def require_configure(actor: User) -> None:
    require(may_configure(actor), _("Настраивает компанию только администратор."))


def require_lead(actor: User) -> None:
    require(may_lead(actor), _("Это страница руководителя отдела продаж и администратора."))


def require_report(actor: User) -> None:
    require(may_report(actor), _("Отчёт за день сдаёт менеджер с ролью в продажах."))


def require_plan(
    actor: User,
    *,
    manager: User | None = None,
    sales_role: SalesRole | None = None,
    team: Team | None = None,
) -> None:
    if sales_role is not None:
        message = _("План роли по умолчанию действует во всех командах: его ставит администратор.")
    else:
        message = _("Планы ставит администратор или руководитель команды менеджера.")
    require(may_plan(actor, manager=manager, sales_role=sales_role, team=team), message)


def require_correct(actor: User, manager: User) -> None:
    require(
        may_correct(actor, manager),
        _("Отчёты менеджера исправляет руководитель его команды или администратор."),
    )


def require_close_month(actor: User) -> None:
    require(
        may_close_month(actor),
        _("Закрывает месяц руководитель отдела продаж или администратор."),
    )


def require_reopen_month(actor: User) -> None:
    require(may_reopen_month(actor), _("Открыть закрытый месяц может только администратор."))


def require_score(actor: User, manager: User | None = None) -> None:
    require(
        may_score(actor, manager),
        _("Звонки оценивает контролёр качества, администратор или руководитель команды менеджера."),
    )


def _company(actor: User, manager: User) -> bool:
    return actor.company_id is not None and actor.company_id == manager.company_id


def _leads(actor: User, manager: User) -> bool:
    """The actor is the head of sales of the manager's team."""
    if not actor.is_head or manager.team_id is None or not _company(actor, manager):
        return False
    return manager.team.head_id == actor.pk
