import datetime
import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts import permissions, tenancy
from accounts.audit import audit_record
from accounts.models import (
    ApiToken,
    AuditEvent,
    Company,
    LoginName,
    SalesRole,
    Team,
    TeamMembership,
    User,
)
from rollups import services as rollups
from rollups.changes import ManagerJoined, ManagerMoved

DEFAULT_SALES_ROLES = [
    (SalesRole.Kind.HUNTER, "Хантер"),
    (SalesRole.Kind.CLOSER, "Клоузер"),
    (SalesRole.Kind.FARMER, "Фермер"),
]


def company_create(
    *,
    name: str,
    login_prefix: str | None = None,
    country: str = "RU",
    timezone: str = "Europe/Moscow",
    currency: str = "RUB",
) -> Company:
    """A new tenant: the three standard sales roles, the KPI catalogue, a pipeline and two
    call-quality checklists."""
    from crm_sync.services import stages_install_defaults
    from kpi.services import catalogue_install
    from quality.services import checklists_install_defaults

    with transaction.atomic():
        company = Company(
            name=name,
            login_prefix=login_prefix,
            country=country,
            timezone=timezone,
            currency=currency,
        )
        company.full_clean(exclude=["code"])
        company.save()
        with tenancy.tenant_context(company):
            for kind, role_name in DEFAULT_SALES_ROLES:
                SalesRole.objects.create(company=company, kind=kind, name=role_name)
            catalogue_install(company=company)
            stages_install_defaults(company=company)
            checklists_install_defaults(company=company)
    return company


def _check_login_free(*, company: Company, username: str, user: User | None = None) -> None:
    """A login the company may give: free, and in its own namespace when it has one.

    Logins are unique across companies, so whatever is refused here must not tell one
    company that another holds a login. Inside its namespace only the company itself can
    hold one; any other company's namespace is refused whether the login exists there or
    not. What remains (a free-form login of a company without a namespace, held by another
    such company or an operator) is in docs/security.md.
    """
    login = username.lower()
    namespace = login.partition(".")[0] if "." in login else ""
    prefix = company.login_prefix
    if prefix and namespace != prefix:
        raise ValidationError(
            {
                "username": _(
                    "Логины сотрудников компании начинаются с «%(prefix)s.», "
                    "например %(prefix)s.ivanov."
                )
                % {"prefix": prefix}
            }
        )
    if (
        not prefix
        and namespace
        and Company.objects.filter(login_prefix=namespace).exclude(pk=company.pk).exists()
    ):
        raise _login_unusable()
    taken = LoginName.objects.filter(username=login)
    if user is not None:
        taken = taken.exclude(user_id=user.pk)
    entry = taken.first()
    if entry is None:
        return
    if entry.company_id == company.pk:
        raise ValidationError({"username": _("Логин «%(login)s» уже занят.") % {"login": login}})
    raise _login_unusable()


def _login_unusable() -> ValidationError:
    return ValidationError({"username": _("Этот логин нельзя использовать: выберите другой.")})


