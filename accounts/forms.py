from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from accounts.models import Company, SalesRole, Team, User


class CompanyChoicesMixin:
    """Limits related choices to the company: querysets are built per request, never at import."""

    def limit_choices(self, company: Company) -> None:
        fields = self.fields  # type: ignore[attr-defined]
        if "team" in fields:
            fields["team"].queryset = Team.objects.filter(company=company)
        if "sales_role" in fields:
            fields["sales_role"].queryset = SalesRole.objects.filter(company=company)
        if "head" in fields:
            fields["head"].queryset = User.objects.filter(
                company=company, role=User.Role.HEAD, is_active=True
            )


class UserForm(CompanyChoicesMixin, forms.Form):
    first_name = forms.CharField(label=_("Имя"), max_length=150)
    last_name = forms.CharField(label=_("Фамилия"), max_length=150)
    email = forms.EmailField(label=_("E-mail"), required=False)
    username = forms.CharField(label=_("Логин"), max_length=150)
    role = forms.ChoiceField(label=_("Роль"), choices=User.Role.choices, initial=User.Role.MANAGER)
    is_company_admin = forms.BooleanField(
        label=_("Также администратор (для руководителя отдела продаж)"), required=False
    )
    team = forms.ModelChoiceField(label=_("Команда"), queryset=None, required=False)
    sales_role = forms.ModelChoiceField(
        label=_("Роль в продажах (для менеджера)"), queryset=None, required=False
    )

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit_choices(company)
        if company.login_prefix:
            self.fields["username"].help_text = _(
                "Начинается с «%(prefix)s.», например %(prefix)s.ivanov."
            ) % {"prefix": company.login_prefix}


class UserCreateForm(UserForm):
    password = forms.CharField(
        label=_("Временный пароль"),
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text=_(
            "Оставьте пустым, чтобы сотрудник получил приглашение на e-mail и сам задал пароль."
        ),
    )

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if password:
            validate_password(password)
        return password


class UserEditForm(UserForm):
    is_active = forms.BooleanField(label=_("Активен"), required=False)
    extension = forms.CharField(label=_("Внутренний номер в АТС"), max_length=16, required=False)
    sip_login = forms.CharField(label=_("SIP-логин"), max_length=64, required=False)
    phone_numbers = forms.CharField(
        label=_("Телефоны сотрудника"),
        max_length=200,
        required=False,
        help_text=_("Через запятую: по ним звонок из АТС находит сотрудника."),
    )


class TeamForm(CompanyChoicesMixin, forms.Form):
    name = forms.CharField(label=_("Название"), max_length=100)
    head = forms.ModelChoiceField(label=_("Руководитель"), queryset=None, required=False)

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit_choices(company)


class SalesRoleForm(forms.Form):
    name = forms.CharField(label=_("Название новой роли"), max_length=100)


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Для чего токен"), max_length=100)


