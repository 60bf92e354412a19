import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.audit import audit_record
from accounts.models import AuditEvent, Company, User
from kpi import selectors as kpi_selectors
from kpi.models import KPI
from kpi.values import ceiling_check, format_month, format_value, kpi_value_check, parse_value
from reports.figures import daily_figures, imported_of_day, source_counts
from reports.models import (
    ClosedMonth,
    DailyReport,
    ImportedFigure,
    ReportChange,
    ReportDraft,
    ReportValue,
)
from reports.selectors import (
    report_lock,
    typed_kpis_of,
    unusual_question,
    usual_values,
)
from rollups import services as rollups
from rollups.changes import ReportChanged, SourceFigureChanged
from salesdesk.statements import Statement
from webhooks import payloads
from webhooks import services as webhooks
from webhooks.models import Event


class NeedsConfirmation(Exception):
    """Figures far above the manager's usual ones: asked to confirm, not refused."""

    def __init__(self, questions: dict[str, str]) -> None:
        super().__init__(questions)
        self.questions = questions


class ReportConflict(Exception):
    """The report changed since the form was opened (another tab, another device)."""

    def __init__(self, report: DailyReport, stored: dict[str, Decimal], yours: dict[str, Decimal]):
        self.report = report
        self.stored = stored
        self.yours = yours
        self.message = self._describe()
        super().__init__(self.message)

    def _describe(self) -> str:
        kpis = {v.kpi.code: v.kpi for v in self.report.values.select_related("kpi__company")}
        differences = [
            _("%(kpi)s — сохранено %(stored)s, у вас %(yours)s")
            % {
                "kpi": kpis[code].name,
                "stored": format_value(self.stored.get(code), kpis[code]),
                "yours": format_value(self.yours.get(code), kpis[code]),
            }
            for code in self.stored
            if code in kpis and self.stored.get(code) != self.yours.get(code)
        ]
        return _(
            "Отчёт за этот день уже отправлен из другой вкладки или с другого устройства, "
            "ваши цифры не сохранены. %(differences)s. Проверьте и отправьте ещё раз, "
            "если верны ваши."
        ) % {"differences": "; ".join(differences) or _("значения совпадают")}


@dataclass(frozen=True)
class Submission:
    report: DailyReport
    created: bool
    changed: int


def check_may_report(*, company: Company, manager: User, actor: User, day: datetime.date) -> None:
    """Raises ValidationError (or PermissionDenied) with the reason the report is read-only:
    the rule is reports.selectors.report_lock, which the form shows before any typing."""
    if actor.pk != manager.pk and day <= company.today():
        permissions.require_correct(actor, manager)
    lock = report_lock(company=company, manager=manager, actor=actor, day=day)
    if lock is None:
        return
    if lock.code == "future":
        raise ValidationError({"date": lock.message})
    raise ValidationError(lock.message, code=lock.code)


def parse_figures(kpis: list[KPI], raw: Mapping[str, object]) -> dict[str, Decimal]:
    """Every typed KPI's figure, or a ValidationError naming each bad or missing one.

    Text is read as people type it (a bare number of a duration is minutes); a Decimal is
    already in the KPI's unit (the API's seconds). Both are held to the unit's bounds."""
    values: dict[str, Decimal] = {}
    errors: dict[str, str] = {}
    for kpi in kpis:
        text = raw.get(kpi.code)
        if text is None or str(text).strip() == "":
            errors[kpi.code] = _("Заполните «%(kpi)s»: если ничего не было, поставьте 0.") % {
                "kpi": kpi.name
            }
            continue
        try:
            if isinstance(text, Decimal):
                values[kpi.code] = kpi_value_check(text, kpi)
            else:
                values[kpi.code] = parse_value(str(text), kpi.unit, aggregation=kpi.aggregation)
        except ValidationError as error:
            errors[kpi.code] = error.messages[0]
    if errors:
        raise ValidationError(errors)
    return values


# The day's report, locked for the submission (every submission reads it): compiled once.
_REPORT_LOCKED = Statement(
    lambda company, manager, day: DailyReport.objects.select_for_update().filter(
        company=company, manager=manager, date=day
    )[:1]  # one at most: report_day_uniq
)


