"""What the dashboard remembers of its viewers: their last visit and their digest."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel, User


class DashboardVisit(TenantModel):
    """A head of sales' last look at the dashboard, to tell what changed since.

    `seen_*` is what the latest page view showed; when a new visit starts (after a gap),
    it becomes the `baseline_*` that the visit's "since your last visit" compares with.
    Bands are the running month's, keyed "manager id:KPI id".
    """

    class Digest(models.TextChoices):
        DAILY = "daily", _("каждый рабочий день")
        WEEKLY = "weekly", _("по понедельникам")
        OFF = "off", _("не присылать")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    baseline_at = models.DateTimeField()
    baseline_month = models.DateField()
    baseline_bands = models.JSONField(default=dict)
    last_seen_at = models.DateTimeField()
    seen_month = models.DateField(null=True)
    seen_bands = models.JSONField(default=dict)
    digest = models.CharField(
        _("сводка на почту"), max_length=8, choices=Digest.choices, default=Digest.DAILY
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "user"], name="dashboardvisit_uniq"),
        ]
