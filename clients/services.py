"""Writes of client analysis: settings and acquisition costs, the monthly ABC/XYZ
classification, rhythm alerts, and the daily refresh of the client KPIs' report figures."""

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from statistics import median

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Company, User
from clients import selectors
from clients.classification import Ranked, abc_classes, variation, xyz_class
from clients.models import AcquisitionCost, ClientAlert, ClientAnalysisSettings, ClientClass
from clients.selectors import CLIENT_CODES
from crm_sync import services as crm_services
from crm_sync.models import Client
from kpi import selectors as kpi_selectors
from kpi.models import KPI
from kpi.periods import month_bounds

SETTINGS_FIELDS = (
    "abc_a_share",
    "abc_b_share",
    "xyz_x_below",
    "xyz_y_upto",
    "window_months",
    "rhythm_tolerance",
    "retention_days",
)


def settings_update(*, company: Company, **values: object) -> ClientAnalysisSettings:
    found = selectors.analysis_settings(company=company)
    for name in SETTINGS_FIELDS:
        if name in values:
            setattr(found, name, values[name])
    errors = {}
    if not 0 < found.abc_a_share < found.abc_b_share < 100:
        errors["abc_b_share"] = _("Нужно 0 < порог A < порог B < 100 %.")
    if not 0 < found.xyz_x_below < found.xyz_y_upto:
        errors["xyz_y_upto"] = _("Порог Y должен быть больше порога X.")
    if not 1 <= found.window_months <= 36:
        errors["window_months"] = _("Окно анализа: от 1 до 36 месяцев.")
    if found.rhythm_tolerance < 1:
        errors["rhythm_tolerance"] = _("Допуск ритма не может быть меньше 1.")
    if not 7 <= found.retention_days <= 365:
        errors["retention_days"] = _("Окно удержания: от 7 до 365 дней.")
    if errors:
        raise ValidationError(errors)
    found.save()
    return found


def acquisition_cost_set(
    *, company: Company, month: datetime.date, amount: Decimal
) -> AcquisitionCost:
    """The month's acquisition cost; entering a month again replaces its amount."""
    if amount < 0:
        raise ValidationError({"amount": _("Затраты не могут быть отрицательными.")})
    cost, _created = AcquisitionCost.objects.update_or_create(
        company=company, month=month.replace(day=1), defaults={"amount": amount}
    )
    return cost


def acquisition_cost_delete(*, cost: AcquisitionCost) -> None:
    cost.delete()


# --- ABC/XYZ --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Classification:
    month: datetime.date
    as_of: datetime.date
    classified: int


def classification_run(
    *, company: Company, month: datetime.date, today: datetime.date | None = None
) -> Classification:
    """Classify every client as of the month's last day (or today, for the running month)
    and replace the month's stored rows: running it again gives the same rows.

    A running month's few days are not a month of purchases: its XYZ variation is taken over
    the window's complete months, so a client who orders every month is not made unsteady
    by the month that has just begun."""
    today = today or company.today()
    month = month.replace(day=1)
    if month > today:
        raise ValidationError(_("Нельзя классифицировать клиентов за будущий месяц."))
    as_of = min(month_bounds(month)[1], today)
    found = selectors.analysis_settings(company=company)
    revenues = selectors.window_revenues(
        company=company, month=month, as_of=as_of, months=found.window_months
    )
    names = dict(Client.objects.filter(company=company, pk__in=revenues).values_list("pk", "name"))
    abc = abc_classes(
        [Ranked(key, names[key], sum(monthly, Decimal(0))) for key, monthly in revenues.items()],
        a_share=found.abc_a_share,
        b_share=found.abc_b_share,
    )
    managers = selectors.latest_managers(company=company, client_ids=list(revenues), as_of=as_of)
    rows = []
    running = as_of < month_bounds(month)[1]
    for client_id, monthly in revenues.items():
        # A client new this month has only the running month to go by.
        cv = variation(monthly[:-1] if running and any(monthly[:-1]) else monthly)
        rows.append(
            ClientClass(
                company=company, month=month, client_id=client_id,
                manager_id=managers.get(client_id), abc=abc[client_id],
                xyz=xyz_class(cv, x_below=found.xyz_x_below, y_upto=found.xyz_y_upto),
                revenue=sum(monthly, Decimal(0)), cv=cv,
            )
        )  # fmt: skip
    with transaction.atomic():
        ClientClass.objects.filter(company=company, month=month).delete()
        ClientClass.objects.bulk_create(rows)
    return Classification(month=month, as_of=as_of, classified=len(rows))


