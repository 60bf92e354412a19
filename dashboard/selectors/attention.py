"""Who needs a conversation today: no report, red KPIs, the month at risk at today's pace, a
sharp drop against the manager's own recent weeks."""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from accounts.models import Company, User
from accounts.selectors import managers_in_view
from kpi.calendar import WorkCalendar, calendar_for
from kpi.models import KPI
from kpi.periods import Window, week_bounds
from reports.selectors import report_statuses
from rollups.figures import (
    Figure,
    company_kpis,
    figures_of_window,
)
from rollups.models import Scope, Total

# A KPI's last full week this many points below the mean of the weeks before is a sharp drop.
DROP_POINTS = Decimal(25)
DROP_WEEKS = 4
# status_days() looks this far back for the last working day.
STATUS_DAYS_BACK = 15


@dataclass
class Attention:
    """A manager who needs a conversation today, and why."""

    manager: User
    reasons: list[str]
    severity: int
    worst: Decimal | None


def status_days(calendar: WorkCalendar, today: datetime.date) -> list[datetime.date]:
    """Today and the last working day before it: the days whose reports the dashboard checks."""
    day = today - datetime.timedelta(days=1)
    for _step in range(STATUS_DAYS_BACK - 1):
        if calendar.is_working(day):
            break
        day -= datetime.timedelta(days=1)
    return [today, day]


def attention_list(
    *,
    company: Company,
    viewer: User,
    kpis: dict[int, KPI] | None = None,
    managers: list[User] | None = None,
    now: datetime.datetime | None = None,
    calendar: WorkCalendar | None = None,
    statuses: dict[tuple[int, datetime.date], str] | None = None,
    month_figures: dict[tuple[int, int], Figure] | None = None,
) -> list[Attention]:
    """Who needs a conversation today, worst first: no report, red KPIs, month at risk at
    today's pace, a sharp drop against their own recent weeks.

    `statuses` must cover today and the last working day before it (status_days()).
    """
    local = company.local_time(now)
    today = local.date()
    kpis = kpis if kpis is not None else company_kpis(company=company)
    managers = (
        managers if managers is not None else list(managers_in_view(company=company, viewer=viewer))
    )
    ids = [m.pk for m in managers]
    calendar = calendar or calendar_for(company=company)
    days = status_days(calendar, today)
    if statuses is None:
        statuses = report_statuses(company=company, manager_ids=ids, days=days, calendar=calendar)
    checked = [(days[1], days[1].strftime("%d.%m"))]
    if local.time() >= company.reminder_time:
        checked.append((today, _("сегодня")))
    missing: dict[int, list[str]] = defaultdict(list)
    for manager_id in ids:
        for day, label in checked:
            if statuses.get((manager_id, day)) == "missing":
                missing[manager_id].append(label)
    if month_figures is None:
        month_figures = figures_of_window(
            company=company, window=Window.around("month", today), kpis=kpis,
            scope=Scope.MANAGER, subject_ids=ids,
        )  # fmt: skip
    by_manager: dict[int, list[Figure]] = defaultdict(list)
    for (manager_id, _kpi_id), figure in month_figures.items():
        by_manager[manager_id].append(figure)
    drops = sharp_drops(company=company, today=today, kpis=kpis, manager_ids=ids)
    items = []
    for manager in managers:
        reasons, severity = [], 0
        if missing[manager.pk]:
            reasons.append(_("нет отчёта: %(days)s") % {"days": ", ".join(missing[manager.pk])})
            severity += 3 * len(missing[manager.pk])
        figures = by_manager[manager.pk]
        red = [f for f in figures if f.shown_band == "red"]
        if red:
            reasons.append(
                # The month runs: its light is the pace (rollups.figures.Figure).
                _("красные KPI за месяц по темпу: %(list)s")
                % {"list": ", ".join(f"{f.kpi.name} {f.percent_text}" for f in red)}
            )
            severity += 3 * len(red)
        risky = [f for f in figures if f.at_risk]
        if risky:
            reasons.append(
                _("месяц под угрозой при нынешнем темпе: %(list)s")
                % {
                    "list": ", ".join(
                        _("%(kpi)s — прогноз %(forecast)s при плане %(plan)s")
                        % {"kpi": f.kpi.name, "forecast": f.forecast_text, "plan": f.plan_text}
                        for f in risky
                    )
                }
            )
            severity += 2 * len(risky)
        for kpi, last, usual in drops.get(manager.pk, []):
            reasons.append(
                _("резкий спад: %(kpi)s %(last)s %% за прошлую неделю против %(usual)s %% обычно")
                % {"kpi": kpi.name, "last": f"{last:.0f}", "usual": f"{usual:.0f}"}
            )
            severity += 2
        if reasons:
            shown = [f.shown_completion for f in figures if f.shown_completion is not None]
            items.append(Attention(manager, reasons, severity, min(shown) if shown else None))
    items.sort(key=lambda a: (-a.severity, a.worst if a.worst is not None else Decimal(9999)))
    return items


def sharp_drops(
    *, company: Company, today: datetime.date, kpis: dict[int, KPI], manager_ids: list[int]
) -> dict[int, list[tuple[KPI, Decimal, Decimal]]]:
    """(KPI, last full week's completion, the mean of the weeks before) where it fell sharply."""
    last_monday = week_bounds(today)[0] - datetime.timedelta(days=7)
    first_monday = last_monday - datetime.timedelta(days=7 * DROP_WEEKS)
    rows = Total.objects.filter(
        company=company, scope=Scope.MANAGER, period="week", subject_id__in=manager_ids,
        start__gte=first_monday, start__lte=last_monday, completion__isnull=False,
    ).values_list("subject_id", "kpi_id", "start", "completion")  # fmt: skip
    history: dict[tuple[int, int], dict[datetime.date, Decimal]] = defaultdict(dict)
    for manager_id, kpi_id, start, value in rows:
        history[(manager_id, kpi_id)][start] = value
    drops: dict[int, list[tuple[KPI, Decimal, Decimal]]] = defaultdict(list)
    for (manager_id, kpi_id), weeks in history.items():
        last = weeks.pop(last_monday, None)
        if last is None or len(weeks) < 2 or kpi_id not in kpis:
            continue
        usual = sum(weeks.values(), Decimal(0)) / len(weeks)
        if usual - last >= DROP_POINTS:
            drops[manager_id].append((kpis[kpi_id], last, usual))
    return drops
