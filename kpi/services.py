import datetime
import re
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import Company, SalesRole, Team, User
from kpi import selectors
from kpi.catalogue import CATALOGUE, ROLE_SETS, CatalogueKPI
from kpi.hooks import source_changed
from kpi.models import (
    KPI,
    SOURCED,
    Absence,
    CalendarDay,
    Plan,
    PlanChange,
    RoleKPI,
    default_record,
)
from kpi.periods import month_start, period_start, shift_months
from kpi.values import echo, kpi_value_check, within_bounds
from rollups import services as rollups
from rollups.changes import (
    AbsenceChanged,
    CalendarDayChanged,
    CompanyBandsChanged,
    KPIChanged,
    PlanChanged,
    RoleKPISetChanged,
)

MIN_KPIS_PER_ROLE = 2
MAX_KPIS_PER_ROLE = 5


# --- The catalogue ------------------------------------------------------------------------


def _kpi_from_catalogue(company: Company, item: CatalogueKPI) -> KPI:
    existing = KPI.objects.filter(company=company, code=item.code).first()
    if existing:
        return existing
    parts = {
        field: _kpi_from_catalogue(company, _catalogue_item(code))
        for field, code in (("numerator", item.numerator), ("denominator", item.denominator))
        if code
    }
    kpi = KPI(
        company=company,
        code=item.code,
        name_ru=item.name_ru,
        name_en=item.name_en,
        unit=item.unit,
        aggregation=item.aggregation,
        direction=item.direction,
        source=item.source,
        record=default_record(item.source),
        decimals=item.decimals,
        **parts,
    )
    with transaction.atomic():
        kpi.save()
        source_changed.send(sender=KPI, kpi=kpi, old_source=None)
    return kpi


def _catalogue_item(code: str) -> CatalogueKPI:
    for item in CATALOGUE:
        if item.code == code:
            return item
    raise ValidationError(_("В каталоге нет KPI «%(code)s».") % {"code": echo(code)})


def catalogue_install(*, company: Company, effective_from: datetime.date | None = None) -> None:
    """A new company's start: the standard KPIs and role sets. Its calendar is the country's
    (kpi.calendar), so no day of it is copied: a package update reaches every company."""
    effective_from = effective_from or datetime.date(2000, 1, 1)
    for item in CATALOGUE:
        if item.standard:
            _kpi_from_catalogue(company, item)
    kpis = {kpi.code: kpi for kpi in KPI.objects.filter(company=company)}
    for role in SalesRole.objects.filter(company=company).exclude(kind=SalesRole.Kind.CUSTOM):
        for position, code in enumerate(ROLE_SETS[role.kind]):
            RoleKPI(
                company=company,
                sales_role=role,
                kpi=kpis[code],
                position=position,
                effective_from=effective_from,
            ).save()


def catalogue_adopt(*, company: Company, code: str) -> KPI:
    return _kpi_from_catalogue(company, _catalogue_item(code))


# --- KPI definitions ----------------------------------------------------------------------

KPI_FIELDS = (
    "code",
    "name_ru",
    "name_en",
    "unit",
    "direction",
    "aggregation",
    "numerator",
    "denominator",
    "source",
    "record",
    "decimals",
    "band_red_below",
    "band_green_from",
)


