import datetime
import re
import uuid
import zoneinfo
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import tenancy


class Company(models.Model):
    """A tenant. The registry of tenants itself is not tenant-owned data."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("название"), max_length=200)
    # Logins are unique across companies (a login names its company at sign-in), so a
    # refusal of one taken elsewhere would tell a company that it exists. Its people's
    # logins live in its own namespace, "<prefix>.name", where only it can hold one.
    # Empty for a company made before namespaces whose logins shared no prefix.
    login_prefix = models.CharField(
        _("префикс логинов"),
        max_length=30,
        unique=True,
        null=True,
        blank=True,
        validators=[
            RegexValidator(
                r"^[a-z0-9][a-z0-9-]*\Z",
                _("Латинские строчные буквы, цифры и дефис, без точки."),
            )
        ],
        help_text=_("Логины сотрудников начинаются с «префикс.», например vector.ivanov."),
    )
    country = models.CharField(_("страна"), max_length=2, default="RU")
    timezone = models.CharField(_("часовой пояс"), max_length=64, default="Europe/Moscow")
    currency = models.CharField(_("валюта"), max_length=3, default="RUB")
    # Traffic-light bands of plan completion, in percent: red below the first, green from
    # the second, yellow between. A KPI may override them.
    band_red_below = models.DecimalField(
        _("красный — ниже, %"), max_digits=6, decimal_places=2, default=60
    )
    band_green_from = models.DecimalField(
        _("зелёный — от, %"), max_digits=6, decimal_places=2, default=80
    )
    # End-of-day reports: how many days back a manager may still file or fix one,
    # and when the reminder goes to those who have not reported (company time).
    report_backdate_days = models.PositiveSmallIntegerField(
        _("дней, за которые менеджер может сдать или исправить отчёт"), default=3
    )
    reminder_time = models.TimeField(_("время напоминания об отчёте"), default=datetime.time(18, 0))
    # The company's own bot (docs/telegram.md): its token Fernet-encrypted (accounts.crypto),
    # read through telegram_token() and never shown back in full; its @username from getMe.
    telegram_bot_token = models.CharField(
        _("токен Telegram-бота для напоминаний"), max_length=400, blank=True
    )
    telegram_bot_username = models.CharField(_("имя Telegram-бота"), max_length=64, blank=True)
    # Call records: a conversation is a call at least this long; after this many missed
    # calls in a row to a client, the open deal goes to marketing for retargeting.
    long_call_seconds = models.PositiveSmallIntegerField(
        _("разговор считается состоявшимся от, с"), default=15
    )
    missed_calls_limit = models.PositiveSmallIntegerField(
        _("пропущенных звонков подряд до передачи на ретаргетинг"), default=3
    )
    created = models.DateTimeField(auto_now_add=True)
    # Set by an operator: the company's people cannot log in and its API tokens are refused;
    # its data stays (accounts.services.company_suspend).
    suspended_at = models.DateTimeField(_("приостановлена"), null=True, blank=True)
    # The last export an operator downloaded: a company is deleted only after one.
    exported_at = models.DateTimeField(_("выгружена"), null=True, blank=True)
    # The optional items of the first-run checklist the admin chose to skip.
    checklist_dismissed = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("компания")
        verbose_name_plural = _("компании")

    def __str__(self) -> str:
        return self.name

    @property
    def quoted_name(self) -> str:
        """The name in quotes, without quotes in quotes: ООО «Вектор» → «ООО „Вектор“»."""
        return "«" + self.name.replace("«", "„").replace("»", "“") + "»"

    def telegram_token(self) -> str:
        """The bot token in clear, for a call to the Bot API only."""
        from accounts import crypto

        return crypto.decrypt(self.telegram_bot_token)

    # The company's clock: its "today" and the bounds of its days are those of its own time
    # zone, never the server's (a company in Vladivostok starts its day while Moscow's
    # server is still on yesterday). Every date the app derives from "now" comes from here.

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local_time(self, moment: datetime.datetime | None = None) -> datetime.datetime:
        """A moment (default: now) on the company's own clock."""
        return (moment or timezone.now()).astimezone(self.zone)

    def now(self) -> datetime.datetime:
        return self.local_time()

    def today(self) -> datetime.date:
        return self.local_time().date()

    def day_start(self, day: datetime.date) -> datetime.datetime:
        """The first moment of a day on the company's clock."""
        return datetime.datetime.combine(day, datetime.time.min, tzinfo=self.zone)

    def day_end(self, day: datetime.date) -> datetime.datetime:
        """The first moment after the day (an exclusive bound)."""
        return self.day_start(day + datetime.timedelta(days=1))

    def day_bounds(
        self, first: datetime.date, last: datetime.date | None = None
    ) -> tuple[datetime.datetime, datetime.datetime]:
        """[start of `first`, end of `last`) on the company's clock; `last` defaults to `first`."""
        return self.day_start(first), self.day_end(last or first)


