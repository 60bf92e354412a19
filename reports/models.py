import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel, User
from kpi.models import KPI, MAX_DAY_FIGURE, figure_in_range


class DailyReport(TenantModel):
    """A manager's end-of-day report: one per manager per day (a database constraint)."""

    code = models.UUIDField(default=uuid.uuid4, editable=False)
    manager = models.ForeignKey(User, on_delete=models.CASCADE, related_name="daily_reports")
    date = models.DateField(_("дата"))
    submitted_at = models.DateTimeField(_("отправлен"))
    submitted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("изменён"), null=True, blank=True)
    # Raised on every change: a form or API call that saw an older version is a conflict.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["company", "manager", "date"], name="report_day_uniq"),
            models.UniqueConstraint(fields=["company", "code"], name="report_code_uniq"),
        ]
        indexes = [
            # A company's reports of a day or a span, whoever filed them: the rollup engine's
            # facts, the day's reporters (dashboard, reminders), the buckets a change marks.
            # report_day_uniq leads with the manager, so a date range under it read every
            # entry of the company's whole history.
            models.Index(fields=["company", "date"], name="report_company_day"),
        ]

    def __str__(self) -> str:
        return f"{self.manager} {self.date}"


class ReportValue(TenantModel):
    class Source(models.TextChoices):
        MANUAL = "manual", _("введено вручную")
        CRM = "crm", _("из CRM")
        TELEPHONY = "telephony", _("из телефонии")
        QUALITY = "quality", _("из оценок контроля качества")
        ACCOUNTING = "accounting", _("из 1С")

    report = models.ForeignKey(DailyReport, on_delete=models.CASCADE, related_name="values")
    kpi = models.ForeignKey(KPI, on_delete=models.PROTECT, related_name="report_values")
    value = models.DecimalField(max_digits=18, decimal_places=4)
    # Where the figure came from: typed, or accepted as the import prefilled it.
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "report", "kpi"], name="reportvalue_uniq"),
            figure_in_range("value", MAX_DAY_FIGURE, name="reportvalue_bounds"),
        ]

    def __str__(self) -> str:
        return f"{self.report} {self.kpi.code}={self.value}"


class ImportedFigure(TenantModel):
    """A day's figure as the CRM or the telephony recorded it: prefills the report."""

    manager = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=16, choices=ReportValue.Source.choices)
    value = models.DecimalField(max_digits=18, decimal_places=4)
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "manager", "date", "kpi", "source"], name="imported_uniq"
            ),
            figure_in_range("value", MAX_DAY_FIGURE, name="importedfigure_bounds"),
        ]


class ReportChange(TenantModel):
    """A change to a submitted report: who, when, the old and new value, and why."""

    report = models.ForeignKey(DailyReport, on_delete=models.CASCADE, related_name="changes")
    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="+")
    old_value = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    new_value = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    changed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(_("причина"), max_length=300, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        constraints = [
            figure_in_range(
                "old_value", MAX_DAY_FIGURE, name="reportchange_old_bounds", nullable=True
            ),
            figure_in_range(
                "new_value", MAX_DAY_FIGURE, name="reportchange_new_bounds", nullable=True
            ),
        ]


class ReportDraft(TenantModel):
    """What the manager typed and has not submitted yet: survives a reload."""

    manager = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "manager", "date"], name="draft_uniq"),
        ]


class ClosedMonth(TenantModel):
    """A month the head of sales closed: its reports are read-only but for an admin's fix."""

    month = models.DateField()
    closed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "month"], name="closedmonth_uniq"),
        ]


class Reminder(TenantModel):
    """A reminder (or digest) to one person: one per person, day and kind, so none goes twice.

    The row is the claim, written with its message before anything is sent. Each channel
    then records its own delivery, so a failed one is retried alone and a sent one is never
    sent again (reports/reminders.py).
    """

    class Kind(models.TextChoices):
        MISSING = "missing", _("нет отчёта")
        SUMMARY = "summary", _("сводка руководителю")
        DIGEST = "digest", _("сводка дашборда")
        # Telegram only (telegram_bot/alerts.py).
        KPI_WARNING = "kpi_warning", _("красные KPI и риск по месяцу")
        CLIENT_CALLS = "client_calls", _("«Пора позвонить»")

    class Delivery(models.TextChoices):
        NONE = "", _("канал не используется")
        PENDING = "pending", _("ждёт отправки")
        SENDING = "sending", _("отправляется")
        SENT = "sent", _("отправлено")
        FAILED = "failed", _("не доставлено")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    subject = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    # The channels that went out, in the order they did.
    channels = models.CharField(max_length=64, blank=True)
    email_state = models.CharField(max_length=8, choices=Delivery.choices, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_error = models.CharField(max_length=500, blank=True)
    telegram_state = models.CharField(max_length=8, choices=Delivery.choices, blank=True)
    telegram_attempts = models.PositiveSmallIntegerField(default=0)
    telegram_error = models.CharField(max_length=500, blank=True)
    # When the reminder was claimed; each channel goes out right after, or on a retry.
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "user", "date", "kind"], name="reminder_once"
            ),
        ]
