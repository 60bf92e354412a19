from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Company, User
from kpi.models import KPI, Absence


class DateInput(forms.DateInput):
    """The browser's date picker: it reads and writes ISO dates whatever the UI language."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class KPIForm(forms.Form):
    # Both optional: the code is made from the name (services.kpi_code_for), a KPI without
    # an English name is shown in English by its Russian one.
    code = forms.SlugField(
        label=_("Код"),
        max_length=50,
        required=False,
        help_text=_("Для API и выгрузок. Пусто — сформируется из названия."),
    )
    name_ru = forms.CharField(label=_("Название (рус.)"), max_length=200)
    name_en = forms.CharField(
        label=_("Название (англ.)"),
        max_length=200,
        required=False,
        help_text=_("Пусто — в английской версии будет русское название."),
    )
    unit = forms.ChoiceField(label=_("Единица"), choices=KPI.Unit.choices)
    direction = forms.ChoiceField(label=_("Направление"), choices=KPI.Direction.choices)
    aggregation = forms.ChoiceField(label=_("Сведение за период"), choices=KPI.Aggregation.choices)
    numerator = forms.ModelChoiceField(label=_("Числитель"), queryset=None, required=False)
    denominator = forms.ModelChoiceField(label=_("Знаменатель"), queryset=None, required=False)
    source = forms.ChoiceField(label=_("Источник"), choices=KPI.Source.choices)
    record = forms.ChoiceField(
        label=_("Цифра учёта"),
        choices=KPI.Record.choices,
        initial=KPI.Record.MANAGER,
        # Left out (an older page, a script): the KPI keeps its own, a new one the default.
        required=False,
        help_text=_(
            "Какая цифра дня считается в итогах, на дашборде, в воронке и в API, если её "
            "вводит менеджер и присылает CRM или телефония. «Сверенная с источником»: "
            "считается цифра менеджера, а расхождение с источником отмечается."
        ),
    )
    decimals = forms.IntegerField(label=_("Знаков после запятой"), min_value=0, max_value=4)
    band_red_below = forms.DecimalField(
        label=_("Свой красный — ниже, %"), required=False, min_value=0, max_digits=6
    )
    band_green_from = forms.DecimalField(
        label=_("Свой зелёный — от, %"),
        required=False,
        min_value=0,
        max_digits=6,
        help_text=_("Пусто — границы компании."),
    )

    # The name first: the code is made from it when left empty.
    field_order = ("name_ru", "name_en", "code")

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        summed = KPI.objects.filter(company=company, aggregation=KPI.Aggregation.SUM)
        self.fields["numerator"].queryset = summed
        self.fields["denominator"].queryset = summed

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("record"):
            data.pop("record", None)
        if not data.get("code"):
            # A new KPI gets one made from its name; an edited one keeps its own.
            data.pop("code", None)
        return data


# The years the calendar pages handle: beyond them there is no production calendar, and near
# year 9999 the month arithmetic after a date overflows.
FIRST_YEAR, LAST_YEAR = 2000, 2100


class CalendarDateField(forms.DateField):
    """A date within FIRST_YEAR..LAST_YEAR."""

    widget = DateInput

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise ValidationError(
                _("Укажите дату с %(first)s по %(last)s год."),
                params={"first": FIRST_YEAR, "last": LAST_YEAR},
            )


class BandsForm(forms.Form):
    band_red_below = forms.DecimalField(label=_("Красный — ниже, %"), min_value=0, max_digits=6)
    band_green_from = forms.DecimalField(label=_("Зелёный — от, %"), min_value=0, max_digits=6)


class RoleKPIChangeForm(forms.Form):
    """Adds or removes one KPI of a role's set, from a date."""

    effective_from = forms.DateField(label=_("Действует с"), widget=DateInput())
    kpi = forms.ModelChoiceField(label=_("KPI"), queryset=None)

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["effective_from"].initial = company.today()
        self.fields["kpi"].queryset = KPI.objects.filter(company=company)


class CalendarDayForm(forms.Form):
    date = CalendarDateField(label=_("Дата"))
    is_working = forms.TypedChoiceField(
        label=_("Этот день"),
        choices=[("1", _("рабочий")), ("0", _("выходной"))],
        coerce=lambda value: value == "1",
    )
    note = forms.CharField(label=_("Пояснение"), max_length=200, required=False)


class AbsenceForm(forms.Form):
    manager = forms.ModelChoiceField(label=_("Менеджер"), queryset=None)
    kind = forms.ChoiceField(label=_("Причина"), choices=Absence.Kind.choices)
    start = CalendarDateField(label=_("С"))
    end = CalendarDateField(label=_("По"))

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = User.objects.filter(
            company=company, role=User.Role.MANAGER, is_active=True
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError({"end": _("Дата окончания раньше даты начала.")})
        return data


class UpliftForm(forms.Form):
    percent = forms.DecimalField(
        label=_("Изменить планы на, %"),
        max_digits=6,
        decimal_places=2,
        min_value=-90,
        max_value=500,
    )
