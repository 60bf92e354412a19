import datetime
import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone as django_timezone
from django.utils import translation
from django.utils.translation import gettext as _

from accounts import permissions, tenancy
from accounts.audit import audit_record
from accounts.models import (
    ApiToken,
    AuditEvent,
    Company,
    CompanyToken,
    LoginName,
    PendingSignup,
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
    # An e-mail address (a company's first admin's login, company_open) is nobody's
    # namespace: only the login itself must be free.
    email_login = "@" in login
    namespace = login.partition(".")[0] if "." in login and not email_login else ""
    prefix = company.login_prefix
    if prefix and namespace != prefix and not email_login:
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
    invite: bool = True,
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
        if not password and invite:
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
            "Вас добавили в Salesdesk компании %(company)s. Ваш логин: %(login)s.\n"
            "Задайте пароль по ссылке:\n%(url)s\n"
        ) % {
            "name": user.get_full_name() or user.username,
            "company": user.company.quoted_name,
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
    "extension",
    "sip_login",
    "phone_numbers",
)

PBX_IDENTITY_FIELDS = ("extension", "sip_login", "phone_numbers")


def pbx_identity_check(*, user: User) -> None:
    """Normalizes how the PBX names `user` (extension, SIP login, phone numbers) and refuses
    one that names somebody else of the company: a call event must find one person."""
    from crm_sync.services import normalize_phone  # crm_sync builds on accounts

    user.extension = (user.extension or "").strip()
    user.sip_login = (user.sip_login or "").strip().lower()
    numbers = [normalize_phone(n) for n in re.split(r"[,;]", user.phone_numbers or "")]
    numbers = list(dict.fromkeys(n for n in numbers if n))
    user.phone_numbers = ",".join(numbers)
    others = User.objects.filter(company=user.company_id).exclude(pk=user.pk)
    errors: dict[str, str] = {}
    if user.extension and others.filter(extension=user.extension).exists():
        errors["extension"] = _("Внутренний номер %(value)s уже у другого сотрудника.")
    if user.sip_login and others.filter(sip_login=user.sip_login).exists():
        errors["sip_login"] = _("SIP-логин %(value)s уже у другого сотрудника.")
    for number in numbers:
        if others.filter(phone_numbers__regex=rf"(^|,){number}(,|$)").exists():
            errors["phone_numbers"] = _("Номер %(value)s уже у другого сотрудника.")
            break
    if errors:
        values = {"extension": user.extension, "sip_login": user.sip_login}
        raise ValidationError({
            field: message % {"value": values.get(field) or number}
            for field, message in errors.items()
        })  # fmt: skip


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
    pbx_identity_check(user=user)
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
        ApiToken.objects.select_related("user__company")
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


def company_token_create(
    *, company: Company, name: str, scopes: list[str], actor: User | None = None
) -> tuple[CompanyToken, str]:
    """Admins only. Returns the token and its key; the key is not stored and cannot be
    shown again."""
    if actor is not None:
        permissions.require_configure(actor)
    unknown = set(scopes) - set(CompanyToken.Scope.values)
    if not scopes or unknown:
        raise ValidationError({"scopes": _("Выберите права токена из списка.")})
    # The company id up front, as a user's key: authentication opens the company first.
    key = f"{company.pk}.{secrets.token_urlsafe(32)}"
    token = CompanyToken(
        company=company, name=name, scopes=sorted(set(scopes)), key_hash=_token_hash(key),
        prefix=key[:12], created_by=actor,
    )  # fmt: skip
    token.save()
    audit_record(
        company=company.pk,
        action=AuditEvent.Action.TOKEN_CREATED,
        target=f"{name} ({token.prefix}…): {', '.join(token.scopes)}",
        actor=actor,
    )
    return token, key


def company_token_find(*, key: str) -> CompanyToken | None:
    return CompanyToken.objects.filter(key_hash=_token_hash(key), revoked__isnull=True).first()


def company_token_revoke(*, token: CompanyToken, actor: User | None = None) -> CompanyToken:
    if actor is not None:
        permissions.require_configure(actor)
    if token.revoked is None:
        token.revoked = django_timezone.now()
        token.save(update_fields=["revoked"])
        audit_record(
            company=token.company_id,
            action=AuditEvent.Action.TOKEN_REVOKED,
            target=f"{token.name} ({token.prefix}…)",
            actor=actor,
        )
    return token


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


# --- A new company: sign-up and the operators' console -------------------------------------

SIGNUP_SALT = "accounts.signup"