class TenantModel(models.Model):
    """Base of every tenant-owned table: it carries `company` and is reached only scoped."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")

    objects = tenancy.TenantManager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.ensure_same_company()
        super().save(*args, **kwargs)

    def ensure_same_company(self) -> None:
        """Refuse a reference to another company's row.

        PostgreSQL checks foreign keys without row-level security, so the database would
        accept such a row; this is where it is stopped.
        """
        for field in self._meta.concrete_fields:
            if not field.is_relation or field.name == "company":
                continue
            target = field.related_model
            if not (isinstance(target, type) and issubclass(target, TenantModel)):
                continue
            target_id = getattr(self, field.attname)
            if target_id is None:
                continue
            cached = field.get_cached_value(self, default=None)
            if cached is not None:
                same = cached.company_id == self.company_id
            else:
                same = target._base_manager.filter(
                    pk=target_id, company_id=self.company_id
                ).exists()
            if not same:
                raise ValidationError(
                    _("«%(field)s» относится к другой компании."),
                    code="cross_company",
                    params={"field": field.verbose_name},
                )


class SalesRole(TenantModel):
    """The functional role KPIs attach to: hunter, closer, farmer, or the company's own."""

    class Kind(models.TextChoices):
        HUNTER = "hunter", _("Хантер")
        CLOSER = "closer", _("Клоузер")
        FARMER = "farmer", _("Фермер")
        CUSTOM = "custom", _("Своя роль")

    code = models.UUIDField(default=uuid.uuid4, editable=False)
    name = models.CharField(_("название"), max_length=100)
    kind = models.CharField(_("тип"), max_length=16, choices=Kind.choices, default=Kind.CUSTOM)

    class Meta:
        ordering = ["name"]
        verbose_name = _("роль в продажах")
        verbose_name_plural = _("роли в продажах")
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="salesrole_code_uniq"),
            models.UniqueConstraint(fields=["company", "name"], name="salesrole_name_uniq"),
        ]

    def __str__(self) -> str:
        # The names the product seeds are in the catalogue: shown in the page's language;
        # a company's own name is shown as written.
        return gettext(self.name)


class Team(TenantModel):
    code = models.UUIDField(default=uuid.uuid4, editable=False)
    name = models.CharField(_("название"), max_length=100)
    head = models.ForeignKey(
        "accounts.User",
        verbose_name=_("руководитель"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_teams",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("команда")
        verbose_name_plural = _("команды")
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="team_code_uniq"),
            models.UniqueConstraint(fields=["company", "name"], name="team_name_uniq"),
        ]

    def __str__(self) -> str:
        return self.name


class TenantUserManager(UserManager):
    """Users of the active company; in the operator context, the company-less operators."""

    def get_queryset(self) -> models.QuerySet:
        if tenancy.in_operator_context():
            return super().get_queryset().filter(company__isnull=True)
        return super().get_queryset().filter(company_id=tenancy.current_company_id())

    def get_by_natural_key(self, username: str) -> "User":
        return self.get(username=username.lower())


