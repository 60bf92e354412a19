"""Writing deals, calls and the pipeline, whatever brought them in (file, CRM, telephony).

Every source ends in `deal_upsert` and `call_upsert` (and a CRM that keeps leads apart, in
`lead_upsert`), keyed by (source, external id), so a record seen twice is stored once, and a
changed one is updated in place. Each refreshes the figures that prefill the end-of-day
report for the manager's day it touches.
"""

import datetime
import logging
import re
import secrets
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import crypto
from accounts.audit import audit_record
from accounts.models import AuditEvent, Company, User
from crm_sync import hooks
from crm_sync.models import (
    Call,
    Client,
    CRMConnection,
    Deal,
    Lead,
    PipelineStage,
    Source,
    StageVisit,
)
from kpi.models import KPI
from kpi.values import MAX_CALL_SECONDS, ceiling_check
from reports import services as report_services
from reports.models import ReportValue

logger = logging.getLogger(__name__)

Outcome = Literal["created", "updated", "unchanged"]

DEFAULT_STAGES: list[tuple[str, str]] = [
    ("Новая заявка", PipelineStage.Kind.OPEN),
    ("Квалификация", PipelineStage.Kind.OPEN),
    ("Встреча / презентация", PipelineStage.Kind.OPEN),
    ("Коммерческое предложение", PipelineStage.Kind.OPEN),
    ("Переговоры и договор", PipelineStage.Kind.OPEN),
    ("Успешно реализовано", PipelineStage.Kind.WON),
    ("Закрыто и не реализовано", PipelineStage.Kind.LOST),
]

_STATUS_OF_KIND = {
    PipelineStage.Kind.OPEN: Deal.Status.OPEN,
    PipelineStage.Kind.WON: Deal.Status.WON,
    PipelineStage.Kind.LOST: Deal.Status.LOST,
}


def normalize_phone(raw: str) -> str:
    """Digits only, a Russian 8XXXXXXXXXX as 7XXXXXXXXXX: one client, however it is written."""
    digits = re.sub(r"\D", "", raw or "")
    if len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]
    if len(digits) == 10 and digits.startswith("9"):
        digits = "7" + digits
    return digits


# --- Pipeline ---------------------------------------------------------------------------


def stages_install_defaults(*, company: Company) -> list[PipelineStage]:
    """A typical B2B pipeline for a company that has none yet; the admin renames it freely."""
    if PipelineStage.objects.filter(company=company).exists():
        return list(PipelineStage.objects.filter(company=company))
    return [
        PipelineStage.objects.create(company=company, name=name, kind=kind, position=position)
        for position, (name, kind) in enumerate(DEFAULT_STAGES)
    ]


def stage_save(
    *,
    company: Company,
    name: str,
    kind: str,
    position: int,
    external_id: str = "",
    stage: PipelineStage | None = None,
) -> PipelineStage:
    name = name.strip()
    taken = PipelineStage.objects.filter(company=company, name__iexact=name)
    if stage is not None:
        taken = taken.exclude(pk=stage.pk)
    if taken.exists():
        raise ValidationError({"name": _("Этап «%(name)s» уже есть.") % {"name": name}})
    stage = stage or PipelineStage(company=company)
    stage.name, stage.kind, stage.position, stage.external_id = name, kind, position, external_id
    stage.save()
    return stage


def stage_delete(*, stage: PipelineStage) -> None:
    if stage.deals.exists():
        raise ValidationError(
            _("На этапе «%(name)s» есть сделки: сначала перенесите их на другой этап.")
            % {"name": stage.name}
        )
    stage.delete()


def stage_for_external(*, company: Company, external_id: str) -> PipelineStage | None:
    return PipelineStage.objects.filter(company=company, external_id=str(external_id)).first()


# --- Clients ----------------------------------------------------------------------------