def _check_kpi(kpi: KPI) -> None:
    errors: dict[str, str] = {}
    if kpi.aggregation == KPI.Aggregation.RATIO:
        for field in ("numerator", "denominator"):
            part = getattr(kpi, field)
            if part is None:
                errors[field] = _("Для отношения нужны числитель и знаменатель.")
            elif part.aggregation != KPI.Aggregation.SUM:
                errors[field] = _(
                    "Числитель и знаменатель отношения должны суммироваться по дням: "
                    "отношение считается как Σ числителя / Σ знаменателя."
                )
            elif part.pk is not None and part.pk == kpi.pk:
                errors[field] = _("KPI не может делиться сам на себя.")
    elif kpi.numerator_id or kpi.denominator_id:
        errors["aggregation"] = _("Числитель и знаменатель задаются только для отношения.")
    if kpi.record != KPI.Record.MANAGER and not kpi.has_source:
        errors["record"] = _(
            "«%(record)s» — только для KPI, цифры которого приходят из CRM или телефонии "
            "(поле «Источник»). У этого KPI цифра учёта — цифра менеджера."
        ) % {"record": kpi.get_record_display()}
    # 1C supplies money only: the day's payments (summed) or the balance owed on a date (the
    # last value). Any other KPI would say «из 1С» and never get a figure.
    if kpi.source == KPI.Source.ACCOUNTING and not (
        kpi.unit == KPI.Unit.MONEY
        and kpi.aggregation in (KPI.Aggregation.SUM, KPI.Aggregation.LAST)
    ):
        errors["source"] = _(
            "Из 1С приходят только деньги: оплаты за день (KPI в деньгах, за период — сумма) "
            "или задолженность клиентов на дату (KPI в деньгах, последнее значение)."
        )
    red = kpi.band_red_below
    green = kpi.band_green_from
    if (red is None) != (green is None):
        errors["band_green_from"] = _("Задайте обе границы цветов или ни одной.")
    elif red is not None and green is not None:
        _check_bands(red, green, errors)
    if KPI.objects.filter(company_id=kpi.company_id, code=kpi.code).exclude(pk=kpi.pk).exists():
        errors["code"] = _("KPI с кодом «%(code)s» уже есть.") % {"code": kpi.code}
    if errors:
        raise ValidationError(errors)


def _check_bands(red: Decimal, green: Decimal, errors: dict[str, str]) -> None:
    if not (0 <= red <= green):
        errors["band_green_from"] = _(
            "Граница зелёного должна быть не ниже границы красного, и обе — не меньше 0 %."
        )


def _check_configure(actor: User | None) -> None:
    # None: the system (the catalogue at company creation, demo data), which no rule limits.
    if actor is not None:
        permissions.require_configure(actor)


# Russian letters in Latin (as in passports, ICAO), for a KPI's generated code.
_LATIN = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch ie y - e iu ia".split(),  # noqa: SIM905
        strict=True,
    )
) | {"ь": ""}


def kpi_code_for(*, company: Company, name: str) -> str:
    """A code from the KPI's name: transliterated, a slug, unique in the company
    («Звонки с КП» → «zvonki_s_kp», then «zvonki_s_kp_2»). The admin never invents one."""
    latin = "".join(_LATIN.get(letter, letter) for letter in name.lower())
    base = re.sub(r"[^a-z0-9]+", "_", latin).strip("_")[:44] or "kpi"
    taken = set(
        KPI.objects.filter(company=company, code__startswith=base).values_list("code", flat=True)
    )
    code, number = base, 2
    while code in taken:
        code, number = f"{base}_{number}", number + 1
    return code


def kpi_create(*, company: Company, actor: User | None = None, **fields: object) -> KPI:
    _check_configure(actor)
    if not fields.get("code"):
        fields = {**fields, "code": kpi_code_for(company=company, name=str(fields["name_ru"]))}
    kpi = KPI(company=company, **{k: v for k, v in fields.items() if k in KPI_FIELDS})
    if "record" not in fields:
        kpi.record = default_record(kpi.source)
    _check_kpi(kpi)
    with transaction.atomic():
        kpi.save()
        source_changed.send(sender=KPI, kpi=kpi, old_source=None)
    return kpi


# What a stored figure means and how days combine into a total: changing either in place
# would rewrite every past report, plan and total of the KPI.
KPI_FIELDS_FIXED_BY_DATA = ("unit", "aggregation", "numerator", "denominator")