class User(AbstractUser, TenantModel):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Администратор")
        HEAD = "head", _("Руководитель отдела продаж")
        MANAGER = "manager", _("Менеджер")
        QUALITY = "quality", _("Контролёр качества")

    # Operators (Django admin) have no company; everybody else has exactly one.
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    code = models.UUIDField(default=uuid.uuid4, editable=False)
    # Unique per company in the table and unique overall through LoginName.
    username = models.CharField(
        _("логин"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("Латинские буквы, цифры и @/./+/-/_."),
    )
    role = models.CharField(_("роль"), max_length=16, choices=Role.choices, default=Role.MANAGER)
    is_company_admin = models.BooleanField(
        _("также администратор"),
        default=False,
        help_text=_("Руководитель отдела продаж может одновременно быть администратором."),
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("команда"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )
    # Written only by binding in the chat (telegram_bot.services.chat_bind), never typed.
    telegram_chat_id = models.CharField(_("Telegram chat id"), max_length=32, blank=True)
    # A password somebody else chose (the admin's temporary one) is replaced at first login.
    must_change_password = models.BooleanField(
        _("сменить пароль при входе"), default=False, db_default=False
    )
    sales_role = models.ForeignKey(
        SalesRole,
        verbose_name=_("роль в продажах"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )

    # How the PBX names this person: unique in the company (accounts.services checks the
    # three together), so that a call event finds its manager (telephony.selectors).
    extension = models.CharField(_("внутренний номер"), max_length=16, blank=True)
    sip_login = models.CharField(_("SIP-логин"), max_length=64, blank=True)
    # Digits only (crm_sync.services.normalize_phone), comma-separated.
    phone_numbers = models.CharField(_("телефоны"), max_length=200, blank=True)

    # Made by «Попробовать на примере» (accounts/sample.py): the sample is these people and
    # everything that hangs off them, so that one click removes exactly it.
    is_sample = models.BooleanField(_("пример"), default=False, db_default=False, editable=False)

    objects: ClassVar[TenantUserManager] = TenantUserManager()  # type: ignore[assignment]

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        verbose_name = _("пользователь")
        verbose_name_plural = _("пользователи")
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="user_code_uniq"),
            models.UniqueConstraint(fields=["company", "username"], name="user_username_uniq"),
            # The operators' console (Django admin) is for operators, who have no company:
            # no company's row can be made staff or superuser, not even by raw SQL.
            models.CheckConstraint(
                condition=models.Q(company__isnull=True)
                | models.Q(is_staff=False, is_superuser=False),
                name="user_company_never_staff",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def save(self, *args, **kwargs) -> None:
        self.username = self.username.lower()
        super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "username" in update_fields:
            LoginName.objects.update_or_create(
                user=self, defaults={"username": self.username, "company_id": self.company_id}
            )

    @property
    def can_administer(self) -> bool:
        return self.role == self.Role.ADMIN or self.is_company_admin

    @property
    def is_head(self) -> bool:
        return self.role == self.Role.HEAD

    @property
    def is_manager(self) -> bool:
        return self.role == self.Role.MANAGER


class TeamMembership(TenantModel):
    """A manager's time in a team, from `effective_from` until `effective_to` (exclusive).

    A team's totals count each manager for the days they spent in it (DOMAIN.md, teams and
    the company). `User.team` is the current team; `accounts.services` changes the two
    together. No `effective_from`: since the user joined (history before any move).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    effective_from = models.DateField(_("в команде с"), null=True, blank=True)
    effective_to = models.DateField(_("в команде до"), null=True, blank=True)

    class Meta:
        ordering = [models.F("effective_from").asc(nulls_first=True)]
        verbose_name = _("участие в команде")
        verbose_name_plural = _("участие в командах")
        constraints = [
            # One current team at a time.
            models.UniqueConstraint(
                fields=["company", "user"],
                condition=models.Q(effective_to__isnull=True),
                name="teammembership_one_current",
            ),
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True)
                | models.Q(effective_from__isnull=True)
                | models.Q(effective_to__gt=models.F("effective_from")),
                name="teammembership_dates",
            ),
        ]
        indexes = [models.Index(fields=["company", "user"], name="teammembership_user")]

    def __str__(self) -> str:
        return f"{self.user}: {self.team}"

    def days_within(
        self, start: datetime.date, end: datetime.date
    ) -> tuple[datetime.date, datetime.date] | None:
        """The part of [start, end] spent in the team (first and last day), if any."""
        first = start if self.effective_from is None else max(start, self.effective_from)
        last = end
        if self.effective_to is not None:
            last = min(end, self.effective_to - datetime.timedelta(days=1))
        return (first, last) if first <= last else None


class PendingSignup(models.Model):
    """A company's sign-up waiting for its e-mail to be confirmed.

    Nothing usable exists until then: the company and its first admin are made from this row
    by the one-time link (accounts.services.signup_confirm), which marks it confirmed. Not
    tenant-owned: no company exists yet. Holds the chosen password's hash, never the password.
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(max_length=150)
    company_name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64)
    password = models.CharField(max_length=128)
    created = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["email"], name="pendingsignup_email")]

    def __str__(self) -> str:
        return f"{self.email}: {self.company_name}"


