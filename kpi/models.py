import uuid
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import SalesRole, TenantModel, User

# The database's backstop for the per-unit bounds of kpi.values.BOUNDS: the widest of them
# (a day's money; a month's plan of money), so that no figure beyond every unit is stored.
MAX_DAY_FIGURE = Decimal(10**12)
MAX_PLAN_FIGURE = MAX_DAY_FIGURE * 31


def figure_in_range(
    field: str, ceiling: Decimal, *, name: str, nullable: bool = False
) -> models.CheckConstraint:
    in_range = Q(**{f"{field}__gte": 0, f"{field}__lte": ceiling})
    if nullable:
        in_range |= Q(**{f"{field}__isnull": True})
    return models.CheckConstraint(condition=in_range, name=name)


class KPI(TenantModel):
    """A KPI definition of one company: what is measured and how days combine."""

    class Unit(models.TextChoices):
        COUNT = "count", _("штуки")
        MONEY = "money", _("деньги")
        DURATION = "duration", _("длительность")
        PERCENT = "percent", _("проценты")
        # A plain number with two decimals: a multiple such as LTV : CAC.
        NUMBER = "number", _("число")

    class Direction(models.TextChoices):
        HIGHER = "higher", _("больше — лучше")
        LOWER = "lower", _("меньше — лучше")

    class Aggregation(models.TextChoices):
        SUM = "sum", _("сумма")
        AVERAGE = "avg", _("среднее по дням с отчётом")
        LAST = "last", _("последнее значение")
        RATIO = "ratio", _("отношение сумм двух KPI")

    class Source(models.TextChoices):
        MANUAL = "manual", _("вводит менеджер")
        CRM = "crm", _("CRM")
        TELEPHONY = "telephony", _("телефония")
        COMPUTED = "computed", _("вычисляется")
        # Filled by the quality controllers' scores of the day's calls, never typed.
        QUALITY = "quality", _("контроль качества")
        # Payments and the receivables balance from 1C (payments/): revenue counted by what
        # was paid, not by deals won.
        ACCOUNTING = "accounting", _("бухгалтерия (1С)")

    class Record(models.TextChoices):
        """Which figure of a manager's day counts, for a KPI a source supplies too
        (reports/record.py holds the rule)."""

        SOURCE = "source", _("цифра источника (CRM, телефонии или 1С)")
        MANAGER = "manager", _("цифра менеджера")
        CHECKED = "checked", _("цифра менеджера, сверенная с источником")

    code = models.SlugField(_("код"), max_length=50)
    uid = models.UUIDField(default=uuid.uuid4, editable=False)
    name_ru = models.CharField(_("название (рус.)"), max_length=200)
    name_en = models.CharField(_("название (англ.)"), max_length=200, blank=True)
    unit = models.CharField(_("единица"), max_length=16, choices=Unit.choices)
    direction = models.CharField(
        _("направление"), max_length=8, choices=Direction.choices, default=Direction.HIGHER
    )
    aggregation = models.CharField(
        _("сведение за период"), max_length=8, choices=Aggregation.choices, default=Aggregation.SUM
    )
    # For a ratio KPI: value = Σ numerator / Σ denominator over the period (× 100 for percent).
    numerator = models.ForeignKey(
        "self",
        verbose_name=_("числитель"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    denominator = models.ForeignKey(
        "self",
        verbose_name=_("знаменатель"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    source = models.CharField(
        _("источник"), max_length=16, choices=Source.choices, default=Source.MANUAL
    )
    record = models.CharField(
        _("цифра учёта"), max_length=8, choices=Record.choices, default=Record.MANAGER
    )
    decimals = models.PositiveSmallIntegerField(_("знаков после запятой"), default=0)
    band_red_below = models.DecimalField(
        _("красный — ниже, %"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    band_green_from = models.DecimalField(
        _("зелёный — от, %"), max_digits=6, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["code"]
        verbose_name = "KPI"
        verbose_name_plural = "KPI"
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="kpi_code_uniq"),
            models.UniqueConstraint(fields=["company", "uid"], name="kpi_uid_uniq"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        english = (get_language() or "ru").startswith("en")
        return self.name_en if english and self.name_en else self.name_ru

    @property
    def has_source(self) -> bool:
        """A CRM, the telephony or 1C supplies the KPI's day figures (ImportedFigure)."""
        return self.source in SOURCED

    @property
    def is_summed(self) -> bool:
        return self.aggregation == self.Aggregation.SUM


# The sources whose day figures are stored as ImportedFigure and may be the figure of record.
SOURCED = frozenset({KPI.Source.CRM, KPI.Source.TELEPHONY, KPI.Source.ACCOUNTING})


def default_record(source: str) -> str:
    """A new KPI a source supplies is checked against it; any other takes what is typed."""
    return KPI.Record.CHECKED if source in SOURCED else KPI.Record.MANAGER


class RoleKPI(TenantModel):
    """A KPI in a sales role's set from `effective_from` until `effective_to` (exclusive)."""

    sales_role = models.ForeignKey(SalesRole, on_delete=models.CASCADE, related_name="role_kpis")
    kpi = models.ForeignKey(KPI, on_delete=models.PROTECT, related_name="role_kpis")
    position = models.PositiveSmallIntegerField(default=0)
    effective_from = models.DateField(_("действует с"))
    effective_to = models.DateField(_("действует до"), null=True, blank=True)
    changed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["position", "kpi__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "sales_role", "kpi", "effective_from"], name="rolekpi_uniq"
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_to__gt=models.F("effective_from")),
                name="rolekpi_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sales_role}: {self.kpi}"


class Plan(TenantModel):
    """A plan for one KPI and one month (or week): a manager's own, or the role's default."""

    class Period(models.TextChoices):
        MONTH = "month", _("месяц")
        WEEK = "week", _("неделя")

    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="plans")
    period = models.CharField(max_length=8, choices=Period.choices, default=Period.MONTH)
    # The first day of the month, or the Monday of the week.
    start = models.DateField()
    manager = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="plans"
    )
    sales_role = models.ForeignKey(
        SalesRole, on_delete=models.CASCADE, null=True, blank=True, related_name="plans"
    )
    value = models.DecimalField(max_digits=18, decimal_places=4)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(manager__isnull=True) ^ Q(sales_role__isnull=True),
                name="plan_manager_xor_role",
            ),
            models.UniqueConstraint(
                fields=["company", "kpi", "period", "start", "manager"],
                condition=Q(manager__isnull=False),
                name="plan_manager_uniq",
            ),
            models.UniqueConstraint(
                fields=["company", "kpi", "period", "start", "sales_role"],
                condition=Q(sales_role__isnull=False),
                name="plan_role_uniq",
            ),
            figure_in_range("value", MAX_PLAN_FIGURE, name="plan_value_bounds"),
        ]

    def __str__(self) -> str:
        return f"{self.manager or self.sales_role} {self.kpi} {self.start}: {self.value}"


class PlanChange(TenantModel):
    """The history of plans: every change with who, when, the old and the new value."""

    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=8, choices=Plan.Period.choices)
    start = models.DateField()
    manager = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    sales_role = models.ForeignKey(
        SalesRole, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    old_value = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    new_value = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    changed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        constraints = [
            figure_in_range(
                "old_value", MAX_PLAN_FIGURE, name="planchange_old_bounds", nullable=True
            ),
            figure_in_range(
                "new_value", MAX_PLAN_FIGURE, name="planchange_new_bounds", nullable=True
            ),
        ]


class CalendarDay(TenantModel):
    """A company's exception to its country's calendar: an extra working day or day off.

    The country's decreed transfers are not stored here: kpi.calendar reads them from
    `holidays` (migration 0006 removed the copies once made at a company's creation).
    """

    class Origin(models.TextChoices):
        COMPANY = "company", _("решение компании")

    date = models.DateField(_("дата"))
    is_working = models.BooleanField(_("рабочий день"))
    note = models.CharField(_("пояснение"), max_length=200, blank=True)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.COMPANY)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["company", "date"], name="calendarday_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.date}: {'working' if self.is_working else 'day off'}"


class Absence(TenantModel):
    """A manager's vacation or sick leave: those days leave the manager's plan split."""

    class Kind(models.TextChoices):
        VACATION = "vacation", _("отпуск")
        SICK = "sick", _("больничный")
        OTHER = "other", _("другое")

    code = models.UUIDField(default=uuid.uuid4, editable=False)
    manager = models.ForeignKey(User, on_delete=models.CASCADE, related_name="absences")
    kind = models.CharField(_("причина"), max_length=16, choices=Kind.choices)
    start = models.DateField(_("с"))
    end = models.DateField(_("по"))

    class Meta:
        ordering = ["-start"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="absence_code_uniq"),
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="absence_dates"),
        ]

    def __str__(self) -> str:
        return f"{self.manager} {self.kind} {self.start}–{self.end}"
