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
    # amoCRM OAuth 2.0 (amocrm.ru/developers/content/oauth/step-by-step): the integration's
    # keys and the 20-minute authorization code from its «Ключи и доступы» tab.
    oauth_client_id = forms.CharField(
        label=_("ID интеграции (OAuth, amoCRM)"), required=False, max_length=100
    )
    oauth_client_secret = forms.CharField(
        label=_("Секретный ключ интеграции"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
    )
    oauth_code = forms.CharField(
        label=_("Код авторизации"),
        required=False,
        max_length=2000,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Вместо долгосрочного токена: amoCRM → Настройки → Интеграции → ваша интеграция → "
            "Ключи и доступы. Код действует 20 минут; ключ доступа потом обновляется сам."
        ),
    )
    oauth_redirect_uri = forms.URLField(
        label=_("Redirect URI интеграции"), required=False, max_length=300, assume_scheme="https"
    )
    active = forms.BooleanField(label=_("Включено"), required=False, initial=True)

    def __init__(self, *args: Any, connection: CRMConnection | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connection
        if connection is not None:
            del self.fields["vendor"]
            if connection.vendor == CRMConnection.Vendor.AMOCRM:
                del self.fields["application_token"]
            else:
                for name in ("oauth_client_id", "oauth_client_secret", "oauth_code",
                             "oauth_redirect_uri"):  # fmt: skip
                    del self.fields[name]

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
        if data.get("oauth_code") and vendor == CRMConnection.Vendor.AMOCRM:
            for name in ("oauth_client_id", "oauth_client_secret", "oauth_redirect_uri"):
                if not data.get(name):
                    self.add_error(name, _("Нужен для обмена кода авторизации."))
        elif self.connection is None and not data.get("token"):
            self.add_error("token", _("Без ключа доступа нельзя загружать данные из CRM."))
        return data
