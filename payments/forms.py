from django import forms
from django.utils.translation import gettext_lazy as _

from crm_sync.models import Client
from payments.models import ODataConnection


class PayerLinkForm(forms.Form):
    inn = forms.CharField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(required=False, widget=forms.HiddenInput, max_length=255)
    client = forms.ModelChoiceField(label=_("Клиент"), queryset=None)

    def __init__(self, *args: object, company_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["client"].queryset = Client.objects.filter(company_id=company_id)  # type: ignore[attr-defined]


class ODataConnectionForm(forms.ModelForm):
    password = forms.CharField(
        label=_("Пароль"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Хранится зашифрованным. Оставьте пустым, чтобы не менять."),
    )

    class Meta:
        model = ODataConnection
        fields = [
            "base_url",
            "username",
            "password",
            "pull_from",
            "payments_entity",
            "balances_entity",
            "active",
        ]
        widgets = {"pull_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        help_texts = {
            "base_url": _(
                "Адрес опубликованной базы, например https://1c.example.ru/buh — "
                "к нему добавится /odata/standard.odata/."
            ),
        }
