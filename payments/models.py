"""Money from accounting: payments received and the receivables balance per client, as 1C
reports them (a file of its standard reports, or its OData interface), linked to the CRM's
clients and deals so that a revenue KPI can count what was paid."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel, User
from crm_sync.models import Client, Deal


class Source(models.TextChoices):
    FILE = "file", _("Файл из 1С")
    ODATA = "odata", _("1С по OData")


class Payment(TenantModel):
    """A payment received from a client (1C: «Поступление на расчётный счёт», a bank
    statement's incoming payment order)."""

    code = models.UUIDField(default=uuid.uuid4, editable=False)
    source = models.CharField(max_length=8, choices=Source.choices)
    # The file's document number and date (1C numbers start again each year), or the
    # document's Ref_Key over OData: the same payment twice is one payment.
    external_id = models.CharField(max_length=100)
    paid_on = models.DateField(_("дата оплаты"))
    amount = models.DecimalField(_("сумма"), max_digits=18, decimal_places=2)
    payer_name = models.CharField(_("плательщик"), max_length=255, blank=True)
    payer_inn = models.CharField(_("ИНН"), max_length=12, blank=True)
    contract = models.CharField(_("договор"), max_length=255, blank=True)
    deal_ref = models.CharField(_("сделка в 1С"), max_length=100, blank=True)
    purpose = models.TextField(_("назначение платежа"), blank=True)
    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="payments"
    )
    deal = models.ForeignKey(
        Deal, on_delete=models.SET_NULL, null=True, blank=True, related_name="payments"
    )
    # Whose revenue it is: the deal's manager, else the manager of the client's last deal.
    manager = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-paid_on", "-id"]
        verbose_name = _("оплата")
        verbose_name_plural = _("оплаты")
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="payment_code_uniq"),
            models.UniqueConstraint(
                fields=["company", "source", "external_id"], name="payment_external_uniq"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0, amount__lte=10**12), name="payment_amount_bounds"
            ),
        ]
        indexes = [
            models.Index(fields=["company", "paid_on"], name="payment_day_idx"),
            models.Index(fields=["company", "manager", "paid_on"], name="payment_manager_idx"),
        ]


class Balance(TenantModel):
    """What a client owes on a day (1C: the closing balance of account 62 by counterparty;
    a credit balance, a prepayment, is negative)."""

    code = models.UUIDField(default=uuid.uuid4, editable=False)
    source = models.CharField(max_length=8, choices=Source.choices)
    as_of = models.DateField(_("на дату"))
    payer_name = models.CharField(_("контрагент"), max_length=255)
    payer_inn = models.CharField(_("ИНН"), max_length=12, blank=True)
    amount = models.DecimalField(_("задолженность"), max_digits=18, decimal_places=2)
    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="balances"
    )
    manager = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-as_of", "payer_name"]
        verbose_name = _("задолженность клиента")
        verbose_name_plural = _("дебиторская задолженность")
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="balance_code_uniq"),
            models.UniqueConstraint(
                fields=["company", "as_of", "payer_name", "payer_inn"], name="balance_payer_uniq"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=-(10**12), amount__lte=10**12),
                name="balance_amount_bounds",
            ),
        ]


class PayerLink(TenantModel):
    """The admin's word on which client a payer of 1C is (by ИНН, else by its name as 1C
    writes it): every payment and balance of that payer, past and future, goes to it."""

    key = models.CharField(max_length=300)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "key"], name="payerlink_key_uniq"),
        ]


class ODataConnection(TenantModel):
    """A company's 1C:Enterprise infobase published with the standard OData interface."""

    code = models.UUIDField(default=uuid.uuid4, editable=False)
    # The infobase's publication, e.g. https://1c.example.ru/buh; /odata/standard.odata/ is
    # appended.
    base_url = models.URLField(_("адрес публикации базы 1С"), max_length=300)
    username = models.CharField(_("пользователь 1С"), max_length=100)
    # Fernet-encrypted (accounts.crypto): never rendered back.
    password = models.TextField(blank=True)
    payments_entity = models.CharField(
        _("документ поступлений"), max_length=100, default="Document_ПоступлениеНаРасчетныйСчет"
    )
    balances_entity = models.CharField(
        _("регистр расчётов"), max_length=100, default="AccumulationRegister_РасчетыСКонтрагентами"
    )
    pull_from = models.DateField(_("загружать оплаты с"))
    active = models.BooleanField(_("включено"), default=True)
    last_pull_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("подключение 1С")
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="odataconnection_code_uniq"),
            models.UniqueConstraint(fields=["company"], name="odataconnection_one_per_company"),
        ]
