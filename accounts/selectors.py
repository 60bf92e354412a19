import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import ApiToken, AuditEvent, Company, SalesRole, Team, TeamMembership, User
from accounts.permissions import in_view_of, teams_in_view_of, users_listed_for
from salesdesk.statements import Fixed, Statement


def users_of_company(*, company: Company) -> QuerySet[User]:
    return User.objects.filter(company=company).select_related("team", "sales_role")


def users_in_view(*, company: Company, viewer: User) -> QuerySet[User]:
    """The users a viewer may look up by name (`permissions.users_listed_for`)."""
    return (
        users_listed_for(viewer)
        .filter(company=company)
        .select_related("team", "sales_role")
        .order_by("last_name", "first_name", "id")
    )


def managers_of_team(*, company: Company, team: Team) -> QuerySet[User]:
    """The team's active managers, grouped by sales role."""
    return (
        users_of_company(company=company)
        .filter(team=team, role=User.Role.MANAGER, is_active=True)
        .order_by("sales_role__name", "last_name", "first_name")
    )


def memberships_during(
    *,
    company: Company,
    start: datetime.date,
    end: datetime.date,
    teams: Iterable[int] | None = None,
    users: Iterable[int] | None = None,
) -> QuerySet[TeamMembership]:
    """Who was in which team at any time in [start, end] (`days_within` says when): the one
    answer to "the members of team T on day D". A manager counts in each team for the days
    spent in it (DOMAIN.md, teams and the company); rollups/engine.py reads the same rows."""
    found = TeamMembership.objects.filter(
        Q(effective_from__isnull=True) | Q(effective_from__lte=end),
        Q(effective_to__isnull=True) | Q(effective_to__gt=start),
        company=company,
    )
    if teams is not None:
        found = found.filter(team_id__in=list(teams))
    if users is not None:
        found = found.filter(user_id__in=list(users))
    return found.select_related("user")


def team_on(memberships: Iterable[TeamMembership], user_id: int, day: datetime.date) -> int | None:
    """The team the user was in on the day, among memberships read by memberships_during."""
    for membership in memberships:
        if membership.user_id == user_id and membership.days_within(day, day):
            return membership.team_id
    return None


def teams_with_counts(*, company: Company) -> QuerySet[Team]:
    active_managers = Q(members__role=User.Role.MANAGER, members__is_active=True)
    return (
        Team.objects.filter(company=company)
        .select_related("head")
        .annotate(manager_count=Count("members", filter=active_managers))
    )


def sales_roles_with_counts(*, company: Company) -> QuerySet[SalesRole]:
    return SalesRole.objects.filter(company=company).annotate(
        member_count=Count("members", filter=Q(members__is_active=True))
    )