def client_resolve(
    *, company: Company, name: str = "", phone: str = "", source: str = "", external_id: str = ""
) -> Client | None:
    """The client with this CRM id, else with this phone, else a new one (None: no details)."""
    phone = normalize_phone(phone)
    client = None
    if external_id:
        client = Client.objects.filter(
            company=company, source=source, external_id=external_id
        ).first()
    if client is None and phone:
        client = Client.objects.filter(company=company, phone=phone).first()
    if client is None and name:
        client = Client.objects.filter(company=company, name=name, phone=phone).first()
    if client is None:
        if not (name or phone or external_id):
            return None
        return Client.objects.create(
            company=company,
            name=name or phone or external_id,
            phone=phone,
            source=source or Source.MANUAL,
            external_id=external_id,
        )
    changed = []
    if name and client.name != name and client.name in (client.phone, client.external_id):
        client.name = name
        changed.append("name")
    if phone and not client.phone:
        client.phone = phone
        changed.append("phone")
    if changed:
        client.save(update_fields=changed)
    return client


# --- Deals ------------------------------------------------------------------------------


@dataclass
class DealData:
    """A deal as a source describes it; `moved_at` is when it reached `stage`, if known."""

    external_id: str
    stage: PipelineStage
    created_at: datetime.datetime
    title: str = ""
    manager: User | None = None
    client: Client | None = None
    channel: str = ""
    amount: Decimal = Decimal(0)
    loss_reason: str = ""
    is_repeat: bool = False
    closed_at: datetime.datetime | None = None
    expected_payment_on: datetime.date | None = None
    moved_at: datetime.datetime | None = None
    crm_user_id: str = ""  # the CRM's responsible user, matched to ours or not


def _check_deal(data: DealData) -> None:
    if data.amount < 0:
        raise ValidationError(_("Сумма сделки не может быть отрицательной."))
    # A deal's sum is money: held to the same ceiling as a day's figure of money.
    ceiling_check(Decimal(data.amount), KPI.Unit.MONEY)
    if data.closed_at and data.closed_at < data.created_at:
        raise ValidationError(_("Сделка не может закрыться раньше, чем создана."))


def _retried_on_race[T](upsert: Callable[[], T]) -> T:
    """Runs an upsert keyed by (source, external id) once more if its insert lost a race.

    The same record delivered twice at once (a CRM retrying a webhook while the first
    delivery still runs): both look, find nothing and insert. The loser's savepoint rolls
    back; its second look finds the winner's row, and applies its data as an update
    (usually: unchanged).
    """
    try:
        return upsert()
    except IntegrityError:
        return upsert()


def deal_upsert(*, company: Company, source: str, data: DealData) -> tuple[Deal, Outcome]:
    """Create or update the deal `source` knows as `data.external_id`, keeping stage history."""
    _check_deal(data)
    return _retried_on_race(lambda: _deal_write(company, source, data))


