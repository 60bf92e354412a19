from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Company, User
from telephony.models import PBXConnection


class ConnectionForm(forms.Form):
    vendor = forms.ChoiceField(label=_("АТС"), choices=PBXConnection.Vendor.choices)
    api_key = forms.CharField(
        label=_("Ключ API АТС"),
        max_length=100,
        required=False,
        help_text=_("Mango Office: уникальный код АТС (vpbx_api_key); Zadarma/Новофон: Key."),
    )
    api_secret = forms.CharField(
        label=_("Секрет (соль) АТС"),
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Mango Office: ключ для создания подписи (соль); Zadarma/Новофон: Secret. "
            "Sipuni и UIS не подписывают запросы: их проверяет секрет в адресе."
        ),
    )


class AssignForm(forms.Form):
    pbx_user = forms.CharField(max_length=64, widget=forms.HiddenInput)
    manager = forms.ModelChoiceField(label=_("Сотрудник"), queryset=None)

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            company=company, is_active=True
        ).exclude(role=User.Role.QUALITY)