def report_submit(
    *,
    company: Company,
    manager: User,
    day: datetime.date,
    values: Mapping[str, object],
    actor: User,
    version: int | None = None,
    confirmed: bool = False,
    reason: str = "",
) -> Submission:
    """Files or corrects a manager's report for a day, by the rules of the end-of-day report.

    `version` is the report's version the caller saw (0: none existed); a different stored
    version is a ReportConflict, never a silent overwrite.
    """
    check_may_report(company=company, manager=manager, actor=actor, day=day)
    kpis = typed_kpis_of(company=company, manager=manager, day=day)
    if not kpis:
        raise ValidationError(_("У вашей роли нет KPI на этот день: обратитесь к администратору."))
    parsed = parse_figures(kpis, values)
    by_code = {kpi.code: kpi for kpi in kpis}
    if not confirmed:
        usual = usual_values(
            company=company, manager=manager, kpis=[by_code[code] for code in parsed], before=day
        )
        questions = {
            code: question
            for code, value in parsed.items()
            if (
                question := unusual_question(
                    kpi=by_code[code], value=value, usual=usual.get(by_code[code].pk)
                )
            )
        }
        if questions:
            raise NeedsConfirmation(questions)
    imported = imported_of_day(company=company, manager=manager, day=day, kpis=by_code.values())
    # No savepoint of its own (two round trips of every submit in a request's transaction):
    # a refusal leaves the block before it is raised, so it never spoils the caller's
    # transaction; an error inside still does, as it should.
    refusal: Exception | None = None
    with transaction.atomic(savepoint=False):
        report = next(iter(_REPORT_LOCKED(company=company.pk, manager=manager.pk, day=day)), None)
        if report is None:
            try:
                submission = _create(company, manager, day, parsed, by_code, imported, actor)
            except ReportConflict as conflict:  # another tab filed it first
                refusal = conflict
            else:
                rollups.totals_mark(company=company, change=ReportChanged(manager=manager, day=day))
                report_event_emit(
                    company=company, report=submission.report, event=Event.REPORT_FILED,
                    actor=actor,
                )  # fmt: skip
                return submission
        else:
            stored = {v.kpi.code: v.value for v in report.values.select_related("kpi")}
            # Only a figure that differs from the stored one is written and logged: a value
            # sent back as it was is no change, and a correction that changes nothing needs
            # no reason.
            changes = {code: value for code, value in parsed.items() if stored.get(code) != value}
            if version != report.version:
                refusal = ReportConflict(report, stored, parsed)
            elif changes and actor.pk != manager.pk and not reason.strip():
                refusal = ValidationError(
                    {"reason": _("Укажите причину исправления: её увидят менеджер и руководитель.")}
                )
            else:
                return _correct(
                    company, manager, report, changes, stored, by_code, imported,
                    actor=actor, reason=reason.strip(),
                )  # fmt: skip
    assert refusal is not None  # every path that did not return set it
    raise refusal


def _correct(
    company: Company,
    manager: User,
    report: DailyReport,
    changes: dict[str, Decimal],
    stored: dict[str, Decimal],
    by_code: dict[str, KPI],
    imported: dict[int, ImportedFigure],
    *,
    actor: User,
    reason: str,
) -> Submission:
    """A filed report's figures that changed, each with its line of history."""
    for code, value in changes.items():
        kpi = by_code[code]
        source = _source_of(value, imported.get(kpi.pk))
        old = stored.get(code)
        _value_change(report, kpi, old, value, source, actor=actor, reason=reason)
    if changes:
        _new_version(company, manager, report, actor=actor, reason=reason)
    ReportDraft.objects.filter(company=company, manager=manager, date=report.date).delete()
    return Submission(report, created=False, changed=len(changes))