def api_tokens_of_user(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(company_id=user.company_id, user=user)


def audit_events(*, company: Company, action: str | None = None) -> QuerySet[AuditEvent]:
    """The company's security log, newest first, optionally of one kind of action."""
    events = AuditEvent.objects.filter(company=company)
    if action in AuditEvent.Action.values:
        events = events.filter(action=action)
    return events.order_by("-at", "-id")


@dataclass(frozen=True)
class StructureWarning:
    message: str


def structure_warnings(*, company: Company) -> list[StructureWarning]:
    """Warnings about team sizes: shown to the admin, never enforced."""
    warnings = []
    span_max = settings.TEAM_SPAN_MAX
    # The span is per head of sales: one head leading two teams leads both teams' managers.
    spans: dict[User | Team, int] = {}
    for team in teams_with_counts(company=company):
        lead = team.head or team
        spans[lead] = spans.get(lead, 0) + team.manager_count
    for lead, count in spans.items():
        if count <= span_max:
            continue
        if isinstance(lead, Team):
            text = _(
                "В команде «%(who)s» %(count)d менеджеров и нет руководителя. Руководитель "
                "успевает по-настоящему работать не более чем с %(max)d: разделите команду "
                "и назначьте руководителей."
            )
        else:
            text = _(
                "У руководителя %(who)s %(count)d менеджеров. Руководитель успевает "
                "по-настоящему работать не более чем с %(max)d: разделите команду "
                "или назначьте второго руководителя."
            )
        warnings.append(StructureWarning(text % {"who": lead, "count": count, "max": span_max}))
    managers = users_of_company(company=company).filter(role=User.Role.MANAGER, is_active=True)
    minimum = settings.DEPARTMENT_MIN_MANAGERS
    count = managers.count()
    if count < minimum:
        warnings.append(
            StructureWarning(
                _(
                    "В отделе %(count)d менеджеров, а нужно хотя бы %(min)d: с меньшим "
                    "числом нет сравнения внутри отдела, и уход одного человека "
                    "останавливает продажи."
                )
                % {"count": count, "min": minimum}
            )
        )
    return warnings


def managers_in_view(*, company: Company, viewer: User) -> QuerySet[User]:
    """The managers a head leads (an admin: all the company's), active ones."""
    return (
        in_view_of(viewer)
        .filter(company=company, is_active=True)
        .select_related("team", "sales_role")
        .order_by("last_name", "first_name")
    )


def teams_in_view(*, company: Company, viewer: User) -> list[Team]:
    return _TEAMS_IN_VIEW(company=company.pk, **viewer_arguments(viewer))


def managers_in_view_list(*, company: Company, viewer: User) -> list[User]:
    """managers_in_view() read (the dashboard and its poll, on every request)."""
    return _MANAGERS_IN_VIEW(company=company.pk, **viewer_arguments(viewer))


def viewer_arguments(viewer: User) -> dict:
    """What in_view_of and teams_in_view_of ask of the viewer, as a Statement's arguments;
    its builder hands them to viewer_stand_in."""
    return {"viewer": viewer.pk, "role": Fixed(viewer.role), "admin": viewer.is_company_admin}


def viewer_stand_in(company: int, viewer: int, role: str, admin: bool) -> User:
    """The viewer of viewer_arguments inside a Statement's builder: a user with the same
    role, so that the rules of accounts.permissions decide what the statement reads."""
    return User(pk=viewer, company_id=company, role=role, is_company_admin=admin)


# The rules stay in accounts.permissions: the viewer is a stand-in with the same role.
_MANAGERS_IN_VIEW = Statement(
    lambda company, viewer, role, admin: managers_in_view(
        company=company, viewer=viewer_stand_in(company, viewer, role, admin)
    )
)
_TEAMS_IN_VIEW = Statement(
    lambda company, viewer, role, admin: (
        teams_in_view_of(viewer_stand_in(company, viewer, role, admin))
        .filter(company=company)
        .order_by("name")
    )
)


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    title: str
    detail: str
    url_name: str
    done: bool
    optional: bool = False
    # Another way to the same end: (its link's text, its URL name).
    alternative: tuple[str, str] | None = None


# The optional items an admin may dismiss (Company.checklist_dismissed).
CHECKLIST_OPTIONAL = ("crm", "telephony")


def setup_checklist(*, company: Company) -> list[ChecklistItem]:
    """A new company's first-run checklist, in the order the work is done, each item
    computed from the company's data. Empty once every item is done (or, for the optional
    ones, done or dismissed): the home page then shows nothing."""
    from crm_sync.models import Call, CRMConnection
    from kpi.models import Plan, RoleKPI
    from kpi.services import MAX_KPIS_PER_ROLE, MIN_KPIS_PER_ROLE
    from telephony.models import PBXConnection

    today = company.today()
    sizes = dict(
        SalesRole.objects.filter(company=company)
        .annotate(
            kpis=Count(
                "role_kpis",
                filter=Q(role_kpis__effective_from__lte=today)
                & (Q(role_kpis__effective_to__isnull=True) | Q(role_kpis__effective_to__gt=today)),
            )
        )
        .values_list("name", "kpis")
    )
    misfits = sorted(
        name for name, size in sizes.items() if not MIN_KPIS_PER_ROLE <= size <= MAX_KPIS_PER_ROLE
    )
    # The sample (accounts/sample.py) shows how things work; it does not set the company up.
    users = User.objects.filter(company=company, is_active=True, is_sample=False)
    managers = users.filter(role=User.Role.MANAGER)
    led_team = Team.objects.filter(
        company=company,
        head__isnull=False,
        head__is_sample=False,
        members__role=User.Role.MANAGER,
        members__is_sample=False,
    )
    # Everybody but the admins came in by invitation or with a temporary password.
    team_people = list(users.exclude(role=User.Role.ADMIN).exclude(email=""))
    invited = [user for user in team_people if not user.has_usable_password()]
    month = today.replace(day=1)
    planned_roles = set(
        Plan.objects.filter(company=company, start=month, sales_role__isnull=False).values_list(
            "sales_role_id", flat=True
        )
    )
    planned_managers = set(
        Plan.objects.filter(company=company, start=month, manager__isnull=False).values_list(
            "manager_id", flat=True
        )
    )
    unplanned = [
        m for m in managers if m.pk not in planned_managers and m.sales_role_id not in planned_roles
    ]
    items = [
        ChecklistItem(
            "roles",
            _("Роли в продажах и их KPI"),
            _("У каждой роли 2–5 KPI.")
            if not misfits
            else _("Не 2–5 KPI у ролей: %(roles)s.") % {"roles": ", ".join(misfits)},
            "sales-roles",
            done=bool(sizes) and not misfits and RoleKPI.objects.filter(company=company).exists(),
        ),
        ChecklistItem(
            "team",
            _("Команда, руководитель и менеджеры"),
            _("Приглашено %(invited)s, ещё не приняли %(pending)s; менеджеров: %(managers)s.")
            % {
                "invited": len(team_people),
                "pending": len(invited),
                "managers": managers.count(),
            },
            "user-list",
            done=led_team.exists() and not invited,
        ),
        ChecklistItem(
            "plans",
            _("Планы на этот месяц"),
            _("Без плана: %(count)s менеджеров.") % {"count": len(unplanned)}
            if managers
            else _("Сначала добавьте менеджеров."),
            "plans",
            done=managers.exists() and not unplanned,
        ),
        ChecklistItem(
            "crm",
            _("Подключить CRM (необязательно)"),
            _("amoCRM/Kommo или Битрикс24: сделки и суммы в отчёт сами."),
            "crm-connections",
            done=CRMConnection.objects.filter(company=company).exists(),
            optional=True,
        ),
        ChecklistItem(
            "telephony",
            _("Подключить телефонию (необязательно)"),
            _(
                "Mango Office, Zadarma/Новофон, Sipuni или UIS сами присылают звонки: "
                "звонки и разговоры в отчёт сами. Или загрузите файл звонков из АТС."
            ),
            "telephony-connections",
            done=PBXConnection.objects.filter(company=company).exists()
            or Call.objects.filter(company=company).exists(),
            optional=True,
            alternative=(_("Загрузить файл звонков"), "import-list"),
        ),
    ]
    shown = [
        item for item in items if not (item.optional and item.key in company.checklist_dismissed)
    ]
    return shown if any(not item.done for item in shown) else []