def _deal_write(company: Company, source: str, data: DealData) -> tuple[Deal, Outcome]:
    now = timezone.now()
    with transaction.atomic():
        deal = _record_locked(Deal, company=company, source=source, external_id=data.external_id)
        touched: set[tuple[int | None, datetime.date]] = set()
        if deal is None:
            deal = Deal(company=company, source=source, external_id=data.external_id)
            outcome: Outcome = "created"
            old_stage_id = None
        else:
            outcome = "unchanged"
            old_stage_id = deal.stage_id
            touched |= _deal_days(company, deal)
        fields = {
            "title": data.title,
            "manager_id": data.manager.pk if data.manager else None,
            "client_id": data.client.pk if data.client else None,
            "channel": data.channel,
            "amount": Decimal(data.amount).quantize(Decimal("0.01")),
            "loss_reason": data.loss_reason,
            "is_repeat": data.is_repeat,
            "created_at": data.created_at,
            "expected_payment_on": data.expected_payment_on,
            "crm_user_id": data.crm_user_id,
        }
        if _fields_set(deal, fields) and outcome == "unchanged":
            outcome = "updated"
        moved_at = data.moved_at or (data.created_at if old_stage_id is None else now)
        if old_stage_id != data.stage.pk:
            deal.stage = data.stage
            outcome = "updated" if outcome == "unchanged" else outcome
        kind = data.stage.kind
        closing = data.closed_at or (deal.closed_at if old_stage_id == data.stage.pk else None)
        if kind == PipelineStage.Kind.OPEN:
            if deal.status != Deal.Status.RETARGETING:
                status, closed_at = Deal.Status.OPEN, None
            else:
                status, closed_at = deal.status, deal.closed_at
        else:
            status, closed_at = _STATUS_OF_KIND[kind], closing or moved_at
        if (deal.status, deal.closed_at) != (status, closed_at):
            deal.status, deal.closed_at = status, closed_at
            outcome = "updated" if outcome == "unchanged" else outcome
        if outcome == "unchanged":
            return deal, outcome
        deal.save()
        if old_stage_id != data.stage.pk:
            StageVisit.objects.filter(company=company, deal=deal, left_at__isnull=True).update(
                left_at=moved_at
            )
            StageVisit.objects.create(
                company=company, deal=deal, stage=data.stage, entered_at=moved_at
            )
        touched |= _deal_days(company, deal)
        day_figures_refresh_many(company=company, pairs=touched)
        if deal.status == Deal.Status.WON:
            won_on = company.local_time(deal.closed_at).date()
            hooks.deal_won.send(sender=Deal, company=company, deal=deal, day=won_on)
    return deal, outcome


def _deal_days(company: Company, deal: Deal) -> set[tuple[int | None, datetime.date]]:
    days = {(deal.manager_id, company.local_time(deal.created_at).date())}
    if deal.closed_at:
        days.add((deal.manager_id, company.local_time(deal.closed_at).date()))
    return days


def deal_delete(*, company: Company, source: str, external_id: str) -> bool:
    """The source deleted the deal: it leaves every figure and the funnel. The manager days
    it counted in are refreshed, which re-marks their stored totals. False: not stored."""
    return _record_delete(Deal, _deal_days, company=company, source=source, external_id=external_id)


def _record_locked(
    model: type[Deal] | type[Lead], *, company: Company, source: str, external_id: str
) -> Deal | Lead | None:
    """The deal or lead `source` knows as `external_id`, locked until the transaction ends
    (None: not stored)."""
    return (
        model.objects.select_for_update()
        .filter(company=company, source=source, external_id=external_id)
        .first()
    )


def _fields_set(record: Deal | Lead, fields: dict[str, object]) -> bool:
    """Sets the fields whose value differs; whether any did."""
    changed = False
    for name, value in fields.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed = True
    return changed


def _record_delete(
    model: type[Deal] | type[Lead],
    days_of: Callable[[Company, Any], set[tuple[int | None, datetime.date]]],
    *,
    company: Company,
    source: str,
    external_id: str,
) -> bool:
    """Deletes a deal or lead the source deleted and refreshes the manager days it counted
    in (`days_of`). False: not stored."""
    with transaction.atomic():
        record = _record_locked(model, company=company, source=source, external_id=external_id)
        if record is None:
            return False
        touched = days_of(company, record)
        record.delete()
        day_figures_refresh_many(company=company, pairs=touched)
    return True


# --- Leads ------------------------------------------------------------------------------


@dataclass
class LeadData:
    """A lead as its CRM describes it (Bitrix24 `crm.lead.list`)."""

    external_id: str
    created_at: datetime.datetime
    status: str = Lead.Status.OPEN
    status_id: str = ""  # the CRM's own status code
    title: str = ""
    manager: User | None = None
    crm_user_id: str = ""
    channel: str = ""
    closed_at: datetime.datetime | None = None


def lead_upsert(*, company: Company, source: str, data: LeadData) -> tuple[Lead, Outcome]:
    """Create or update the lead `source` knows as `data.external_id`; the days it counts in
    (its manager's day of creation, before and after) are refreshed."""
    return _retried_on_race(lambda: _lead_write(company, source, data))


