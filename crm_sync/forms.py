from django import forms
from django.utils.translation import gettext_lazy as _

from crm_sync.models import PipelineStage


class StageForm(forms.Form):
    name = forms.CharField(label=_("Этап"), max_length=100)
    kind = forms.ChoiceField(label=_("Тип"), choices=PipelineStage.Kind.choices)
    position = forms.IntegerField(label=_("Порядок"), min_value=0, max_value=999)
    external_id = forms.CharField(
        label=_("Код статуса в CRM"),
        max_length=64,
        required=False,
        help_text=_("status_id в amoCRM или STAGE_ID в Битрикс24: по нему приходят сделки."),
    )
