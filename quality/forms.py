from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from quality.models import CallType, ChecklistItem


class SettingsForm(forms.Form):
    soft_salary_share = forms.DecimalField(
        label=_("Доля зарплаты, зависящая от качества, %"),
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        help_text=_("Часто 30 % («мягкая» часть). 0 — зарплата от качества не зависит."),
    )
    days_back = forms.IntegerField(
        label=_("Звонки для проверки — за последние, дней"), min_value=1, max_value=31
    )


class CallTypeForm(forms.Form):
    name = forms.CharField(label=_("Тип звонка"), max_length=100)
    position = forms.IntegerField(label=_("Порядок"), min_value=0, max_value=999, initial=0)
    active = forms.BooleanField(label=_("Проверяется"), required=False, initial=True)


class ChecklistItemForm(forms.Form):
    text = forms.CharField(label=_("Пункт чек-листа"), max_length=300)
    weight = forms.IntegerField(
        label=_("Вес"),
        min_value=1,
        max_value=100,
        initial=1,
        help_text=_("Чем важнее пункт, тем больше вес: оценка = вес выполненных ÷ весь вес."),
    )
    position = forms.IntegerField(label=_("Порядок"), min_value=0, max_value=999, initial=0)


class ScoreForm(forms.Form):
    """The checklist of one call type: a checkbox per point, and a comment for the manager."""

    done = forms.MultipleChoiceField(
        label=_("Что менеджер сделал"), widget=forms.CheckboxSelectMultiple, required=False
    )
    comment = forms.CharField(
        label=_("Комментарий для менеджера"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )

    def __init__(self, *args: Any, call_type: CallType, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items: list[ChecklistItem] = list(call_type.items.filter(active=True))
        self.fields["done"].choices = [
            (str(item.pk), f"{item} ({item.weight})") for item in self.items
        ]

    def done_items(self) -> set[int]:
        return {int(pk) for pk in self.cleaned_data["done"]}