def _create(
    company: Company,
    manager: User,
    day: datetime.date,
    parsed: dict[str, Decimal],
    by_code: dict[str, KPI],
    imported: dict[int, ImportedFigure],
    actor: User,
) -> Submission:
    report = DailyReport(
        company=company,
        manager=manager,
        date=day,
        submitted_at=timezone.now(),
        submitted_by=actor,
    )
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        # Another tab got there between our read and our insert: the constraint decides.
        existing = DailyReport.objects.get(company=company, manager=manager, date=day)
        stored = {v.kpi.code: v.value for v in existing.values.select_related("kpi")}
        raise ReportConflict(existing, stored, parsed) from None
    rows = [
        ReportValue(
            company=company, report=report, kpi=by_code[code], value=value,
            source=_source_of(value, imported.get(by_code[code].pk)),
        )
        for code, value in parsed.items()
    ]  # fmt: skip
    for row in rows:
        row.ensure_same_company()  # what save() checks; bulk_create does not call it
    ReportValue.objects.bulk_create(rows)
    ReportDraft.objects.filter(company=company, manager=manager, date=day).delete()
    return Submission(report, created=True, changed=len(parsed))


def _source_of(value: Decimal, figure: ImportedFigure | None) -> str:
    """A figure accepted as the import recorded it keeps the import's source."""
    if figure is not None and figure.value == value:
        return figure.source
    return ReportValue.Source.MANUAL


def draft_save(
    *, company: Company, manager: User, day: datetime.date, data: Mapping[str, str]
) -> ReportDraft | None:
    """Keeps what the manager typed for a day not yet filed, so that a reload shows it.

    A filed report's form shows the stored figures, so nothing is kept for it: neither a
    refused correction nor the live check that a submission sent in the same moment and
    that arrives after it (the draft would come back to life over the filed report).
    """
    if DailyReport.objects.filter(company=company, manager=manager, date=day).exists():
        return None
    draft, _created = ReportDraft.objects.update_or_create(
        company=company, manager=manager, date=day, defaults={"data": dict(data)}
    )
    return draft


def month_close(*, company: Company, month: datetime.date, actor: User) -> ClosedMonth:
    permissions.require_close_month(actor)
    first = month.replace(day=1)
    if first >= company.today().replace(day=1):
        raise ValidationError(_("Закрыть можно только прошедший месяц."))
    closed, created = ClosedMonth.objects.get_or_create(
        company=company, month=first, defaults={"closed_by": actor}
    )
    if created:
        audit_record(
            company=company, action=AuditEvent.Action.MONTH_CLOSED, target=f"{first:%m.%Y}",
            actor=actor,
        )  # fmt: skip
        webhooks.emit(
            company=company, event=Event.MONTH_CLOSED,
            payload=payloads.month(month=first, actor=actor),
        )  # fmt: skip
    return closed


def month_reopen(*, company: Company, month: datetime.date, actor: User, reason: str) -> None:
    """Opens a closed month again: an admin's decision, with the reason in the audit log."""
    permissions.require_reopen_month(actor)
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": _("Укажите причину: она останется в журнале.")})
    first = month.replace(day=1)
    with transaction.atomic():
        deleted, _rows = ClosedMonth.objects.filter(company=company, month=first).delete()
        if not deleted:
            raise ValidationError(_("Месяц %(month)s не закрыт.") % {"month": format_month(first)})
        audit_record(
            company=company, action=AuditEvent.Action.MONTH_REOPENED,
            target=f"{first:%m.%Y}: {reason}", actor=actor,
        )  # fmt: skip


def imported_figure_set(
    *,
    company: Company,
    manager: User,
    day: datetime.date,
    kpi: KPI,
    source: str,
    value: Decimal,
) -> ImportedFigure:
    """What an import (CRM, telephony) recorded for a manager's day: prefills the report.

    A figure beyond its unit's bounds is refused (ValidationError), never stored."""
    ceiling_check(value, kpi.unit, aggregation=kpi.aggregation)
    key = {"company": company, "manager": manager, "date": day, "kpi": kpi, "source": source}
    with transaction.atomic():
        before = ImportedFigure.objects.filter(**key).values_list("value", flat=True).first()
        figure, _created = ImportedFigure.objects.update_or_create(**key, defaults={"value": value})
        if before != value:
            _source_figure_changed(company, manager, day, kpi, source)
    return figure