def _lead_write(company: Company, source: str, data: LeadData) -> tuple[Lead, Outcome]:
    with transaction.atomic():
        lead = _record_locked(Lead, company=company, source=source, external_id=data.external_id)
        touched: set[tuple[int | None, datetime.date]] = set()
        outcome: Outcome = "created"
        if lead is None:
            lead = Lead(company=company, source=source, external_id=data.external_id)
        else:
            outcome = "unchanged"
            touched |= _lead_days(company, lead)
        fields = {
            "title": data.title[:255],
            "manager_id": data.manager.pk if data.manager else None,
            "crm_user_id": data.crm_user_id,
            "status": data.status,
            "status_id": data.status_id[:64],
            "channel": data.channel[:100],
            "created_at": data.created_at,
            "closed_at": data.closed_at,
        }
        if _fields_set(lead, fields) and outcome == "unchanged":
            outcome = "updated"
        if outcome == "unchanged":
            return lead, outcome
        lead.save()
        touched |= _lead_days(company, lead)
        day_figures_refresh_many(company=company, pairs=touched)
    return lead, outcome


def _lead_days(company: Company, lead: Lead) -> set[tuple[int | None, datetime.date]]:
    """The manager day a lead counts in: its manager's day of creation."""
    return {(lead.manager_id, company.local_time(lead.created_at).date())}


def lead_delete(*, company: Company, source: str, external_id: str) -> bool:
    """The CRM deleted the lead: it leaves the leads its manager created that day.
    False: not stored."""
    return _record_delete(Lead, _lead_days, company=company, source=source, external_id=external_id)


def lead_sources(*, company: Company) -> set[str]:
    """The sources whose leads are the company's «leads created» instead of their deals: a
    CRM connection that counts leads (`CRMConnection.counts_leads`: a Bitrix24 department
    that works leads before deals, on a portal that keeps them). Every other source's deals
    are its leads, as amoCRM's are (its leads are deals) and an imported file's."""
    # The vendors' modules import this one: looked up when asked, once both are loaded.
    from crm_sync import vendors

    connections = CRMConnection.objects.filter(company=company, works_leads=True)
    return {vendors.vendor_for(c.vendor).source for c in connections if c.counts_leads}


# --- Calls ------------------------------------------------------------------------------


@dataclass
class CallData:
    external_id: str
    direction: str
    started_at: datetime.datetime
    duration: int = 0
    answered: bool = True
    manager: User | None = None
    client: Client | None = None
    phone: str = ""
    crm_user_id: str = ""
    # The PBX's id of the call, when the source knows it: one call, one record (below).
    pbx_call_id: str = ""
    recording_url: str = ""
    pbx_user: str = ""


def call_upsert(
    *, company: Company, source: str, data: CallData, apply_rule: bool = True
) -> tuple[Call, Outcome]:
    """Store a call record once; refresh its day's figures and apply the missed-calls rule."""
    if data.duration < 0:
        raise ValidationError(_("Длительность звонка не может быть отрицательной."))
    if data.duration > MAX_CALL_SECONDS:
        raise ValidationError(_("Звонок не может длиться больше 24 часов."))
    if data.direction not in Call.Direction.values:
        raise ValidationError(_("Направление звонка: «in» или «out»."))
    return _retried_on_race(lambda: _call_write(company, source, data, apply_rule))


