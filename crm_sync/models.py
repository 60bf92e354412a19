"""Where the figures come from: the pipeline, deals with their stage history, calls, and
the sources that bring them in (file import, amoCRM/Kommo, Bitrix24)."""

import uuid

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel, User


class Source(models.TextChoices):
    MANUAL = "manual", _("Вручную")
    FILE = "file", _("Файл")
    AMOCRM = "amocrm", _("amoCRM / Kommo")
    BITRIX24 = "bitrix24", _("Битрикс24")
    TELEPHONY = "telephony", _("Телефония")


class PipelineStage(TenantModel):
    """One step of the company's sales pipeline, in order; won and lost close a deal."""

    class Kind(models.TextChoices):
        OPEN = "open", _("В работе")
        WON = "won", _("Успешно реализовано")
        LOST = "lost", _("Закрыто и не реализовано")

    code = models.UUIDField(default=uuid.uuid4, editable=False)
    name = models.CharField(_("название"), max_length=100)
    position = models.PositiveSmallIntegerField(_("порядок"), default=0)
    kind = models.CharField(_("тип"), max_length=8, choices=Kind.choices, default=Kind.OPEN)
    # The CRM's own id of the status (amoCRM status_id, Bitrix24 STAGE_ID), when mapped.
    external_id = models.CharField(_("код в CRM"), max_length=64, blank=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("этап воронки")
        verbose_name_plural = _("этапы воронки")
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="pipelinestage_code_uniq"),
            models.UniqueConstraint(fields=["company", "name"], name="pipelinestage_name_uniq"),
        ]

    def __str__(self) -> str:
        # The names the product seeds are in the catalogue: shown in the page's language;
        # a company's own name is shown as written.
        return gettext(self.name)


class Client(TenantModel):
    code = models.UUIDField(default=uuid.uuid4, editable=False)
    name = models.CharField(_("клиент"), max_length=200)
    # Digits only, so "+7 (900) 000-00-00" and "79000000000" are one client.
    phone = models.CharField(_("телефон"), max_length=32, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    external_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("клиент")
        verbose_name_plural = _("клиенты")
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="client_code_uniq"),
            models.UniqueConstraint(
                fields=["company", "source", "external_id"],
                condition=~models.Q(external_id=""),
                name="client_external_uniq",
            ),
        ]
        indexes = [models.Index(fields=["company", "phone"], name="client_phone_idx")]

    def __str__(self) -> str:
        return self.name


class Deal(TenantModel):
    class Status(models.TextChoices):
        OPEN = "open", _("В работе")
        WON = "won", _("Выиграна")
        LOST = "lost", _("Проиграна")
        # Closed in sales after the missed-calls rule: marketing's to warm up again.
        RETARGETING = "retargeting", _("Передана на ретаргетинг")

    code = models.UUIDField(default=uuid.uuid4, editable=False)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    external_id = models.CharField(_("номер в источнике"), max_length=64)
    title = models.CharField(_("сделка"), max_length=255, blank=True)
    manager = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="deals"
    )
    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="deals"
    )
    channel = models.CharField(_("канал привлечения"), max_length=100, blank=True)
    amount = models.DecimalField(_("сумма"), max_digits=18, decimal_places=2, default=0)
    stage = models.ForeignKey(PipelineStage, on_delete=models.PROTECT, related_name="deals")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    loss_reason = models.CharField(_("причина проигрыша"), max_length=255, blank=True)
    is_repeat = models.BooleanField(_("повторная продажа"), default=False)
    # The CRM's responsible user, kept when they match none of ours: matched later, the
    # deal is theirs (crm_sync.mapping back-fills `manager`).
    crm_user_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("создана"))
    closed_at = models.DateTimeField(_("закрыта"), null=True, blank=True)
    # When the client is expected to pay an open deal: next month's expected payments.
    expected_payment_on = models.DateField(_("ожидаемая оплата"), null=True, blank=True)
    retargeting_at = models.DateTimeField(_("передана маркетингу"), null=True, blank=True)
    retargeting_reason = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("сделка")
        verbose_name_plural = _("сделки")
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="deal_code_uniq"),
            models.UniqueConstraint(
                fields=["company", "source", "external_id"], name="deal_external_uniq"
            ),
        ]
        indexes = [
            models.Index(fields=["company", "closed_at"], name="deal_closed_idx"),
            models.Index(fields=["company", "status"], name="deal_status_idx"),
        ]

    def __str__(self) -> str:
        return self.title or self.external_id