def kpi_update(*, kpi: KPI, actor: User | None = None, **fields: object) -> KPI:
    _check_configure(actor)
    for field in fields:
        if field not in KPI_FIELDS:
            raise ValueError(f"not editable: {field}")
    fixed = [f for f in KPI_FIELDS_FIXED_BY_DATA if f in fields and fields[f] != getattr(kpi, f)]
    if fixed and selectors.kpi_has_data(company=kpi.company, kpi=kpi):
        errors = {field: _("Нельзя поменять: у KPI уже есть данные.") for field in fixed}
        errors[NON_FIELD_ERRORS] = _(
            "У KPI «%(kpi)s» уже есть данные (отчёты, импорт, планы или итоги): единицу и "
            "способ сведения за период нельзя поменять задним числом — прошлые цифры стали бы "
            "значить другое. Создайте новый KPI с новыми настройками (кнопка «Создать новый "
            "KPI с этими настройками») и замените им прежний в наборе KPI роли с нужной даты: "
            "прошлые периоды останутся с прежним KPI и его цифрами."
        ) % {"kpi": kpi}
        raise ValidationError(errors)
    # The figure of record left out (an older page, a script): the KPI keeps its own unless
    # the new source leaves nothing to take or check, then the manager's figure counts.
    if (
        "record" not in fields
        and fields.get("source", kpi.source) not in SOURCED
        and kpi.record != KPI.Record.MANAGER
    ):
        fields = {**fields, "record": KPI.Record.MANAGER}
    changed = frozenset(f for f in fields if fields[f] != getattr(kpi, f))
    old_source = kpi.source
    for field, value in fields.items():
        setattr(kpi, field, value)
    _check_kpi(kpi)
    with transaction.atomic():
        kpi.save()
        rollups.totals_mark(company=kpi.company, change=KPIChanged(kpi=kpi, fields=changed))
        if "source" in changed:
            # The new source's figures of the past days (1C's payments) follow the switch.
            source_changed.send(sender=KPI, kpi=kpi, old_source=old_source)
    return kpi


def kpi_copy(*, kpi: KPI, actor: User | None = None, **fields: object) -> KPI:
    """A new KPI from an existing one with other settings (say another unit): the way to
    change what a KPI with data measures while its past stays as it was. The code and
    names get a suffix where they would repeat the original's."""
    values = {field: getattr(kpi, field) for field in KPI_FIELDS} | fields
    taken = set(KPI.objects.filter(company=kpi.company).values_list("code", flat=True))
    if values["code"] in taken:
        number = 2
        while f"{kpi.code}_{number}"[:50] in taken:
            number += 1
        values["code"] = f"{kpi.code}_{number}"[:50]
    for name in ("name_ru", "name_en"):
        if values[name] and values[name] == getattr(kpi, name):
            values[name] = f"{values[name]} ({values['code']})"[:200]
    return kpi_create(company=kpi.company, actor=actor, **values)