def imported_figure_clear(
    *, company: Company, manager: User, day: datetime.date, kpi: KPI, source: str
) -> None:
    """The source has no figure of the day any more (a client KPI without a base)."""
    with transaction.atomic():
        deleted, _rows = ImportedFigure.objects.filter(
            company=company, manager=manager, date=day, kpi=kpi, source=source
        ).delete()
        if deleted:
            _source_figure_changed(company, manager, day, kpi, source)


def _source_figure_changed(
    company: Company, manager: User, day: datetime.date, kpi: KPI, source: str
) -> None:
    # Only the figure of record moves a total; a checked one is compared when read.
    if not (source_counts(kpi) and kpi.source == source):
        return
    rollups.totals_mark(company=company, change=SourceFigureChanged(manager=manager, day=day))
    report = DailyReport.objects.filter(company=company, manager=manager, date=day).first()
    if report is not None:
        # A filed report's figure of record moved (a CRM import settling the day): for its
        # readers that is a correction, as if a person had typed the figure.
        report_event_emit(
            company=company, report=report, event=Event.REPORT_CORRECTED, actor=None,
            reason=str(ReportValue.Source(source).label),
        )  # fmt: skip


def report_value_settle(
    *,
    company: Company,
    manager: User,
    day: datetime.date,
    kpi: KPI,
    value: Decimal,
    source: str,
    reason: str,
) -> bool:
    """A figure a source settles after the day's report was filed (a call the quality
    controller scores the next morning) lands in that report with its history, if the KPI is
    in the manager's set that day. Returns whether the filed report changed; without a
    report the figure only prefills the form."""
    imported_figure_set(
        company=company, manager=manager, day=day, kpi=kpi, source=source, value=value
    )
    role_kpis = kpi_selectors.manager_kpis(company=company, manager=manager, on=day)
    if kpi.pk not in {k.pk for k in role_kpis}:
        return False
    with transaction.atomic():
        report = next(iter(_REPORT_LOCKED(company=company.pk, manager=manager.pk, day=day)), None)
        if report is None:
            return False
        current = ReportValue.objects.filter(company=company, report=report, kpi=kpi).first()
        if current is not None and current.value == value:
            return False
        old = current.value if current else None
        _value_change(report, kpi, old, value, source, actor=None, reason=reason)
        _new_version(company, manager, report, actor=None, reason=reason)
    return True


def _value_change(
    report: DailyReport,
    kpi: KPI,
    old: Decimal | None,
    value: Decimal,
    source: str,
    *,
    actor: User | None,
    reason: str,
) -> None:
    """One figure of a filed report changed, with its line of history."""
    company_id = report.company_id
    ReportValue.objects.update_or_create(
        company_id=company_id, report=report, kpi=kpi, defaults={"value": value, "source": source}
    )
    ReportChange(
        company_id=company_id, report=report, kpi=kpi, old_value=old, new_value=value,
        changed_by=actor, reason=reason,
    ).save()  # fmt: skip


def _new_version(
    company: Company, manager: User, report: DailyReport, *, actor: User | None, reason: str
) -> None:
    """A filed report changed: its version moves on, its totals are refreshed and its
    subscribers told."""
    report.version += 1
    report.updated_at = timezone.now()
    report.save(update_fields=["version", "updated_at"])
    rollups.totals_mark(company=company, change=ReportChanged(manager=manager, day=report.date))
    report_event_emit(
        company=company, report=report, event=Event.REPORT_CORRECTED, actor=actor, reason=reason
    )


def report_event_emit(
    *, company: Company, report: DailyReport, event: str, actor: User | None, reason: str = ""
) -> None:
    """The one home of «a report was filed or changed → webhooks»: filing, a person's
    correction, a source settling a figure into the report (quality) and an import moving a
    figure of record of a filed day (CRM, telephony) all come here, inside their transaction.
    `values` are the day's figures of record, what every screen and the totals show; they
    are read only when a subscription wants the event (webhooks.emit calls `payload`)."""

    def payload() -> dict:
        figures = daily_figures(
            company=company, manager=report.manager, start=report.date, end=report.date
        ).get(report.date, {})
        return payloads.report(report, values=figures, actor=actor, reason=reason)

    webhooks.emit(company=company, event=event, payload=payload)