class LoginName(models.Model):
    """Which company a login belongs to, read before any company is known (at login).

    Not tenant-owned data: it holds only the login and the company id, so that the
    user's own row can then be read under that company's row-level security.
    """

    username = models.CharField(max_length=150, unique=True)
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, null=True, related_name="+")

    def __str__(self) -> str:
        return self.username


class ApiToken(TenantModel):
    """A per-user API token. Only its hash is stored; the key is shown once."""

    code = models.UUIDField(default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("название"), max_length=100)
    key_hash = models.CharField(max_length=64)
    prefix = models.CharField(max_length=16)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="apitoken_code_uniq"),
            models.UniqueConstraint(fields=["company", "key_hash"], name="apitoken_hash_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class CompanyToken(TenantModel):
    """A key of the company, not of a person, for a tool that acts for it: a BI dashboard
    reading the exports (`exports:read`), later a PBX pushing calls. Only its hash is stored;
    the key is shown once. Revoking keeps the row (who made it, when it was last used)."""

    class Scope(models.TextChoices):
        EXPORTS_READ = "exports:read", _("чтение выгрузок (BI)")
        CALLS_PUSH = "calls:push", _("передача звонков (АТС)")

    code = models.UUIDField(default=uuid.uuid4, editable=False)
    name = models.CharField(_("название"), max_length=100)
    scopes = models.JSONField(_("права"), default=list)
    key_hash = models.CharField(max_length=64)
    prefix = models.CharField(max_length=16)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="companytoken_code_uniq"),
            models.UniqueConstraint(fields=["company", "key_hash"], name="companytoken_hash_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditEvent(TenantModel):
    """One security-relevant event of a company: who did what to which object, from where."""

    class Action(models.TextChoices):
        LOGIN = "login", _("Вход")
        LOGIN_FAILED = "login_failed", _("Неудачный вход")
        LOGOUT = "logout", _("Выход")
        USER_CREATED = "user_created", _("Сотрудник добавлен")
        USER_CHANGED = "user_changed", _("Сотрудник изменён")
        PASSWORD_SET = "password_set", _("Пароль задан")
        TOKEN_CREATED = "token_created", _("API-токен создан")
        TOKEN_REVOKED = "token_revoked", _("API-токен отозван")
        CRM_SAVED = "crm_saved", _("Подключение CRM сохранено")
        SETTINGS_CHANGED = "settings_changed", _("Настройки компании изменены")
        EXPORTED = "exported", _("Данные компании выгружены")
        IMPORTED = "imported", _("Данные компании загружены")
        MONTH_CLOSED = "month_closed", _("Месяц закрыт")
        MONTH_REOPENED = "month_reopened", _("Закрытый месяц открыт заново")
        SAMPLE_ADDED = "sample_added", _("Добавлен пример данных")
        SAMPLE_REMOVED = "sample_removed", _("Пример данных удалён")

    at = models.DateTimeField(_("когда"), default=timezone.now)
    actor = models.ForeignKey(
        User, verbose_name=_("кто"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The login as it was, so that the record outlives a renamed or deleted user.
    actor_name = models.CharField(_("логин"), max_length=150, blank=True)
    action = models.CharField(_("действие"), max_length=32, choices=Action.choices)
    target = models.CharField(_("объект"), max_length=300, blank=True)
    ip = models.GenericIPAddressField(_("IP-адрес"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("событие безопасности")
        verbose_name_plural = _("журнал безопасности")
        indexes = [models.Index(fields=["company", "-at"], name="auditevent_company_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.target}"

    @property
    def shown_target(self) -> str:
        """The target in the reader's language: a role is stored as written when it happened,
        in Russian («vector.ivanov (Менеджер)») or as its code («role: manager → head»)."""
        text = self.target
        with translation.override("ru"):
            russian = {str(label): value for value, label in User.Role.choices}
        shown = {value: str(label) for value, label in User.Role.choices}
        for label, value in russian.items():
            text = text.replace(f"({label})", f"({shown[value]})")
        return _ROLE_CHANGE.sub(
            lambda m: f"role: {shown.get(m[1], m[1])} → {shown.get(m[2], m[2])}", text
        )


_ROLE_CHANGE = re.compile(r"\brole: (\w+) → (\w+)")
