"""A company's webhook subscriptions and the log of what was sent to them."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel


class Event(models.TextChoices):
    REPORT_FILED = "report.filed", _("Отчёт сдан")
    REPORT_CORRECTED = "report.corrected", _("Отчёт исправлен")
    MONTH_CLOSED = "month.closed", _("Месяц закрыт")
    MANAGER_AT_RISK = "manager.at_risk", _("Менеджер под угрозой невыполнения плана")
    DEAL_WON = "deal.won", _("Сделка выиграна")


class Subscription(TenantModel):
    code = models.UUIDField(default=uuid.uuid4, editable=False)
    url = models.URLField(_("адрес"), max_length=500)
    events = models.JSONField(_("события"), default=list)
    description = models.CharField(_("описание"), max_length=200, blank=True)
    # Kept as is: every delivery is signed with it (HMAC), so a hash would not do. It is
    # shown once, when the subscription is made.
    secret = models.CharField(max_length=64)
    active = models.BooleanField(_("включена"), default=True)
    # The sequence number of the last event queued to this subscription: each delivery gets
    # the next one, so that a receiver can put events back in order.
    last_sequence = models.PositiveBigIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="webhook_subscription_code")
        ]

    def __str__(self) -> str:
        return self.url


class Delivery(TenantModel):
    class State(models.TextChoices):
        PENDING = "pending", _("ожидает отправки")
        DELIVERED = "delivered", _("доставлено")
        FAILED = "failed", _("не доставлено")

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The delivery's id (X-Salesdesk-Delivery); the same for every attempt of it.
    code = models.UUIDField(default=uuid.uuid4, editable=False)
    # One event sent to several subscriptions has one id in all of them.
    event_id = models.UUIDField()
    event = models.CharField(max_length=40, choices=Event.choices)
    # What makes an event the same one twice (a won deal saved again): not sent again.
    key = models.CharField(max_length=200, blank=True)
    sequence = models.PositiveBigIntegerField()
    payload = models.JSONField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # A short excerpt of the last answer or error, never the whole body.
    last_error = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["subscription", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="webhook_delivery_code"),
            models.UniqueConstraint(
                fields=["company", "subscription", "sequence"], name="webhook_delivery_sequence"
            ),
            models.UniqueConstraint(
                fields=["company", "subscription", "event", "key"],
                condition=~models.Q(key=""),
                name="webhook_delivery_key",
            ),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="webhook_delivery_due")]