def _call_write(
    company: Company, source: str, data: CallData, apply_rule: bool
) -> tuple[Call, Outcome]:
    with transaction.atomic():
        call = (
            Call.objects.select_for_update()
            .filter(company=company, source=source, external_id=data.external_id)
            .first()
        )
        twin = None
        if call is None and data.pbx_call_id:
            twin = (
                Call.objects.select_for_update()
                .filter(company=company, pbx_call_id=data.pbx_call_id)
                .first()
            )
        pbx_takes_over = source == Source.TELEPHONY and twin is not None and twin.source != source
        if twin is not None and not pbx_takes_over:
            # The call is already stored (by the PBX, or by another CRM note of it): the
            # other source only fills in what it lacks.
            return _call_fill(company, twin, data)
        touched: set[tuple[int | None, datetime.date]] = set()
        outcome: Outcome = "created"
        if twin is not None:
            # The PBX's record wins over the CRM's note of the same call, and takes its row.
            call, outcome = twin, "updated"
            call.source, call.external_id = source, data.external_id
            touched.add((call.manager_id, company.local_time(call.started_at).date()))
        elif call is None:
            call = Call(company=company, source=source, external_id=data.external_id)
        else:
            outcome = "unchanged"
            touched.add((call.manager_id, company.local_time(call.started_at).date()))
        fields = {
            "direction": data.direction,
            "started_at": data.started_at,
            "duration": int(data.duration),
            "answered": bool(data.answered),
            "manager_id": data.manager.pk if data.manager else None,
            "client_id": data.client.pk if data.client else None,
            "phone": normalize_phone(data.phone),
            "crm_user_id": data.crm_user_id,
            "pbx_call_id": data.pbx_call_id or call.pbx_call_id,
            "recording_url": data.recording_url or call.recording_url,
            "pbx_user": "" if data.manager else data.pbx_user,
        }
        for name, value in fields.items():
            if getattr(call, name) != value:
                setattr(call, name, value)
                outcome = "updated" if outcome == "unchanged" else outcome
        if outcome == "unchanged":
            return call, outcome
        call.save()
        touched.add((call.manager_id, company.local_time(call.started_at).date()))
        day_figures_refresh_many(company=company, pairs=touched)
        if apply_rule and call.client_id:
            missed_calls_rule_apply(company=company, client=call.client)
    return call, outcome


def _call_fill(company: Company, call: Call, data: CallData) -> tuple[Call, Outcome]:
    """A second source's view of a stored call: the blanks it can fill, nothing else."""
    blanks = {
        "recording_url": data.recording_url,
        "client_id": data.client.pk if data.client else None,
        "manager_id": data.manager.pk if data.manager else None,
    }
    changed = [name for name, value in blanks.items() if value and not getattr(call, name)]
    if not changed:
        return call, "unchanged"
    for name in changed:
        setattr(call, name, blanks[name])
    if "manager_id" in changed:
        call.pbx_user = ""
        changed.append("pbx_user")
    call.save(update_fields=changed)
    day_figures_refresh_many(
        company=company, pairs={(call.manager_id, company.local_time(call.started_at).date())}
    )
    return call, "updated"


# --- The missed-calls rule ----------------------------------------------------------------


def missed_calls_rule_apply(
    *, company: Company, client: Client, now: datetime.datetime | None = None
) -> list[Deal]:
    """After `missed_calls_limit` unanswered calls in a row to the client, its open deals
    leave sales for marketing's retargeting list (DOMAIN: the 3-missed-calls rule).

    "In a row" means the client's latest calls, in either direction, are all our
    unanswered outgoing calls: any answered call, or the client calling us, breaks it.
    """
    limit = company.missed_calls_limit
    latest = list(
        Call.objects.filter(company=company, client=client)
        .order_by("-started_at", "-id")
        .values_list("direction", "answered")[:limit]
    )
    if len(latest) < limit or any(
        direction != Call.Direction.OUTGOING or answered for direction, answered in latest
    ):
        return []
    now = now or timezone.now()
    reason = _("%(count)s недозвона подряд") % {"count": limit}
    moved = list(
        Deal.objects.select_for_update().filter(
            company=company, client=client, status=Deal.Status.OPEN
        )
    )
    for deal in moved:
        deal.status = Deal.Status.RETARGETING
        deal.closed_at = now
        deal.retargeting_at = now
        deal.retargeting_reason = reason
        deal.save(update_fields=["status", "closed_at", "retargeting_at", "retargeting_reason"])
        StageVisit.objects.filter(company=company, deal=deal, left_at__isnull=True).update(
            left_at=now
        )
    return moved