class Lead(TenantModel):
    """A CRM's lead, kept apart from deals where the CRM keeps them so (Bitrix24's classic
    mode): what «leads created» counts for a department that works leads before deals
    (`CRMConnection.counts_leads`, `crm_sync.services.day_figures`). Converting a lead into a
    deal leaves it one lead, converted; the deal is a deal."""

    class Status(models.TextChoices):
        OPEN = "open", _("В работе")
        CONVERTED = "converted", _("Сконвертирован")
        JUNK = "junk", _("Некачественный")

    source = models.CharField(max_length=16, choices=Source.choices)
    external_id = models.CharField(_("номер в источнике"), max_length=64)
    title = models.CharField(_("лид"), max_length=255, blank=True)
    manager = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    crm_user_id = models.CharField(max_length=64, blank=True)  # as on Deal
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    status_id = models.CharField(_("статус в CRM"), max_length=64, blank=True)
    channel = models.CharField(_("канал привлечения"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("создан"))
    closed_at = models.DateTimeField(_("закрыт"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("лид")
        verbose_name_plural = _("лиды")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "source", "external_id"], name="lead_external_uniq"
            ),
        ]
        indexes = [
            models.Index(fields=["company", "manager", "created_at"], name="lead_day_idx"),
        ]

    def __str__(self) -> str:
        return self.title or self.external_id


class StageVisit(TenantModel):
    """A deal's time in one stage: the stage history the funnel's stage metrics read."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="visits")
    stage = models.ForeignKey(PipelineStage, on_delete=models.CASCADE, related_name="visits")
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["entered_at", "id"]
        indexes = [models.Index(fields=["company", "stage", "left_at"], name="visit_left_idx")]


class Call(TenantModel):
    class Direction(models.TextChoices):
        OUTGOING = "out", _("Исходящий")
        INCOMING = "in", _("Входящий")

    code = models.UUIDField(default=uuid.uuid4, editable=False)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.TELEPHONY)
    external_id = models.CharField(_("номер в источнике"), max_length=64)
    manager = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    phone = models.CharField(_("телефон"), max_length=32, blank=True)
    direction = models.CharField(_("направление"), max_length=3, choices=Direction.choices)
    started_at = models.DateTimeField(_("начало"))
    duration = models.PositiveIntegerField(_("длительность, с"), default=0)
    answered = models.BooleanField(_("состоялся"), default=True)
    crm_user_id = models.CharField(max_length=64, blank=True)  # as on Deal
    # The PBX's own id of the call: a CRM's note of it (amoCRM params.uniq) names the same
    # id, and crm_sync.services.call_upsert keeps one record per id.
    pbx_call_id = models.CharField(_("номер звонка в АТС"), max_length=128, blank=True)
    recording_url = models.URLField(_("запись разговора"), max_length=1000, blank=True)
    # Whom the PBX named (extension, SIP login or number) when it matched no user: what the
    # admin's mapping screen shows and assigns.
    pbx_user = models.CharField(_("сотрудник в АТС"), max_length=64, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("звонок")
        verbose_name_plural = _("звонки")
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="call_code_uniq"),
            models.UniqueConstraint(
                fields=["company", "source", "external_id"], name="call_external_uniq"
            ),
            models.UniqueConstraint(
                fields=["company", "pbx_call_id"],
                condition=~models.Q(pbx_call_id=""),
                name="call_pbx_uniq",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "manager", "started_at"], name="call_day_idx"),
            models.Index(fields=["company", "client", "started_at"], name="call_client_idx"),
        ]


class CRMConnection(TenantModel):
    """A company's link to its CRM: where to pull from, how the CRM proves its webhooks."""

    class Vendor(models.TextChoices):
        AMOCRM = "amocrm", _("amoCRM / Kommo")
        BITRIX24 = "bitrix24", _("Битрикс24")

    code = models.UUIDField(default=uuid.uuid4, editable=False)
    vendor = models.CharField(_("CRM"), max_length=16, choices=Vendor.choices)
    # amoCRM: https://<subdomain>.amocrm.ru; Bitrix24: the inbound webhook URL
    # https://<portal>.bitrix24.ru/rest/<user>/ (its secret part is in `credentials`).
    base_url = models.URLField(_("адрес портала"), max_length=300)
    # Fernet-encrypted (accounts.crypto): the API token; never rendered back in full.
    credentials = models.TextField(blank=True)
    # The secret in our webhook URL (amoCRM).
    webhook_secret = models.CharField(max_length=64)
    # Bitrix24's application_token, sent with every outbound webhook event; encrypted.
    event_token = models.TextField(blank=True)
    active = models.BooleanField(_("включено"), default=True)
    cursor = models.JSONField(default=dict, blank=True)
    last_pull_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Bitrix24: the department works leads before deals (the admin's choice), and whether the
    # portal keeps leads at all (crm.settings.mode.get at the last pull: its «Простая CRM»
    # has none; None: not asked yet). See `counts_leads`.
    works_leads = models.BooleanField(_("отдел работает с лидами"), default=False)
    crm_has_leads = models.BooleanField(null=True, blank=True)
    # The CRM's sales pipelines (amoCRM pipeline_id, Bitrix24 CATEGORY_ID) the admin chose;
    # deals of the others are ignored. Empty: not chosen yet, every deal counts.
    pipelines = models.JSONField(default=list, blank=True)
    # The CRM field a deal's amount is read from: empty for the standard one (amoCRM
    # `price`, Bitrix24 `OPPORTUNITY`), else a money field's id (amoCRM field_id, Bitrix24
    # UF_CRM_…), chosen by the admin from the CRM's own field list.
    amount_field = models.CharField(_("поле суммы сделки"), max_length=64, blank=True)
    amount_field_name = models.CharField(max_length=255, blank=True)  # as the CRM named it
    # The one cache of what the CRM lists (crm_sync.catalog): pipelines and users for the
    # mapping page, the amount fields, what its codes mean (source and stage names, currency
    # rates: webhooks carry only codes), and when it was asked; refreshed by one rule.
    catalog = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("подключение CRM")
        verbose_name_plural = _("подключения CRM")
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="crmconnection_code_uniq"),
            models.UniqueConstraint(fields=["company", "vendor"], name="crmconnection_vendor_uniq"),
        ]

    def __str__(self) -> str:
        return self.get_vendor_display()

    @property
    def counts_leads(self) -> bool:
        """Its leads, not its deals, are the leads its department creates: the admin says the
        department works leads, and the portal has not said it keeps none."""
        return self.works_leads and self.crm_has_leads is not False