@contextmanager
def _login_saved() -> Iterator[None]:
    """A login taken between the check and the save (or not visible to the check) is the
    same refusal, not a server error."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        if "username" not in str(error):
            raise
        raise _login_unusable() from error


def _check_role_fields(
    *, role: str, is_company_admin: bool, sales_role: SalesRole | None, team: Team | None
) -> None:
    errors = {}
    if role == User.Role.MANAGER and sales_role is None:
        errors["sales_role"] = _(
            "У менеджера должна быть роль в продажах: к ней привязаны его KPI."
        )
    if role != User.Role.MANAGER and sales_role is not None:
        errors["sales_role"] = _("Роль в продажах задаётся только менеджерам.")
    if is_company_admin and role != User.Role.HEAD:
        errors["is_company_admin"] = _(
            "Совмещать с администрированием может только руководитель отдела продаж."
        )
    if team is not None and role not in (User.Role.MANAGER, User.Role.HEAD):
        errors["team"] = _("В команду входят менеджеры и руководитель отдела продаж.")
    if errors:
        raise ValidationError(errors)


def user_create(
    *,
    company: Company,
    username: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    role: str = User.Role.MANAGER,
    is_company_admin: bool = False,
    team: Team | None = None,
    sales_role: SalesRole | None = None,
    password_is_temporary: bool = True,
    actor: User | None = None,
) -> User:
    """A new employee; a password given here is the admin's temporary one unless told
    otherwise (the demo's), and the user replaces it at first login."""
    if actor is not None:  # None: the system (company creation, demo data)
        permissions.require_configure(actor)
    _check_login_free(company=company, username=username)
    _check_role_fields(
        role=role, is_company_admin=is_company_admin, sales_role=sales_role, team=team
    )
    if not password and not email:
        raise ValidationError(
            {"email": _("Укажите временный пароль или e-mail, на который придёт приглашение.")}
        )
    user = User(
        company=company,
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        role=role,
        is_company_admin=is_company_admin,
        team=team,
        sales_role=sales_role,
        must_change_password=bool(password) and password_is_temporary,
    )
    if password:
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from error
        user.set_password(password)
    else:
        user.set_unusable_password()
    with transaction.atomic():
        with _login_saved():
            user.save()
        if team is not None:
            # In the team since joining: a backfilled history counts in it too.
            TeamMembership(company=company, user=user, team=team).save()
        audit_record(
            company=company,
            action=AuditEvent.Action.USER_CREATED,
            target=f"{user.username} ({user.get_role_display()})",
        )
        if not password:
            from accounts.tasks import send_invitation

            transaction.on_commit(lambda: send_invitation.delay(company.pk, user.pk))
        if user.is_manager:
            # A team's plan is the whole team's (DOMAIN.md): the new manager's plan now
            # counts in the running periods of their team and the company.
            rollups.totals_mark(company=company, change=ManagerJoined(manager=user))
    return user


def invitation_url(*, user: User) -> str:
    path = reverse(
        "invitation-accept",
        kwargs={
            "company": user.company.code,
            "user": user.code,
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.SITE_URL.rstrip("/") + path


def invitation_send(*, user: User) -> None:
    """E-mails the link that lets a new user set their password (valid until they do)."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Приглашение в Salesdesk: %(company)s") % {"company": user.company.name}
        body = _(
            "Здравствуйте, %(name)s!\n\n"
            "Вас добавили в Salesdesk компании «%(company)s». Ваш логин: %(login)s.\n"
            "Задайте пароль по ссылке:\n%(url)s\n"
        ) % {
            "name": user.get_full_name() or user.username,
            "company": user.company.name,
            "login": user.username,
            "url": invitation_url(user=user),
        }
    send_mail(subject, body, None, [user.email])


USER_EDITABLE_FIELDS = (
    "username",
    "first_name",
    "last_name",
    "email",
    "role",
    "is_company_admin",
    "team",
    "sales_role",
    "is_active",
)


# What a change of is worth a line in the audit log: who may log in, and with which rights.
AUDITED_USER_FIELDS = ("username", "email", "role", "is_company_admin", "is_active")


def user_update(*, user: User, actor: User, **changes: object) -> User:
    permissions.require_configure(actor)
    unknown = set(changes) - set(USER_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if "username" in changes and str(changes["username"]).lower() != user.username:
        # A login made before the company had its namespace stays valid until it is changed.
        _check_login_free(company=user.company, username=str(changes["username"]), user=user)
    was_admin = user.can_administer
    old_team_id, old_role_id, was_active = user.team_id, user.sales_role_id, user.is_active
    before = {field: getattr(user, field) for field in AUDITED_USER_FIELDS}
    for field, value in changes.items():
        setattr(user, field, value)
    _check_role_fields(
        role=user.role,
        is_company_admin=user.is_company_admin,
        sales_role=user.sales_role,
        team=user.team,
    )
    if user.pk == actor.pk and (not user.is_active or (was_admin and not user.can_administer)):
        raise ValidationError(_("Нельзя снять права администратора или отключить самого себя."))
    with transaction.atomic():
        with _login_saved():
            user.save()
        changed = [
            f"{field}: {before[field]} → {getattr(user, field)}"
            for field in AUDITED_USER_FIELDS
            if before[field] != getattr(user, field)
        ]
        if changed:
            audit_record(
                company=user.company_id,
                action=AuditEvent.Action.USER_CHANGED,
                target=f"{user.username}: " + ", ".join(changed),
                actor=actor,
            )
        moved_on = None
        if user.team_id != old_team_id:
            moved_on = user.company.local_time().date()
            team_membership_move(user=user, old_team_id=old_team_id, day=moved_on)
        if (old_team_id, old_role_id, was_active) != (
            user.team_id,
            user.sales_role_id,
            user.is_active,
        ):
            # A team move changes its two teams' totals from the move on; a role, or being
            # active, changes the plans and KPIs the whole history counts (rollups/engine.py).
            only_team = (old_role_id, was_active) == (user.sales_role_id, user.is_active)
            rollups.totals_mark(
                company=user.company,
                change=ManagerMoved(
                    manager=user, old_team_id=old_team_id, since=moved_on if only_team else None
                ),
            )
    return user


def team_membership_move(*, user: User, old_team_id: int | None, day: datetime.date) -> None:
    """The user leaves their team on `day` and is in `user.team` from that day on.

    The history stays: the old team keeps the days before, the new one counts from `day`
    (DOMAIN.md: a manager who moves teams counts in each team for the days spent in it).
    Called by user_update, which changes `User.team` with it, in one transaction.
    """
    memberships = TeamMembership.objects.filter(company_id=user.company_id, user=user)
    if old_team_id is not None and not memberships.exists():
        # Made before memberships were kept (or around the service): in the team all along.
        TeamMembership(company_id=user.company_id, user=user, team_id=old_team_id).save()
    for current in memberships.filter(effective_to__isnull=True).select_for_update():
        if current.effective_from is not None and current.effective_from >= day:
            current.delete()  # joined today and moved on today: no day was spent in it
        else:
            current.effective_to = day
            current.save(update_fields=["effective_to"])
    if user.team_id is None:
        return
    # Back to the team left earlier the same day: that stay simply goes on.
    resumed = memberships.filter(team_id=user.team_id, effective_to=day).update(effective_to=None)
    if not resumed:
        TeamMembership(
            company_id=user.company_id, user=user, team_id=user.team_id, effective_from=day
        ).save()


def user_set_password(*, user: User, password: str) -> User:
    """The user's own new password (validated by the caller's form); it ends a temporary one."""
    if user.check_password(password):
        raise ValidationError(_("Новый пароль должен отличаться от прежнего."))
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    audit_record(
        company=user.company_id, action=AuditEvent.Action.PASSWORD_SET, target=user.username
    )
    return user


def team_create(
    *, company: Company, name: str, head: User | None = None, actor: User | None = None
) -> Team:
    if actor is not None:
        permissions.require_configure(actor)
    _check_team_head(head)
    _check_team_name_free(company=company, name=name)
    team = Team(company=company, name=name, head=head)
    team.save()
    return team


def team_update(*, team: Team, name: str, head: User | None, actor: User | None = None) -> Team:
    if actor is not None:
        permissions.require_configure(actor)
    _check_team_head(head)
    _check_team_name_free(company=team.company, name=name, team=team)
    team.name = name
    team.head = head
    team.save()
    return team


def _check_team_name_free(*, company: Company, name: str, team: Team | None = None) -> None:
    taken = Team.objects.filter(company=company, name=name)
    if team is not None:
        taken = taken.exclude(pk=team.pk)
    if taken.exists():
        raise ValidationError({"name": _("Команда с таким названием уже есть.")})


def _check_team_head(head: User | None) -> None:
    if head is not None and head.role != User.Role.HEAD:
        raise ValidationError({"head": _("Команду ведёт руководитель отдела продаж.")})


def sales_role_create(*, company: Company, name: str, actor: User | None = None) -> SalesRole:
    if actor is not None:
        permissions.require_configure(actor)
    if SalesRole.objects.filter(company=company, name__iexact=name).exists():
        raise ValidationError({"name": _("Такая роль уже есть.")})
    role = SalesRole(company=company, name=name, kind=SalesRole.Kind.CUSTOM)
    role.save()
    return role


def _token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Returns the token and its key; the key is not stored and cannot be shown again."""
    # The company id up front lets authentication open the right company before the lookup.
    key = f"{user.company_id}.{secrets.token_urlsafe(32)}"
    token = ApiToken(
        company_id=user.company_id, user=user, name=name, key_hash=_token_hash(key), prefix=key[:12]
    )
    token.save()
    audit_record(
        company=user.company_id,
        action=AuditEvent.Action.TOKEN_CREATED,
        target=f"{user.username}: {name} ({token.prefix}…)",
        actor=user,
    )
    return token, key


def api_token_find(*, key: str) -> ApiToken | None:
    return (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_token_hash(key), user__is_active=True)
        .first()
    )


def api_token_revoke(*, token: ApiToken) -> None:
    audit_record(
        company=token.company_id,
        action=AuditEvent.Action.TOKEN_REVOKED,
        target=f"{token.user.username}: {token.name} ({token.prefix}…)",
    )
    token.delete()


COMPANY_SETTINGS = (
    "name",
    "timezone",
    "report_backdate_days",
    "reminder_time",
    "long_call_seconds",
    "missed_calls_limit",
)


def company_update(
    *,
    company: Company,
    telegram_bot_token: str = "",
    telegram_bot_remove: bool = False,
    **changes: object,
) -> Company:
    """The company's settings. The bot token is write-only: a new one is checked with
    Telegram, stored encrypted and its webhook set (telegram_bot.services.bot_connect); none
    keeps the stored one; `telegram_bot_remove` removes it."""
    from telegram_bot import services as telegram

    unknown = set(changes) - set(COMPANY_SETTINGS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    changed = [field for field, value in changes.items() if getattr(company, field) != value]
    if telegram_bot_remove and company.telegram_bot_token:
        telegram.bot_disconnect(company=company)
        changed.append("telegram_bot_token")
    elif telegram_bot_token.strip() and telegram_bot_token.strip() != company.telegram_token():
        telegram.bot_connect(company=company, token=telegram_bot_token)
        changed.append("telegram_bot_token")
    for field, value in changes.items():
        setattr(company, field, value)
    company.save(update_fields=list(changes))
    if changed:
        # Names only: the Telegram bot token is a secret and has no place in the log.
        audit_record(
            company=company, action=AuditEvent.Action.SETTINGS_CHANGED, target=", ".join(changed)
        )
    return company
