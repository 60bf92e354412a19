import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm_sync.models import CRMConnection

# A Bitrix24 inbound webhook URL: https://<portal>/rest/<user id>/<secret>/
BITRIX_WEBHOOK = re.compile(r"^(?P<base>https://[^/]+/rest/\d+)/(?P<secret>[^/]+)/?$")


class ConnectionForm(forms.Form):
    vendor = forms.ChoiceField(label=_("CRM"), choices=CRMConnection.Vendor.choices)
    base_url = forms.URLField(
        label=_("Адрес портала"),
        max_length=300,
        assume_scheme="https",
        help_text=_(
            "amoCRM: https://компания.amocrm.ru. Битрикс24: адрес входящего вебхука целиком, "
            "https://портал.bitrix24.ru/rest/1/код/"
        ),
    )
    token = forms.CharField(
        label=_("Ключ доступа к API"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "amoCRM: долгосрочный токен интеграции. Битрикс24: код входящего вебхука, если он "
            "не указан в адресе. Оставьте пустым, чтобы не менять сохранённый."
        ),
    )
    application_token = forms.CharField(
        label=_("Токен приложения исходящего вебхука (Битрикс24)"),
        required=False,
        max_length=64,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Битрикс24 присылает его с каждым событием: так мы узнаём, что событие от вас."
        ),
    )
    active = forms.BooleanField(label=_("Включено"), required=False, initial=True)

    def __init__(self, *args: Any, connection: CRMConnection | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connection
        if connection is not None:
            del self.fields["vendor"]
            if connection.vendor == CRMConnection.Vendor.AMOCRM:
                del self.fields["application_token"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        vendor = self.connection.vendor if self.connection else data.get("vendor")
        url = data.get("base_url", "")
        if vendor == CRMConnection.Vendor.BITRIX24 and url:
            match = BITRIX_WEBHOOK.match(url)
            if match:
                data["base_url"] = match["base"]
                data["token"] = data.get("token") or match["secret"]
            elif not re.match(r"^https://[^/]+/rest/\d+/?$", url):
                self.add_error("base_url", _("Вставьте адрес входящего вебхука Битрикс24."))
        if self.connection is None and not data.get("token"):
            self.add_error("token", _("Без ключа доступа нельзя загружать данные из CRM."))
        return data


class AmountFieldForm(forms.Form):
    """Which of the CRM's deal fields is the amount: the standard one or a money field."""

    amount_field = forms.ChoiceField(label=_("Сумма сделки — из поля"), required=False)

    def __init__(
        self, *args: Any, fields: list[tuple[str, str]], connection: CRMConnection, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        standard = (
            _("Бюджет (стандартное поле price)")
            if connection.vendor == CRMConnection.Vendor.AMOCRM
            else _("Сумма (стандартное поле OPPORTUNITY)")
        )
        choices = [("", standard), *fields]
        if connection.amount_field and connection.amount_field not in dict(fields):
            # Not in the CRM's list (deleted, or the CRM did not answer): kept, but named so.
            choices.append((connection.amount_field, _("%(field)s (нет в CRM)")
                            % {"field": connection.amount_field}))  # fmt: skip
        self.fields["amount_field"].choices = choices
        self.fields["amount_field"].initial = connection.amount_field
        self.names = dict(fields)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["amount_field_name"] = self.names.get(data.get("amount_field", ""), "")
        return data
