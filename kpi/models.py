import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import SalesRole, TenantModel, User


class KPI(TenantModel):
    """A KPI definition of one company: what is measured and how days combine."""

    class Unit(models.TextChoices):
        COUNT = "count", _("штуки")
        MONEY = "money", _("деньги")
        DURATION = "duration", _("длительность")
        PERCENT = "percent", _("проценты")

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

    code = models.SlugField(_("код"), max_length=50)
    uid = models.UUIDField(default=uuid.uuid4, editable=False)
    name_ru = models.CharField(_("название (рус.)"), max_length=200)
    name_en = models.CharField(_("название (англ.)"), max_length=200)
    unit = models.CharField(_("единица"), max_length=16, choices=Unit.choices)
    direction = models.CharField(
        _("направление"), max_length=8, choices=Direction.choices, default=Direction.HIGHER
    )
    aggregation = models.CharField(
        _("сведение за период"), max_length=8, choices=Aggregation.choices, default=Aggregation.SUM
    )
    # For a ratio KPI: value = Σ numerator / Σ denominator over the period (× 100 for percent).
    numerator = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    denominator = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.CharField(
        _("источник"), max_length=16, choices=Source.choices, default=Source.MANUAL
    )
    decimals = models.PositiveSmallIntegerField(_("знаков после запятой"), default=0)

    class Meta:
        ordering = ["code"]
        verbose_name = "KPI"
        verbose_name_plural = "KPI"
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="kpi_code_uniq"),
            models.UniqueConstraint(fields=["company", "uid"], name="kpi_uid_uniq"),
        ]

    def __str__(self) -> str:
        return self.name_ru


class RoleKPI(TenantModel):
    """A KPI in a sales role's set from `effective_from` (until `effective_to`, exclusive)."""

    sales_role = models.ForeignKey(SalesRole, on_delete=models.CASCADE, related_name="role_kpis")
    kpi = models.ForeignKey(KPI, on_delete=models.PROTECT, related_name="role_kpis")
    position = models.PositiveSmallIntegerField(default=0)
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["position", "kpi__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "sales_role", "kpi", "effective_from"], name="rolekpi_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sales_role}: {self.kpi}"


class Plan(TenantModel):
    """A manager's monthly plan for one KPI (`month` is the first day of the month)."""

    manager = models.ForeignKey(User, on_delete=models.CASCADE, related_name="plans")
    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="plans")
    month = models.DateField()
    value = models.DecimalField(max_digits=18, decimal_places=4)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "manager", "kpi", "month"], name="plan_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.manager} {self.kpi} {self.month:%Y-%m}: {self.value}"
