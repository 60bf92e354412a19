from typing import Any

from django import forms
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