def retargeting_return(*, deal: Deal) -> Deal:
    """Marketing has warmed the client up again: the deal is back in sales, at its stage."""
    deal.status = Deal.Status.OPEN
    deal.closed_at = None
    deal.retargeting_at = None
    deal.retargeting_reason = ""
    deal.save(update_fields=["status", "closed_at", "retargeting_at", "retargeting_reason"])
    StageVisit.objects.create(
        company=deal.company, deal=deal, stage=deal.stage, entered_at=timezone.now()
    )
    return deal


# --- Figures that prefill the end-of-day report -----------------------------------------

TELEPHONY_CODES = ("calls", "incoming_calls", "long_calls", "talk_time", "missed_calls")
# The figure sources registered in `hooks` (the client base as of the day) add theirs,
# stored as CRM figures too.
CRM_CODES = ("leads", "deals_won", "deals_sum", "repeat_deals", "repeat_sum")


def day_figures(
    *,
    company: Company,
    manager: User,
    day: datetime.date,
    codes: Collection[str] | None = None,
    sources: set[str] | None = None,
) -> dict[str, Decimal]:
    """What the call records and deals say of a manager's day, by KPI code. The figures of
    the sources registered in `hooks` (the client base, which reads the purchase history)
    are computed only when `codes` asks for one of theirs (or `codes` is None); one without
    a base is left out. `sources`: lead_sources(), when the caller read it for many days."""
    start, end = company.day_bounds(day)
    calls = Call.objects.filter(
        company=company, manager=manager, started_at__gte=start, started_at__lt=end
    ).aggregate(
        calls=Count("id", filter=Q(direction=Call.Direction.OUTGOING)),
        incoming_calls=Count("id", filter=Q(direction=Call.Direction.INCOMING)),
        long_calls=Count("id", filter=Q(answered=True, duration__gte=company.long_call_seconds)),
        talk_time=Sum("duration", filter=Q(answered=True)),
        missed_calls=Count("id", filter=Q(direction=Call.Direction.INCOMING, answered=False)),
    )
    deals = Deal.objects.filter(company=company, manager=manager)
    won = deals.filter(status=Deal.Status.WON, closed_at__gte=start, closed_at__lt=end)
    sources = lead_sources(company=company) if sources is None else sources
    figures = {
        **calls,
        "leads": _leads_created(company, manager, start, end, sources),
        **won.aggregate(deals_won=Count("id"), deals_sum=Sum("amount")),
        **won.filter(is_repeat=True).aggregate(repeat_deals=Count("id"), repeat_sum=Sum("amount")),
    }
    result = {code: Decimal(value or 0) for code, value in figures.items()}
    for source in hooks.figure_sources():
        if codes is None or set(codes) & set(source.codes):
            result.update(source.figures(company=company, manager=manager, day=day))
    return result


def _leads_created(
    company: Company,
    manager: User,
    start: datetime.datetime,
    end: datetime.datetime,
    sources: set[str],
) -> int:
    """The leads the manager created in [start, end): the leads of `sources` (lead_sources:
    those that keep them; a lead converted into a deal stays one lead, and that deal is not
    another), the deals of every other source."""
    created = {"manager": manager, "created_at__gte": start, "created_at__lt": end}
    deals = Deal.objects.filter(company=company, **created).exclude(source__in=sources).count()
    if not sources:
        return deals
    return deals + Lead.objects.filter(company=company, source__in=sources, **created).count()


def day_figures_refresh(*, company: Company, manager: User, day: datetime.date) -> None:
    """Store the day's figures as imported ones for the KPIs the company keeps."""
    day_figures_store(company=company, manager=manager, day=day, kpis=list(_figure_kpis(company)))


def _figure_kpis(company: Company) -> QuerySet[KPI]:
    return KPI.objects.filter(
        company=company, code__in=TELEPHONY_CODES + CRM_CODES + hooks.figure_codes()
    )