# Cyrillic → Latin for a login prefix made from a company's name (ООО «Ромашка» → romashka).
_TRANSLIT = {
    **dict(zip("абвгдезийклмнопрстуфыэ", "abvgdeziyklmnoprstufye", strict=True)),
    **{"ё": "e", "ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch"},
    **{"ъ": "", "ь": "", "ю": "yu", "я": "ya"},
}
# Legal forms say nothing about which company it is.
_LEGAL_FORMS = {"ооо", "оао", "зао", "пао", "ао", "ип", "тд", "нко", "llc", "ltd", "inc"}


class SignupError(Exception):
    """A sign-up refused as a whole (a rate limit, a used or expired link): the message says
    what to do."""


def login_prefix_suggest(*, name: str) -> str:
    """A free login namespace for a new company, made from its name (Company.login_prefix)."""
    words = re.findall(r"\w+", name.lower())
    words = [word for word in words if word not in _LEGAL_FORMS] or words
    latin = "-".join("".join(_TRANSLIT.get(char, char) for char in word) for word in words)
    base = re.sub(r"[^a-z0-9-]+", "", latin).strip("-")[:24].strip("-") or "company"
    candidate, number = base, 1
    while Company.objects.filter(login_prefix=candidate).exists():
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def company_open(
    *,
    name: str,
    timezone: str,
    admin_email: str,
    admin_password_hash: str | None = None,
    login_prefix: str | None = None,
) -> User:
    """A company set up as `company_create` sets one up, with its first admin, whose login is
    their e-mail. With a password (a confirmed sign-up) the admin can log in at once;
    without one (an operator's `createcompany` or console) they get the invitation e-mail.

    The one entry for every new company of a real installation: sign-up, the command and
    the operators' console all call it.
    """
    email = admin_email.strip().lower()
    with transaction.atomic():
        company = company_create(
            name=name.strip(),
            timezone=timezone,
            login_prefix=login_prefix or login_prefix_suggest(name=name),
        )
        with tenancy.tenant_context(company):
            admin = user_create(
                company=company,
                username=email,
                password=None,
                email=email,
                role=User.Role.ADMIN,
                invite=admin_password_hash is None,
            )
            if admin_password_hash is not None:
                admin.password = admin_password_hash
                admin.save(update_fields=["password"])
    return admin


def _signup_limited(*, key: str, limit: int) -> bool:
    """Counts one more attempt under `key` in the current window; True beyond `limit`."""
    from django.core.cache import cache

    window = settings.SIGNUP_RATE_WINDOW_SECONDS
    cache_key = f"signup-rate:{hashlib.sha256(key.encode()).hexdigest()}"
    if cache.add(cache_key, 1, timeout=window):
        return False
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between the two calls: a new window
        cache.add(cache_key, 1, timeout=window)
        return False
    return count > limit


def signup_start(
    *, company_name: str, timezone: str, email: str, password: str, ip: str | None
) -> None:
    """The sign-up form's data: e-mails a one-time link, creates nothing usable.

    An address that already has a login gets an e-mail saying so instead, and the form
    answers the same either way: nobody learns from the form which addresses have accounts.
    """
    from accounts.tasks import send_signup_mail

    email = email.strip().lower()
    try:
        validate_password(password, User(username=email, email=email))
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from error
    # Counted once the form is right: what the limit guards is the mail sent and the rows made.
    if _signup_limited(key=f"ip:{ip or '-'}", limit=settings.SIGNUP_RATE_PER_IP) or (
        _signup_limited(key=f"email:{email}", limit=settings.SIGNUP_RATE_PER_EMAIL)
    ):
        raise SignupError(_("Слишком много попыток регистрации. Попробуйте снова через час."))
    if LoginName.objects.filter(username=email).exists():
        transaction.on_commit(lambda: send_signup_mail.delay(email, None))
        return
    pending = PendingSignup(
        email=email,
        company_name=company_name.strip(),
        timezone=timezone,
        password=make_password(password),
    )
    pending.save()
    transaction.on_commit(lambda: send_signup_mail.delay(email, pending.pk))


def signup_confirm_url(*, pending: PendingSignup) -> str:
    token = signing.dumps(str(pending.code), salt=SIGNUP_SALT)
    return settings.SITE_URL.rstrip("/") + reverse("signup-confirm", kwargs={"token": token})


