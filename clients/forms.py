from django import forms
from django.utils.translation import gettext_lazy as _


class SettingsForm(forms.Form):
    abc_a_share = forms.DecimalField(
        label=_("Класс A: накопленная доля выручки до, %"), max_digits=5, decimal_places=2
    )
    abc_b_share = forms.DecimalField(
        label=_("Класс B: накопленная доля выручки до, %"),
        max_digits=5,
        decimal_places=2,
        help_text=_("Обычно A — 80 %, B — следующие 15 % (до 95 %), C — последние 5 %."),
    )
    xyz_x_below = forms.DecimalField(
        label=_("Класс X: коэффициент вариации ниже, %"), max_digits=6, decimal_places=2
    )
    xyz_y_upto = forms.DecimalField(
        label=_("Класс Y: коэффициент вариации до, %"),
        max_digits=6,
        decimal_places=2,
        help_text=_("Обычно X — ниже 10 %, Y — от 10 до 25 %, Z — выше 25 %."),
    )
    window_months = forms.IntegerField(label=_("Окно анализа, месяцев"), min_value=1)
    rhythm_tolerance = forms.DecimalField(
        label=_("Допуск ритма заказов, раз"),
        max_digits=4,
        decimal_places=2,
        help_text=_(
            "«Пора позвонить», когда пауза с последнего заказа больше обычного интервала, "
            "умноженного на это число."
        ),
    )
    retention_days = forms.IntegerField(label=_("Окно удержания, дней"), min_value=1)


class AcquisitionCostForm(forms.Form):
    month = forms.DateField(
        label=_("Месяц"),
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        error_messages={"invalid": _("Укажите месяц в виде ГГГГ-ММ.")},
    )
    amount = forms.DecimalField(
        label=_("Затраты на привлечение клиентов за месяц"),
        max_digits=18,
        decimal_places=2,
        min_value=0,
    )