# --- Rhythm alerts --------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertsRefresh:
    opened: int
    closed: int


def alerts_refresh(*, company: Company, today: datetime.date | None = None) -> AlertsRefresh:
    """Close the alerts of clients who ordered again; open one (once) for each A or X client
    of the latest stored month with 3+ order days whose pause is over its usual rhythm:
    days since the last order > the median gap between orders × the tolerance."""
    today = today or company.today()
    tolerance = selectors.analysis_settings(company=company).rhythm_tolerance
    open_alerts = {
        alert.client_id: alert
        for alert in ClientAlert.objects.filter(company=company, status=ClientAlert.Status.OPEN)
    }
    latest = ClientClass.objects.filter(company=company, month__lte=today).order_by("-month")
    month = latest.values_list("month", flat=True).first()
    regulars = {}
    if month is not None:
        regulars = {
            entry.client_id: entry.manager_id
            for entry in ClientClass.objects.filter(company=company, month=month)
            if entry.abc == "A" or entry.xyz == "X"
        }
    days = selectors.order_days(company=company, client_ids=[*regulars, *open_alerts])
    now, closed, opened = timezone.now(), 0, 0
    for client_id, alert in open_alerts.items():
        if any(day > alert.last_order_on for day in days.get(client_id, [])):
            alert.status, alert.closed_at = ClientAlert.Status.CLOSED, now
            alert.save(update_fields=["status", "closed_at"])
            closed += 1
    for client_id, manager_id in regulars.items():
        ordered = [day for day in days.get(client_id, []) if day <= today]
        still_open = client_id in open_alerts and open_alerts[client_id].status == "open"
        if len(ordered) < 3 or still_open:
            continue
        gap = Decimal(median((b - a).days for a, b in pairwise(ordered)))
        allowed = gap * tolerance
        if (today - ordered[-1]).days <= allowed:
            continue
        try:
            with transaction.atomic():
                ClientAlert.objects.create(
                    company=company, client_id=client_id, manager_id=manager_id,
                    last_order_on=ordered[-1], median_gap_days=gap,
                    due_since=ordered[-1] + datetime.timedelta(days=math.floor(allowed) + 1),
                )  # fmt: skip
        except IntegrityError:  # another run opened it meanwhile
            continue
        opened += 1
    return AlertsRefresh(opened=opened, closed=closed)


def alerts_close_ordered(*, company: Company, client_id: int, day: datetime.date) -> int:
    """The client ordered on `day`: its open alert from an earlier last order is done."""
    return ClientAlert.objects.filter(
        company=company, client_id=client_id, status=ClientAlert.Status.OPEN, last_order_on__lt=day
    ).update(status=ClientAlert.Status.CLOSED, closed_at=timezone.now())


# --- Client KPIs in the end-of-day report ---------------------------------------------------


def client_figures_refresh(*, company: Company, day: datetime.date | None = None) -> int:
    """Refresh the day's client-KPI figures (as-of figures move with time even without new
    deals) for every active manager whose role has one of them; returns how many."""
    day = day or company.today()
    managers = [
        manager
        for manager in User.objects.filter(
            company=company, role=User.Role.MANAGER, is_active=True, sales_role__isnull=False
        )
        if any(
            kpi.code in CLIENT_CODES
            for kpi in kpi_selectors.manager_kpis(company=company, manager=manager, on=day)
        )
    ]
    if managers:
        kpis = list(KPI.objects.filter(company=company, code__in=CLIENT_CODES))
        for manager in managers:
            crm_services.day_figures_store(company=company, manager=manager, day=day, kpis=kpis)
    return len(managers)
