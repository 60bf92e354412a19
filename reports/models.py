import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel, User
from kpi.models import KPI


class DailyReport(TenantModel):
    """A manager's end-of-day report: one per manager per day."""

    code = models.UUIDField(default=uuid.uuid4, editable=False)
    manager = models.ForeignKey(User, on_delete=models.CASCADE, related_name="daily_reports")
    date = models.DateField(_("дата"))
    submitted_at = models.DateTimeField(_("отправлен"))

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["company", "manager", "date"], name="report_day_uniq"),
            models.UniqueConstraint(fields=["company", "code"], name="report_code_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.manager} {self.date}"


class ReportValue(TenantModel):
    report = models.ForeignKey(DailyReport, on_delete=models.CASCADE, related_name="values")
    kpi = models.ForeignKey(KPI, on_delete=models.PROTECT, related_name="report_values")
    value = models.DecimalField(max_digits=18, decimal_places=4)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "report", "kpi"], name="reportvalue_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.report} {self.kpi.code}={self.value}"
