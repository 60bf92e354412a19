import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from crm_sync import oauth
from crm_sync.models import CRMConnection, PipelineStage

if TYPE_CHECKING:
    from crm_sync.catalog import Catalog
    from crm_sync.mapping import MappingInitial

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
        self.oauth = connection is not None and oauth.status(connection) is not None
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
            elif not re.match(r"^https://[^/]+/rest/\d+/?$", url) and not (
                self.oauth and re.match(r"^https?://[^/]+/?$", url)
            ):  # an application's connection keeps the portal's own address
                self.add_error("base_url", _("Вставьте адрес входящего вебхука Битрикс24."))
        if data.get("oauth_code") and vendor == CRMConnection.Vendor.AMOCRM:
            for name in ("oauth_client_id", "oauth_client_secret", "oauth_redirect_uri"):
                if not data.get(name):
                    self.add_error(name, _("Нужен для обмена кода авторизации."))
        elif self.connection is None and not data.get("token"):
            self.add_error("token", _("Без ключа доступа нельзя загружать данные из CRM."))
        return data


class PortalForm(forms.Form):
    """Step 1 of Bitrix24's full OAuth protocol: the portal where the admin grants access."""

    portal = forms.URLField(
        label=_("Адрес портала Битрикс24"),
        max_length=200,
        assume_scheme="https",
        help_text=_("Например, https://компания.bitrix24.ru: тот, где установлено приложение."),
    )

    def clean_portal(self) -> str:
        parts = urlsplit(self.cleaned_data["portal"])
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise forms.ValidationError(
                _("Введите адрес портала, например https://компания.bitrix24.ru.")
            )
        return f"{parts.scheme}://{parts.netloc}".lower()


class MappingForm(forms.Form):
    """The CRM's pipelines (chosen or not), each status's stage and each CRM user's match,
    as the CRM listed them when last asked; fields are numbered, since CRM ids may hold any
    character, so the form carries the version of the lists it numbered (`catalog_version`):
    one posted against lists refreshed since is not saved."""

    catalog_version = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        catalog: "Catalog",
        stages: list[PipelineStage],
        users: list[User],
        initial_of: "MappingInitial",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.catalog = catalog
        self.fields["catalog_version"].initial = catalog.version
        stage_ids = [stage.pk for stage in stages]
        user_ids = [user.pk for user in users]
        stage_queryset = PipelineStage.objects.filter(pk__in=stage_ids)
        user_queryset = User.objects.filter(pk__in=user_ids).order_by(
            "last_name", "first_name", "username"
        )
        for p, pipeline in enumerate(catalog.pipelines):
            self.fields[f"pipeline_{p}"] = forms.BooleanField(
                label=_("Считать продажами"),
                required=False,
                initial=initial_of.chosen(pipeline),
            )
            for s, status in enumerate(pipeline.statuses):
                field = forms.ModelChoiceField(
                    label=status.name,
                    queryset=stage_queryset,
                    required=False,
                    empty_label=_("— не считать —"),
                    initial=initial_of.stage(pipeline, status),
                )
                field.label_from_instance = str  # type: ignore[method-assign]
                self.fields[f"stage_{p}_{s}"] = field
        for u, person in enumerate(catalog.people):
            field = forms.ModelChoiceField(
                label=person.name or person.id,
                queryset=user_queryset,
                required=False,
                empty_label=_("— не сопоставлен —"),
                initial=initial_of.user(person),
            )
            field.label_from_instance = lambda user: user.get_full_name() or user.username  # type: ignore[method-assign]
            self.fields[f"user_{u}"] = field

    def pipeline_rows(self) -> list[tuple[Any, Any, list[tuple[Any, Any]]]]:
        """(pipeline, its checkbox, [(status, its stage field)]) for the template."""
        return [
            (
                pipeline,
                self[f"pipeline_{p}"],
                [(status, self[f"stage_{p}_{s}"]) for s, status in enumerate(pipeline.statuses)],
            )
            for p, pipeline in enumerate(self.catalog.pipelines)
        ]

    def people_rows(self) -> list[tuple[Any, Any]]:
        return [(person, self[f"user_{u}"]) for u, person in enumerate(self.catalog.people)]

    def choice(self) -> dict[str, Any]:
        """The cleaned data as `mapping.mapping_save` takes it."""
        data = self.cleaned_data
        chosen = {
            pipeline.id
            for p, pipeline in enumerate(self.catalog.pipelines)
            if data.get(f"pipeline_{p}")
        }
        stages = {
            (pipeline.id, status.id): data.get(f"stage_{p}_{s}")
            for p, pipeline in enumerate(self.catalog.pipelines)
            if pipeline.id in chosen
            for s, status in enumerate(pipeline.statuses)
        }
        matches = {person.id: data.get(f"user_{u}") for u, person in enumerate(self.catalog.people)}
        return {"chosen": chosen, "stages": stages, "matches": matches}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.catalog.pipelines and not any(
            data.get(f"pipeline_{p}") for p in range(len(self.catalog.pipelines))
        ):
            raise forms.ValidationError(_("Выберите хотя бы одну воронку продаж."))
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


class LeadsForm(forms.Form):
    works_leads = forms.BooleanField(
        label=_("Отдел работает с лидами"),
        required=False,
        help_text=_(
            "Включите, если заявки сначала попадают в лиды, а в сделки превращаются только "
            "квалифицированные: «Созданные лиды» будут считаться по лидам Битрикс24."
        ),
    )