def bands_set(
    *,
    company: Company,
    band_red_below: Decimal,
    band_green_from: Decimal,
    actor: User | None = None,
) -> Company:
    _check_configure(actor)
    errors: dict[str, str] = {}
    _check_bands(band_red_below, band_green_from, errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        stored = (
            Company.objects.select_for_update()
            .values_list("band_red_below", "band_green_from")
            .get(pk=company.pk)
        )
        company.band_red_below = band_red_below
        company.band_green_from = band_green_from
        company.save(update_fields=["band_red_below", "band_green_from"])
        if stored != (band_red_below, band_green_from):
            rollups.totals_mark(company=company, change=CompanyBandsChanged())
    return company


# --- Role KPI sets, effective-dated ---------------------------------------------------------


def _too_many(sales_role: SalesRole) -> ValidationError:
    return ValidationError(
        _(
            "У роли «%(role)s» не может быть больше %(max)d KPI: когда показателей "
            "больше пяти, внимание менеджера рассеивается и эффективность падает. "
            "Сначала уберите один из показателей."
        )
        % {"role": sales_role, "max": MAX_KPIS_PER_ROLE},
        code="too_many_kpis",
    )


def _too_few(sales_role: SalesRole) -> ValidationError:
    return ValidationError(
        _(
            "У роли «%(role)s» должно остаться хотя бы %(min)d KPI: по одному "
            "показателю не видно, за счёт чего выполняется план."
        )
        % {"role": sales_role, "min": MIN_KPIS_PER_ROLE},
        code="too_few_kpis",
    )


def _check_set_sizes(
    *, company: Company, sales_role: SalesRole, since: datetime.date, check_min: bool
) -> None:
    """Every set the role has from `since` on must stay within the bounds.

    Adding checks only the upper bound: a new role is built up from nothing.
    """
    records = RoleKPI.objects.filter(company=company, sales_role=sales_role)
    boundaries = {since} | {
        day
        for pair in records.values_list("effective_from", "effective_to")
        for day in pair
        if day is not None and day > since
    }
    for day in sorted(boundaries):
        count = len(selectors.role_kpis_on(company=company, sales_role=sales_role, on=day))
        if count > MAX_KPIS_PER_ROLE:
            raise _too_many(sales_role)
        if check_min and count < MIN_KPIS_PER_ROLE:
            raise _too_few(sales_role)


def _end_record(record: RoleKPI, *, on: datetime.date, actor: User | None) -> None:
    """The KPI leaves the set from `on`: the membership ends there (or never began)."""
    if record.effective_from == on:
        record.delete()
    else:
        record.effective_to = on
        record.changed_by = actor
        record.save(update_fields=["effective_to", "changed_by"])


def _active_record(
    *, company: Company, sales_role: SalesRole, kpi: KPI, on: datetime.date
) -> RoleKPI | None:
    return RoleKPI.objects.filter(
        selectors.active_on(on), company=company, sales_role=sales_role, kpi=kpi
    ).first()


@transaction.atomic
def role_kpi_add(
    *,
    company: Company,
    sales_role: SalesRole,
    kpi: KPI,
    effective_from: datetime.date,
    actor: User | None = None,
) -> list[KPI]:
    """Adds a KPI to the role's set from a date; refused past five (the reason is shown).

    Returns the set from that date.
    """
    _check_configure(actor)
    if _active_record(company=company, sales_role=sales_role, kpi=kpi, on=effective_from):
        raise ValidationError(_("Этот KPI уже есть у роли на эту дату."), code="duplicate")
    later = (
        RoleKPI.objects.filter(
            company=company, sales_role=sales_role, kpi=kpi, effective_from__gt=effective_from
        )
        .order_by("effective_from")
        .first()
    )
    position = len(
        selectors.role_kpis_on(company=company, sales_role=sales_role, on=effective_from)
    )
    record = RoleKPI(
        company=company,
        sales_role=sales_role,
        kpi=kpi,
        position=position,
        effective_from=effective_from,
        effective_to=later.effective_from if later else None,
        changed_by=actor,
    )
    record.save()
    _check_set_sizes(company=company, sales_role=sales_role, since=effective_from, check_min=False)
    _mark_role(company, sales_role, effective_from)
    return selectors.role_kpis_on(company=company, sales_role=sales_role, on=effective_from)


@transaction.atomic
def role_kpi_remove(
    *,
    company: Company,
    sales_role: SalesRole,
    kpi: KPI,
    effective_from: datetime.date,
    actor: User | None = None,
) -> list[KPI]:
    """Ends a KPI's membership from a date; refused when fewer than two would remain.

    Returns the set from that date.
    """
    _check_configure(actor)
    record = _active_record(company=company, sales_role=sales_role, kpi=kpi, on=effective_from)
    if record is None:
        raise ValidationError(_("Этого KPI нет у роли на эту дату."), code="missing")
    _end_record(record, on=effective_from, actor=actor)
    _check_set_sizes(company=company, sales_role=sales_role, since=effective_from, check_min=True)
    _mark_role(company, sales_role, effective_from)
    return selectors.role_kpis_on(company=company, sales_role=sales_role, on=effective_from)


@transaction.atomic
def role_kpis_set(
    *,
    company: Company,
    sales_role: SalesRole,
    kpis: list[KPI],
    effective_from: datetime.date,
    actor: User | None = None,
) -> list[KPI]:
    """Replaces the role's whole set from a date; the new set must have 2–5 KPIs."""
    _check_configure(actor)
    if len(set(kpis)) > MAX_KPIS_PER_ROLE:
        raise _too_many(sales_role)
    if len(set(kpis)) < MIN_KPIS_PER_ROLE:
        raise _too_few(sales_role)
    # The set from this date is the list in its order: any record that does not match it
    # (a KPI dropped, or kept at another position) ends here, and the list starts here.
    for record in RoleKPI.objects.filter(
        selectors.active_on(effective_from), company=company, sales_role=sales_role
    ):
        if record.kpi in kpis and kpis.index(record.kpi) == record.position:
            continue
        _end_record(record, on=effective_from, actor=actor)
    for position, kpi in enumerate(kpis):
        if not _active_record(company=company, sales_role=sales_role, kpi=kpi, on=effective_from):
            RoleKPI(
                company=company,
                sales_role=sales_role,
                kpi=kpi,
                position=position,
                effective_from=effective_from,
                changed_by=actor,
            ).save()
    _check_set_sizes(company=company, sales_role=sales_role, since=effective_from, check_min=True)
    _mark_role(company, sales_role, effective_from)
    return selectors.role_kpis_on(company=company, sales_role=sales_role, on=effective_from)


# --- Plans ----------------------------------------------------------------------------------


def plan_set(
    *,
    company: Company,
    kpi: KPI,
    start: datetime.date,
    value: Decimal | None,
    manager: User | None = None,
    sales_role: SalesRole | None = None,
    period: str = Plan.Period.MONTH,
    actor: User | None = None,
) -> Plan | None:
    """Sets (or, with None, clears) one plan and records the change in the history."""
    if actor is not None:
        permissions.require_plan(actor, manager=manager, sales_role=sales_role)
    if (manager is None) == (sales_role is None):
        raise ValueError("a plan is for a manager or for a role's default, not both")
    if manager is not None and manager.role != User.Role.MANAGER:
        raise ValidationError(_("План ставится менеджеру."))
    if value is not None:
        try:
            kpi_value_check(value, kpi, plan=True)
        except ValidationError as refusal:
            raise ValidationError({"value": refusal.messages}) from None
    start = period_start(period, start)
    target = {"manager": manager} if manager else {"sales_role": sales_role}
    with transaction.atomic():
        plan = (
            Plan.objects.select_for_update()
            .filter(company=company, kpi=kpi, period=period, start=start, **target)
            .first()
        )
        old = plan.value if plan else None
        if value is None:
            if plan:
                plan.delete()
            plan = None
        elif plan:
            plan.value = value
            plan.save(update_fields=["value"])
        else:
            plan = Plan(company=company, kpi=kpi, period=period, start=start, value=value, **target)
            plan.save()
        if old != value:
            PlanChange(
                company=company,
                kpi=kpi,
                period=period,
                start=start,
                old_value=old,
                new_value=value,
                changed_by=actor,
                **target,
            ).save()
            rollups.totals_mark(
                company=company,
                change=PlanChanged(
                    period=period, start=start, manager=manager, sales_role=sales_role
                ),
            )
    return plan


def _mark_role(company: Company, sales_role: SalesRole, since: datetime.date) -> None:
    change = RoleKPISetChanged(sales_role=sales_role, since=since)
    rollups.totals_mark(company=company, change=change)


class PreviewOutdated(Exception):
    """The plans changed after the user was shown what a bulk action would write: the new
    preview goes back to them instead of writing over what they did not see."""

    def __init__(self, preview: selectors.PlanBatch) -> None:
        super().__init__(preview.digest)
        self.preview = preview


def _lock_month_plans(*, company: Company, team: Team, months: list[datetime.date]) -> None:
    # Held until the batch is written, so nobody's edit lands between the check and the write.
    for month in months:
        list(
            selectors.team_month_plans(company=company, team=team, month=month)
            .select_for_update(of=("self",))
            .values_list("pk", flat=True)
        )


def _apply(
    *,
    company: Company,
    month: datetime.date,
    preview: selectors.PlanBatch,
    digest: str,
    actor: User | None,
) -> int:
    if preview.digest != digest:
        raise PreviewOutdated(preview)
    for change in preview.changes:
        plan_set(
            company=company,
            kpi=change.kpi,
            start=month,
            value=change.new,
            manager=change.manager,
            sales_role=change.sales_role,
            actor=actor,
        )
    return len(preview.changes)


def plans_copy_previous_month(
    *,
    company: Company,
    team: Team,
    month: datetime.date,
    digest: str,
    actor: User | None = None,
) -> int:
    """Copies last month's plans of the team's managers and of their roles into `month`.

    Applies exactly what `selectors.plans_copy_preview` showed: `digest` is that preview's,
    and `PreviewOutdated` is raised (nothing written) when the plans have changed since."""
    if actor is not None:
        permissions.require_plan(actor, team=team)
    month = month_start(month)
    previous = shift_months(month, -1)
    with transaction.atomic():
        _lock_month_plans(company=company, team=team, months=[previous, month])
        preview = selectors.plans_copy_preview(company=company, team=team, month=month, actor=actor)
        return _apply(company=company, month=month, preview=preview, digest=digest, actor=actor)


def _check_percent(percent: Decimal) -> None:
    if not Decimal(-90) <= percent <= Decimal(500):
        raise ValidationError({"percent": _("Изменение плана — от −90 % до +500 %.")})


def plans_uplift_preview(
    *,
    company: Company,
    team: Team,
    month: datetime.date,
    percent: Decimal,
    actor: User | None = None,
) -> selectors.PlanBatch:
    """The uplift's preview, after the percentage is checked and every new plan is found
    within its unit's bounds (otherwise nothing is offered, and nothing written)."""
    _check_percent(percent)
    preview = selectors.plans_uplift_preview(
        company=company, team=team, month=month, percent=percent, actor=actor
    )
    for change in preview.changes:
        if not within_bounds(change.new, change.kpi, plan=True):
            who = change.manager or change.sales_role
            raise ValidationError(
                {
                    "percent": _(
                        "После изменения план «%(kpi)s» (%(who)s) выйдет за допустимые "
                        "границы: ничего не изменено."
                    )
                    % {"kpi": change.kpi.name, "who": who}
                }
            )
    return preview


def plans_uplift(
    *,
    company: Company,
    team: Team,
    month: datetime.date,
    percent: Decimal,
    digest: str,
    actor: User | None = None,
) -> int:
    """Raises the month's plans of higher-is-better KPIs by a percentage (lower-is-better stay),
    exactly as `plans_uplift_preview` showed them (see `plans_copy_previous_month`)."""
    if actor is not None:
        permissions.require_plan(actor, team=team)
    _check_percent(percent)
    month = month.replace(day=1)
    with transaction.atomic():
        _lock_month_plans(company=company, team=team, months=[month])
        preview = plans_uplift_preview(
            company=company, team=team, month=month, percent=percent, actor=actor
        )
        return _apply(company=company, month=month, preview=preview, digest=digest, actor=actor)


# --- Calendar and absences ------------------------------------------------------------------


def calendar_day_set(
    *,
    company: Company,
    date: datetime.date,
    is_working: bool,
    note: str = "",
    actor: User | None = None,
) -> CalendarDay:
    _check_configure(actor)
    with transaction.atomic():
        day, _created = CalendarDay.objects.update_or_create(
            company=company,
            date=date,
            defaults={
                "is_working": is_working,
                "note": note,
                "origin": CalendarDay.Origin.COMPANY,
            },
        )
        rollups.totals_mark(company=company, change=CalendarDayChanged(date=date))
    return day


def calendar_day_remove(
    *, company: Company, date: datetime.date, actor: User | None = None
) -> None:
    _check_configure(actor)
    with transaction.atomic():
        CalendarDay.objects.filter(company=company, date=date).delete()
        rollups.totals_mark(company=company, change=CalendarDayChanged(date=date))


def absence_create(
    *,
    company: Company,
    manager: User,
    kind: str,
    start: datetime.date,
    end: datetime.date,
    actor: User | None = None,
) -> Absence:
    _check_configure(actor)
    if end < start:
        raise ValidationError({"end": _("Дата окончания раньше даты начала.")})
    if manager.role != User.Role.MANAGER:
        raise ValidationError({"manager": _("Отсутствия учитываются у менеджеров.")})
    overlapping = Absence.objects.filter(
        company=company, manager=manager, start__lte=end, end__gte=start
    )
    if overlapping.exists():
        raise ValidationError(_("На эти дни у сотрудника уже есть отсутствие."))
    with transaction.atomic():
        absence = Absence(company=company, manager=manager, kind=kind, start=start, end=end)
        absence.save()
        _mark_absence(absence)
    return absence


def absence_delete(*, absence: Absence, actor: User | None = None) -> None:
    _check_configure(actor)
    with transaction.atomic():
        absence.delete()
        _mark_absence(absence)


def _mark_absence(absence: Absence) -> None:
    change = AbsenceChanged(manager=absence.manager, start=absence.start, end=absence.end)
    rollups.totals_mark(company=absence.company, change=change)
