"""Client analysis: the monthly ABC/XYZ classes, rhythm alerts and what they are set by."""

import uuid
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel, User
from crm_sync.models import Client


class ClientAnalysisSettings(TenantModel):
    """A company's thresholds; created with the defaults the first time they are read."""

    abc_a_share = models.DecimalField(
        _("класс A — накопленная доля выручки до, %"), max_digits=5, decimal_places=2, default=80
    )
    abc_b_share = models.DecimalField(
        _("класс B — накопленная доля выручки до, %"), max_digits=5, decimal_places=2, default=95
    )
    xyz_x_below = models.DecimalField(
        _("класс X — коэффициент вариации ниже, %"), max_digits=6, decimal_places=2, default=10
    )
    xyz_y_upto = models.DecimalField(
        _("класс Y — коэффициент вариации до, %"), max_digits=6, decimal_places=2, default=25
    )
    window_months = models.PositiveSmallIntegerField(_("окно анализа, месяцев"), default=12)
    rhythm_tolerance = models.DecimalField(
        _("допуск ритма заказов, раз"), max_digits=4, decimal_places=2, default=Decimal("1.5")
    )
    retention_days = models.PositiveSmallIntegerField(_("окно удержания, дней"), default=90)

    class Meta:
        verbose_name = _("настройки анализа клиентов")
        constraints = [
            models.UniqueConstraint(fields=["company"], name="clientsettings_company_uniq"),
        ]


class AcquisitionCost(TenantModel):
    """What bringing in new clients cost in a month (marketing, leads): the admin enters it."""

    code = models.UUIDField(default=uuid.uuid4, editable=False)
    month = models.DateField(_("месяц"))
    amount = models.DecimalField(_("затраты на привлечение"), max_digits=18, decimal_places=2)

    class Meta:
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="acqcost_code_uniq"),
            models.UniqueConstraint(fields=["company", "month"], name="acqcost_month_uniq"),
        ]


class ClientClass(TenantModel):
    """A client's ABC and XYZ class as of a month's last day (or today, for the running one)."""

    class ABC(models.TextChoices):
        A = "A", "A"
        B = "B", "B"
        C = "C", "C"

    class XYZ(models.TextChoices):
        X = "X", "X"
        Y = "Y", "Y"
        Z = "Z", "Z"

    month = models.DateField(_("месяц"))
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="classes")
    # The manager of the client's latest won deal: whose client it is now.
    manager = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    abc = models.CharField(max_length=1, choices=ABC.choices)
    xyz = models.CharField(max_length=1, choices=XYZ.choices)
    revenue = models.DecimalField(_("выручка за окно"), max_digits=18, decimal_places=2)
    cv = models.DecimalField(_("коэффициент вариации, %"), max_digits=9, decimal_places=2)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-revenue", "client__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "month", "client"], name="clientclass_month_uniq"
            ),
        ]
        indexes = [
            models.Index(fields=["company", "month", "abc", "xyz"], name="clientclass_cell_idx")
        ]

    @property
    def cell(self) -> str:
        return self.abc + self.xyz


class ClientAlert(TenantModel):
    """A regular client (A or X) overdue against their own rhythm of orders: call them."""

    class Status(models.TextChoices):
        OPEN = "open", _("открыт")
        CLOSED = "closed", _("закрыт")

    code = models.UUIDField(default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="alerts")
    manager = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_order_on = models.DateField(_("последний заказ"))
    median_gap_days = models.DecimalField(
        _("обычный интервал, дней"), max_digits=7, decimal_places=1
    )
    due_since = models.DateField(_("пора позвонить с"))
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_since", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="clientalert_code_uniq"),
            # One open alert per client: the daily job may run twice without a duplicate.
            models.UniqueConstraint(
                fields=["company", "client"],
                condition=models.Q(status="open"),
                name="clientalert_open_uniq",
            ),
        ]
