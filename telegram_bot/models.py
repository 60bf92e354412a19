from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel, User


class Update(TenantModel):
    """An update Telegram delivered to the company's webhook, kept until it is processed.

    Written by the webhook before it answers, so nothing is lost while the worker is down;
    unique per update_id, so an update Telegram delivers again is stored and processed once.
    """

    update_id = models.BigIntegerField()
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "update_id"], name="tg_update_once"),
        ]
        indexes = [models.Index(fields=["company", "processed_at"], name="tg_update_pending")]


class BindingCode(TenantModel):
    """A one-time code of the profile's t.me/<bot>?start=<code> link: only its hash is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "code_hash"], name="tg_binding_code_uniq"),
        ]


class Conversation(TenantModel):
    """Where a chat is in the day's report, one row per chat: a worker restart loses nothing.

    `values` holds the text typed per KPI code (read by the same parser as the web form when
    the report is sent); `step` is the KPI being asked, or one of the STEP_* phases.
    """

    chat_id = models.CharField(max_length=32)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(null=True, blank=True)
    step = models.CharField(max_length=64, blank=True)
    values = models.JSONField(default=dict)
    skipped = models.JSONField(default=list)
    # The codes the service asked to confirm ("far above usual"), with its questions.
    questions = models.JSONField(default=dict)
    # A correction of one value returns to the summary rather than to the next KPI.
    correcting = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "chat_id"], name="tg_conversation_chat"),
        ]


class AlertPreferences(TenantModel):
    """What a person gets in Telegram; everything is on until they turn it off."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    reminders = models.BooleanField(_("напоминание об отчёте и отчёт в чате"), default=True)
    digest = models.BooleanField(_("сводка руководителя и «нужен разговор»"), default=True)
    kpi_warnings = models.BooleanField(_("красные KPI и риск по месяцу"), default=True)
    client_calls = models.BooleanField(_("«Пора позвонить» клиентам"), default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "user"], name="tg_preferences_once"),
        ]