def day_figures_store(
    *,
    company: Company,
    manager: User,
    day: datetime.date,
    kpis: list[KPI],
    sources: set[str] | None = None,
) -> None:
    """Store the day's figures of `kpis` as imported ones; a figure that has no value any
    more (a client KPI without a base) drops its stored one. `sources` as day_figures'."""
    if not kpis:
        return
    figures = day_figures(
        company=company, manager=manager, day=day, codes={kpi.code for kpi in kpis},
        sources=sources,
    )  # fmt: skip
    for kpi in kpis:
        source = (
            ReportValue.Source.TELEPHONY if kpi.code in TELEPHONY_CODES else ReportValue.Source.CRM
        )
        if kpi.code in figures:
            try:
                report_services.imported_figure_set(
                    company=company,
                    manager=manager,
                    day=day,
                    kpi=kpi,
                    source=source,
                    value=figures[kpi.code],
                )
                continue
            except ValidationError as refusal:
                # The records add up to a day beyond the unit's bounds: no prefill rather
                # than a wrong one; the records themselves stay for the admin to check.
                logger.warning(
                    "figure out of bounds: company=%s manager=%s day=%s kpi=%s value=%s: %s",
                    company.pk, manager.pk, day, kpi.code, figures[kpi.code],
                    " ".join(refusal.messages),
                )  # fmt: skip
        report_services.imported_figure_clear(
            company=company, manager=manager, day=day, kpi=kpi, source=source
        )


# The manager days touched inside figures_deferred(), refreshed once at its end.
_deferred: ContextVar[set[tuple[int, datetime.date]] | None] = ContextVar(
    "crm_sync_figures_deferred", default=None
)


@contextmanager
def figures_deferred(*, company: Company) -> Iterator[None]:
    """Inside the block, upserts only note the manager days they touch, and the block's end
    refreshes each of those days once: for a batch of records (an import's chunk, a pull's
    page) that share days. A block inside another one leaves the work to the outer one."""
    if _deferred.get() is not None:
        yield
        return
    pending: set[tuple[int, datetime.date]] = set()
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    day_figures_refresh_many(company=company, pairs=pending)


def day_figures_refresh_many(
    *, company: Company, pairs: Iterable[tuple[int | None, datetime.date]]
) -> None:
    pairs = {(manager_id, day) for manager_id, day in pairs if manager_id is not None}
    pending = _deferred.get()
    if pending is not None:
        pending.update(pairs)
        return
    if not pairs:
        return
    kpis = list(_figure_kpis(company))
    managers = User.objects.in_bulk({manager_id for manager_id, _day in pairs})
    # Read once for the batch, not once per manager-day.
    sources = lead_sources(company=company)
    for manager_id, day in sorted(pairs):
        if manager_id in managers:
            day_figures_store(
                company=company, manager=managers[manager_id], day=day, kpis=kpis,
                sources=sources,
            )  # fmt: skip


# --- CRM connections --------------------------------------------------------------------


def connection_save(
    *,
    company: Company,
    vendor: str,
    base_url: str,
    token: str = "",
    connection: CRMConnection | None = None,
) -> CRMConnection:
    """Create or edit a connection; an empty token keeps the stored one."""
    if connection is None:
        if CRMConnection.objects.filter(company=company, vendor=vendor).exists():
            raise ValidationError(_("Эта CRM уже подключена."))
        connection = CRMConnection(
            company=company, vendor=vendor, webhook_secret=secrets.token_urlsafe(24)
        )
    connection.base_url = base_url.rstrip("/")
    if token:
        connection.credentials = crypto.encrypt(token)
    connection.save()
    audit_record(
        company=company,
        action=AuditEvent.Action.CRM_SAVED,
        target=f"{connection.get_vendor_display()} {connection.base_url}"
        + (" (новый токен)" if token else ""),
    )
    return connection


def connection_token(connection: CRMConnection) -> str:
    return crypto.decrypt(connection.credentials)
