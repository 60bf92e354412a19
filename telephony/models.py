"""A company's PBXs and what they sent: each vendor's connection (the secrets it issued,
and the company token whose key is in the URL we give it), and every event, kept to refuse
a replay and to merge a call's events into one call."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import CompanyToken, TenantModel


class PBXConnection(TenantModel):
    class Vendor(models.TextChoices):
        MANGO = "mango", _("Mango Office")
        ZADARMA = "zadarma", _("Zadarma")
        NOVOFON = "novofon", _("Новофон")
        SIPUNI = "sipuni", _("Sipuni")
        UIS = "uis", _("UIS / CoMagic")

    code = models.UUIDField(default=uuid.uuid4, editable=False)
    vendor = models.CharField(_("АТС"), max_length=16, choices=Vendor.choices)
    # The key in the receiver's URL: a `calls:push` company token, revoked with the PBX.
    token = models.ForeignKey(CompanyToken, on_delete=models.PROTECT, related_name="+")
    # What the PBX issued: Mango's vpbx_api_key, Zadarma's API key (plain: it is sent
    # with every request), and Fernet-encrypted (accounts.crypto) the salt or secret.
    api_key = models.CharField(_("ключ API"), max_length=100, blank=True)
    api_secret = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    last_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["vendor"]
        verbose_name = _("подключение АТС")
        verbose_name_plural = _("подключения АТС")
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="pbxconnection_code_uniq"),
            models.UniqueConstraint(fields=["company", "vendor"], name="pbxconnection_vendor_uniq"),
        ]

    def __str__(self) -> str:
        return self.get_vendor_display()


class PBXEvent(TenantModel):
    """One event as the receiver took it: its id refuses the same request twice."""

    connection = models.ForeignKey(PBXConnection, on_delete=models.CASCADE, related_name="events")
    call_id = models.CharField(max_length=128)
    event_id = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    facts = models.JSONField(default=dict)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "connection", "event_id"], name="pbxevent_once"
            ),
        ]
        indexes = [
            models.Index(fields=["company", "connection", "call_id"], name="pbxevent_call_idx")
        ]