def signup_mail_send(*, email: str, pending: PendingSignup | None) -> None:
    """The confirmation link; or, for an address that already has a login, a note saying so."""
    with translation.override(settings.LANGUAGE_CODE):
        if pending is None:
            subject = _("Salesdesk: у вас уже есть учётная запись")
            body = _(
                "Здравствуйте!\n\n"
                "Кто-то (возможно, вы) пытался зарегистрировать компанию в Salesdesk с этим "
                "адресом, но по нему уже есть учётная запись. Войдите с логином %(login)s:\n"
                "%(url)s\n"
                "Забыли пароль? Попросите администратора вашей компании выслать приглашение "
                "заново. Если это были не вы, просто проигнорируйте письмо.\n"
            ) % {"login": email, "url": settings.SITE_URL.rstrip("/") + reverse("login")}
        else:
            subject = _("Подтвердите регистрацию в Salesdesk")
            body = _(
                "Здравствуйте!\n\n"
                "Чтобы создать компанию «%(company)s» в Salesdesk, подтвердите адрес по "
                "ссылке (она действует %(hours)s ч и срабатывает один раз):\n%(url)s\n\n"
                "Ваш логин будет: %(login)s. Если вы не регистрировались, проигнорируйте "
                "письмо: без подтверждения ничего не создаётся.\n"
            ) % {
                "company": pending.company_name,
                "hours": settings.SIGNUP_LINK_HOURS,
                "url": signup_confirm_url(pending=pending),
                "login": email,
            }
    send_mail(subject, body, None, [email])


def signup_pending_of_token(*, token: str) -> PendingSignup:
    """The sign-up a link confirms; refused when forged, expired or already used."""
    try:
        code = signing.loads(token, salt=SIGNUP_SALT, max_age=settings.SIGNUP_LINK_HOURS * 3600)
    except signing.SignatureExpired as error:
        raise SignupError(
            _("Ссылка устарела. Зарегистрируйтесь ещё раз — придёт новое письмо.")
        ) from error
    except signing.BadSignature as error:
        raise SignupError(_("Ссылка неверна. Скопируйте её из письма целиком.")) from error
    pending = PendingSignup.objects.select_for_update().filter(code=code).first()
    if pending is None or pending.confirmed_at is not None:
        raise SignupError(_("Эта ссылка уже использована. Войдите со своим e-mail и паролем."))
    return pending


def signup_confirm(*, token: str) -> User:
    """Confirms the e-mail: creates the company (company_open) with the person as its first
    admin, once. Returns the admin, whom the caller logs in."""
    with transaction.atomic():
        pending = signup_pending_of_token(token=token)
        if LoginName.objects.filter(username=pending.email).exists():
            raise SignupError(
                _("По этому e-mail уже есть учётная запись. Войдите с ним и своим паролем.")
            )
        admin = company_open(
            name=pending.company_name,
            timezone=pending.timezone,
            admin_email=pending.email,
            admin_password_hash=pending.password,
        )
        pending.confirmed_at = django_timezone.now()
        pending.password = ""  # the hash lives on in the user's row only
        pending.save(update_fields=["confirmed_at", "password"])
        # Other unconfirmed sign-ups of the address can no longer be confirmed.
        PendingSignup.objects.filter(email=pending.email, confirmed_at__isnull=True).delete()
    return admin


# --- Operators: suspend, export, delete ------------------------------------------------------


def company_suspend(*, company: Company) -> Company:
    """Its people cannot log in, their sessions end at the next request, API tokens are
    refused; nothing is deleted."""
    if company.suspended_at is None:
        company.suspended_at = django_timezone.now()
        company.save(update_fields=["suspended_at"])
    return company


def company_unsuspend(*, company: Company) -> Company:
    company.suspended_at = None
    company.save(update_fields=["suspended_at"])
    return company


def company_export_for_deletion(*, company: Company, path: Path) -> None:
    """The operator's download of the company's file (accounts.backup), which a deletion
    needs first."""
    from accounts.backup import company_export

    company_export(company=company, path=path)
    company.exported_at = django_timezone.now()
    company.save(update_fields=["exported_at"])


def company_delete_after_export(*, company: Company, typed_name: str) -> str:
    """Deletes the company once an operator has downloaded its export and typed its name;
    returns the name."""
    from accounts.backup import company_delete

    if company.exported_at is None:
        raise ValidationError(_("Сначала скачайте выгрузку компании: без неё удалить нельзя."))
    if typed_name.strip() != company.name:
        raise ValidationError({"typed_name": _("Название введено неверно: компания не удалена.")})
    company_delete(company=company)
    return company.name


def checklist_dismiss(*, company: Company, item: str, actor: User) -> Company:
    """The admin skips an optional item of the first-run checklist (the CRM, telephony)."""
    from accounts.selectors import CHECKLIST_OPTIONAL

    permissions.require_configure(actor)
    if item not in CHECKLIST_OPTIONAL:
        raise ValidationError(_("Этот пункт нельзя пропустить."))
    if item not in company.checklist_dismissed:
        company.checklist_dismissed = [*company.checklist_dismissed, item]
        company.save(update_fields=["checklist_dismissed"])
    return company
