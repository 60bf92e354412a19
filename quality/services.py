"""Writes of call quality control: checklists, scores, the company's quality rules."""

import datetime
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import Company, User
from crm_sync.models import Call
from kpi.models import KPI
from quality.models import CallScore, CallType, ChecklistItem, ItemMark, QualitySettings
from quality.selectors import month_quality
from reports.models import ReportValue
from reports.services import report_value_settle

HUNDRED = Decimal(100)
# The catalogue's KPI the scores fill (kpi/catalogue.py).
CALL_QUALITY = "call_quality"

# Call types a new company starts from (DOMAIN.md: e.g. needs discovery, objection handling).
DEFAULT_CHECKLISTS: list[tuple[str, list[tuple[str, int]]]] = [
    (
        "Выявление потребностей",
        [
            ("Представился и назвал компанию", 1),
            ("Задал открытые вопросы о задаче клиента", 3),
            ("Уточнил бюджет и сроки", 2),
            ("Резюмировал потребность клиента", 2),
            ("Договорился о следующем шаге", 2),
        ],
    ),
    (
        "Работа с возражениями",
        [
            ("Выслушал возражение, не перебивая", 2),
            ("Уточнил, что стоит за возражением", 3),
            ("Ответил аргументом, связанным с выгодой клиента", 3),
            ("Проверил, снято ли возражение", 1),
            ("Договорился о следующем шаге", 1),
        ],
    ),
]


def settings_save(*, company: Company, soft_salary_share: Decimal, days_back: int) -> None:
    QualitySettings.objects.update_or_create(
        company=company,
        defaults={"soft_salary_share": soft_salary_share, "days_back": days_back},
    )


def checklists_install_defaults(*, company: Company) -> list[CallType]:
    types = []
    for position, (name, items) in enumerate(DEFAULT_CHECKLISTS):
        call_type, created = CallType.objects.get_or_create(
            company=company, name=name, defaults={"position": position}
        )
        if created:
            ChecklistItem.objects.bulk_create(
                ChecklistItem(
                    company=company, call_type=call_type, text=text, weight=weight, position=i
                )
                for i, (text, weight) in enumerate(items)
            )
        types.append(call_type)
    return types


def call_type_save(
    *,
    company: Company,
    name: str,
    position: int = 0,
    active: bool = True,
    call_type: CallType | None = None,
) -> CallType:
    name = name.strip()
    taken = CallType.objects.filter(company=company, name__iexact=name)
    if call_type is not None:
        taken = taken.exclude(pk=call_type.pk)
    if taken.exists():
        raise ValidationError({"name": _("Тип звонка «%(name)s» уже есть.") % {"name": name}})
    call_type = call_type or CallType(company=company)
    call_type.name, call_type.position, call_type.active = name, position, active
    call_type.save()
    return call_type


def checklist_item_save(
    *,
    call_type: CallType,
    text: str,
    weight: int,
    position: int = 0,
    item: ChecklistItem | None = None,
) -> ChecklistItem:
    """Adds or edits a point; a new weight counts for scores given from now on."""
    item = item or ChecklistItem(company_id=call_type.company_id, call_type=call_type)
    item.text, item.weight, item.position = text.strip(), weight, position
    item.save()
    return item


def checklist_item_remove(*, item: ChecklistItem) -> None:
    """Deletes a point nobody has scored; retires a scored one so old scores keep it."""
    if item.marks.exists():
        item.active = False
        item.save(update_fields=["active"])
    else:
        item.delete()


def score_of(marks: Mapping[ChecklistItem, bool]) -> Decimal:
    """Σ weights of the points done ÷ Σ all weights × 100, to 0.01."""
    total = sum(item.weight for item in marks)
    done = sum(item.weight for item, was_done in marks.items() if was_done)
    return (Decimal(done) / Decimal(total) * HUNDRED).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


@transaction.atomic
def call_score_save(
    *,
    company: Company,
    call: Call,
    call_type: CallType,
    controller: User,
    done_items: set[int],
    comment: str = "",
) -> CallScore:
    """Scores a call against the type's checklist; the controller's earlier score of the same
    call and type is replaced, so scoring twice is correcting, not counting twice."""
    if call.manager_id is None:
        raise ValidationError(_("У звонка нет менеджера: такой звонок не оценить."))
    permissions.require_score(controller, call.manager)
    if not call_type.active:
        raise ValidationError(_("Этот тип звонка больше не проверяется."))
    items = list(call_type.items.filter(active=True))
    if not items:
        raise ValidationError(_("В чек-листе «%(type)s» нет пунктов.") % {"type": call_type})
    unknown = done_items - {item.pk for item in items}
    if unknown:
        raise ValidationError(_("Отмеченный пункт не из этого чек-листа: обновите страницу."))
    marks = {item: item.pk in done_items for item in items}
    local = company.local_time(call.started_at)
    score, _created = CallScore.objects.update_or_create(
        company=company,
        call=call,
        call_type=call_type,
        controller=controller,
        defaults={
            "manager_id": call.manager_id,
            "call_date": local.date(),
            "scored_on": company.today(),
            "score": score_of(marks),
            "comment": comment.strip(),
        },
    )
    score.marks.all().delete()
    ItemMark.objects.bulk_create(
        ItemMark(company=company, score=score, item=item, done=done, weight=item.weight)
        for item, done in marks.items()
    )
    call_quality_settle(company=company, manager=call.manager, day=score.call_date)
    return score


def call_quality_settle(*, company: Company, manager: User, day: datetime.date) -> None:
    """The catalogue's «Качество звонков» KPI of the manager's day: the average of the day's
    scored calls (a call two controllers scored counts once), into the day's report."""
    kpi = KPI.objects.filter(company=company, code=CALL_QUALITY).first()
    if kpi is None:
        return
    average = month_quality(company=company, manager_ids=[manager.pk], month=day, days=(day, day))
    value = average[manager.pk].average
    if value is None:
        return
    report_value_settle(
        company=company, manager=manager, day=day, kpi=kpi, value=value,
        source=ReportValue.Source.QUALITY, reason=_("Оценка контроля качества"),
    )  # fmt: skip