class CompanySettingsForm(forms.Form):
    name = forms.CharField(label=_("Название компании"), max_length=200)
    timezone = forms.ChoiceField(label=_("Часовой пояс"), choices=())
    report_backdate_days = forms.IntegerField(
        label=_("Сколько дней назад менеджер может сдать или исправить отчёт"),
        min_value=0,
        max_value=31,
        help_text=_("Дальше исправляет только руководитель отдела продаж."),
    )
    reminder_time = forms.TimeField(
        label=_("Время напоминания об отчёте"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    long_call_seconds = forms.IntegerField(
        label=_("Разговор засчитывается от, секунд"),
        min_value=1,
        max_value=600,
        help_text=_("Звонки короче не попадают в «разговоры» отчёта."),
    )
    missed_calls_limit = forms.IntegerField(
        label=_("Пропущенных звонков подряд до ретаргетинга"),
        min_value=1,
        max_value=20,
        help_text=_("После стольких недозвонов клиенту сделка уходит маркетингу."),
    )
    # Never rendered back: empty keeps the stored token (shown masked in the help text).
    telegram_bot_token = forms.CharField(
        label=_("Токен Telegram-бота"),
        max_length=100,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "Необязательно: от @BotFather. Тогда напоминания, отчёт и оповещения — в Telegram."
        ),
    )
    telegram_bot_remove = forms.BooleanField(label=_("Отключить Telegram-бота"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        import zoneinfo

        zones = sorted(z for z in zoneinfo.available_timezones() if "/" in z)
        self.fields["timezone"].choices = [(zone, zone) for zone in zones]


# The zones a Russian-speaking company is most likely in, west to east; Moscow first as the
# default. The company's settings page offers every zone later.
COMMON_TIME_ZONES = [
    ("Europe/Moscow", _("Москва, Санкт-Петербург (UTC+3)")),
    ("Europe/Kaliningrad", _("Калининград (UTC+2)")),
    ("Europe/Samara", _("Самара, Ижевск (UTC+4)")),
    ("Asia/Yekaterinburg", _("Екатеринбург, Пермь, Тюмень (UTC+5)")),
    ("Asia/Omsk", _("Омск (UTC+6)")),
    ("Asia/Novosibirsk", _("Новосибирск, Томск, Барнаул (UTC+7)")),
    ("Asia/Krasnoyarsk", _("Красноярск, Кемерово (UTC+7)")),
    ("Asia/Irkutsk", _("Иркутск, Улан-Удэ (UTC+8)")),
    ("Asia/Yakutsk", _("Якутск, Чита (UTC+9)")),
    ("Asia/Vladivostok", _("Владивосток, Хабаровск (UTC+10)")),
    ("Asia/Magadan", _("Магадан, Сахалин (UTC+11)")),
    ("Asia/Kamchatka", _("Камчатка (UTC+12)")),
    ("Europe/Minsk", _("Минск (UTC+3)")),
    ("Asia/Almaty", _("Алматы (UTC+5)")),
    ("Asia/Tashkent", _("Ташкент (UTC+5)")),
]


class SignupForm(forms.Form):
    company_name = forms.CharField(label=_("Название компании"), max_length=200)
    timezone = forms.ChoiceField(
        label=_("Часовой пояс"),
        choices=COMMON_TIME_ZONES,
        initial="Europe/Moscow",
        help_text=_("По нему считаются «сегодня», напоминания и сводки."),
    )
    email = forms.EmailField(
        label=_("Ваш e-mail"),
        max_length=150,
        help_text=_("Это будет ваш логин. На него придёт ссылка для подтверждения."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Пароль"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Не короче 8 символов, не только цифры, не из списка частых, не похожий на e-mail."
        ),
    )


class OperatorCompanyForm(forms.Form):
    name = forms.CharField(label=_("Название компании"), max_length=200)
    timezone = forms.ChoiceField(
        label=_("Часовой пояс"), choices=COMMON_TIME_ZONES, initial="Europe/Moscow"
    )
    admin_email = forms.EmailField(
        label=_("E-mail первого администратора"),
        max_length=150,
        help_text=_("Его логин; на него уйдёт приглашение задать пароль."),
    )
    login_prefix = forms.CharField(
        label=_("Префикс логинов"),
        max_length=30,
        required=False,
        help_text=_("Необязательно: по умолчанию из названия компании."),
    )


class CompanyDeleteForm(forms.Form):
    typed_name = forms.CharField(label=_("Название компании, как оно записано"), max_length=200)


class LoginForm(AuthenticationForm):
    """A suspended company's people are told so (only once their password is right)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Неверный логин или пароль. Проверьте раскладку и Caps Lock."),
    }

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if user.company is not None and user.company.suspended_at is not None:
            raise forms.ValidationError(
                _(
                    "Работа компании «%(company)s» в Salesdesk приостановлена. "
                    "Обратитесь к администратору вашей компании."
                ),
                code="suspended",
                params={"company": user.company.name},
            )