class CRMStageLink(TenantModel):
    """One status of a CRM pipeline and the stage of ours it counts as (none: not mapped).

    Keyed by pipeline too: amoCRM's closing statuses 142/143 are in every pipeline."""

    connection = models.ForeignKey(CRMConnection, on_delete=models.CASCADE, related_name="stages")
    pipeline_id = models.CharField(max_length=64)
    status_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True)  # the CRM's, as last read
    stage = models.ForeignKey(
        PipelineStage, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "connection", "pipeline_id", "status_id"],
                name="crmstagelink_uniq",
            ),
        ]


class CRMUserLink(TenantModel):
    """A CRM user and the Salesdesk user their deals and calls belong to (none: unmatched)."""

    connection = models.ForeignKey(CRMConnection, on_delete=models.CASCADE, related_name="people")
    crm_user_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=254, blank=True)
    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["name", "crm_user_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "connection", "crm_user_id"], name="crmuserlink_uniq"
            ),
        ]


class ImportJob(TenantModel):
    """One uploaded CSV/Excel file (deals, calls, 1C's payments or receivables) and how far
    its import got."""

    class Kind(models.TextChoices):
        DEALS = "deals", _("Сделки")
        CALLS = "calls", _("Звонки")
        # 1C's reports, read by payments/onec.py and written by payments/services.py.
        PAYMENTS = "payments", _("Оплаты из 1С")
        BALANCES = "balances", _("Дебиторская задолженность из 1С")

    class Status(models.TextChoices):
        MAPPING = "mapping", _("Сопоставление колонок")
        QUEUED = "queued", _("В очереди")
        RUNNING = "running", _("Идёт импорт")
        DONE = "done", _("Готово")
        FAILED = "failed", _("Остановлен с ошибкой")

    code = models.UUIDField(default=uuid.uuid4, editable=False)
    kind = models.CharField(_("что загружаем"), max_length=8, choices=Kind.choices)
    file_name = models.CharField(max_length=255)
    content = models.BinaryField()
    mapping = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.MAPPING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="importjob_code_uniq"),
        ]
