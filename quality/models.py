"""Call quality control: checklists per call type, the controllers' scores, soft salary."""

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel, User
from crm_sync.models import Call


class QualitySettings(TenantModel):
    """A company's quality rules: the share of salary tied to the call-quality score."""

    soft_salary_share = models.DecimalField(
        _("доля зарплаты, зависящая от качества, %"),
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Часто 30 % («мягкая» часть). 0 — зарплата от качества не зависит."),
    )
    days_back = models.PositiveSmallIntegerField(
        _("звонки для проверки — за последние, дней"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company"], name="qualitysettings_uniq"),
        ]


class CallType(TenantModel):
    """A kind of call the controller listens for (needs discovery, objection handling…)."""

    code = models.UUIDField(default=uuid.uuid4, editable=False)
    name = models.CharField(_("тип звонка"), max_length=100)
    position = models.PositiveSmallIntegerField(_("порядок"), default=0)
    active = models.BooleanField(_("проверяется"), default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("тип звонка")
        verbose_name_plural = _("типы звонков")
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="calltype_code_uniq"),
            models.UniqueConstraint(fields=["company", "name"], name="calltype_name_uniq"),
        ]

    def __str__(self) -> str:
        # The names the product seeds are in the catalogue: shown in the page's language;
        # a company's own name is shown as written.
        return gettext(self.name)


class ChecklistItem(TenantModel):
    """One point of a call type's checklist, with its weight in the score.

    An item that has been scored is retired (`active=False`) rather than deleted, so old
    scores keep their marks.
    """

    code = models.UUIDField(default=uuid.uuid4, editable=False)
    call_type = models.ForeignKey(CallType, on_delete=models.CASCADE, related_name="items")
    text = models.CharField(_("пункт чек-листа"), max_length=300)
    weight = models.PositiveSmallIntegerField(
        _("вес"), default=1, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    position = models.PositiveSmallIntegerField(_("порядок"), default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="checklistitem_code_uniq"),
        ]

    def __str__(self) -> str:
        # The names the product seeds are in the catalogue: shown in the page's language;
        # a company's own name is shown as written.
        return gettext(self.text)


class CallScore(TenantModel):
    """One controller's score of one call against one call type's checklist."""

    code = models.UUIDField(default=uuid.uuid4, editable=False)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="scores")
    call_type = models.ForeignKey(CallType, on_delete=models.PROTECT, related_name="scores")
    controller = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="scores_given"
    )
    # The call's manager when it was scored: the score stays theirs if the call is reassigned.
    manager = models.ForeignKey(User, on_delete=models.CASCADE, related_name="call_scores")
    # The company-local day of the call (the month it counts in) and of the scoring.
    call_date = models.DateField()
    scored_on = models.DateField()
    score = models.DecimalField(_("оценка, %"), max_digits=5, decimal_places=2)
    comment = models.TextField(_("комментарий для менеджера"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-scored_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="callscore_code_uniq"),
            models.UniqueConstraint(
                fields=["company", "call", "call_type", "controller"], name="callscore_once"
            ),
        ]
        indexes = [
            models.Index(fields=["company", "manager", "call_date"], name="callscore_month_idx"),
            models.Index(fields=["company", "scored_on"], name="callscore_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.call} {self.call_type}: {self.score}"


class ItemMark(TenantModel):
    """Whether the manager did one checklist point in the scored call."""

    score = models.ForeignKey(CallScore, on_delete=models.CASCADE, related_name="marks")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="marks")
    done = models.BooleanField()
    # The item's weight when scored: a later change of weights does not rewrite old scores.
    weight = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "score", "item"], name="itemmark_uniq"),
        ]
