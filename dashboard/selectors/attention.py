"""Who needs a conversation today: no report, red KPIs, the month at risk at today's pace, a
sharp drop against the manager's own recent weeks.

The rules of when a running figure's pace says enough to raise it (pace_is_telling) and of
how many names the list leads with (ATTENTION_SHOWN) live here; the table, its print and
Excel versions and the digest read them from here.
"""

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from accounts.models import Company, User
from accounts.selectors import managers_in_view_list
from kpi.calendar import WorkCalendar, calendar_for
from kpi.models import KPI
from kpi.periods import Window, week_bounds
from kpi.values import format_date
from reports.selectors import report_statuses
from rollups.figures import (
    Figure,
    company_kpis,
    figures_of_window,
)
from rollups.models import Scope, Total
from salesdesk.statements import Statement

# A KPI's last full week this many points below the mean of the weeks before is a sharp drop.
DROP_POINTS = Decimal(25)
DROP_WEEKS = 4
HUNDRED = Decimal(100)
# status_days() looks this far back for the last working day.
STATUS_DAYS_BACK = 15
# A running period's pace is a projection of the days behind it: after one or two working
# days of a month it is noise, and every manager with a slow Monday reads «под угрозой».
# Red-by-pace and «под угрозой» are raised once this share of the period's working days (and
# at least PACE_MIN_DAYS of them) has passed; until then the list names missed reports and
# sharp drops against the manager's own weeks, which mean something on the first day.
PACE_TELLING_SHARE = Decimal(1) / Decimal(3)
PACE_MIN_DAYS = 2
# The list leads with the few who most need a conversation; the rest stay in the table.
ATTENTION_SHOWN = 5


@dataclass
class Attention:
    """A manager who needs a conversation today, and why."""

    manager: User
    reasons: list[str]
    severity: int
    worst: Decimal | None


def pace_is_telling(figure: Figure) -> bool:
    """Enough of a running period has passed for its pace to be raised as a finding (a
    finished period's figure always has)."""
    if not figure.running:
        return True
    if figure.elapsed_days is not None and figure.working_days:
        return figure.elapsed_days >= _days_needed(figure.working_days)
    # A team's total counts no days, but its plan to date is the share of the plan the
    # elapsed working days make.
    if figure.plan_to_date is not None and figure.plan:
        return figure.plan_to_date / figure.plan >= PACE_TELLING_SHARE
    return True


def _days_needed(working_days: int) -> int:
    return min(working_days, max(PACE_MIN_DAYS, math.ceil(working_days * PACE_TELLING_SHARE)))


def at_risk_shown(figure: Figure | None) -> bool:
    """«под угрозой» as every surface raises it: the forecast misses the plan, and the pace
    has enough days behind it to say so."""
    return figure is not None and figure.at_risk and pace_is_telling(figure)


def pace_telling_from(calendar: WorkCalendar, window: Window) -> datetime.date | None:
    """The working day from which the window's pace is raised (pace_is_telling), if any."""
    working = calendar.working_days(window.start, window.end)
    return working[_days_needed(len(working)) - 1] if working else None


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
    as_of: datetime.date | None = None,
) -> list[Attention]:
    """Who needs a conversation today, worst first: no report, red KPIs, month at risk at
    today's pace (once it is telling), a sharp drop against their own recent weeks.

    `as_of`, an earlier day, asks who needed one then (a past period's page, print and
    Excel): its month's figures, the reports of its last working day, the weeks before it.
    `statuses` must cover the days checked (status_days() of today, or `as_of` itself and
    the working day before it); `month_figures` must be of the month holding that day.
    """
    local = company.local_time(now)
    today = local.date()
    past = as_of is not None and as_of < today
    day = as_of if past else today
    kpis = kpis if kpis is not None else company_kpis(company=company)
    managers = (
        managers if managers is not None else managers_in_view_list(company=company, viewer=viewer)
    )
    ids = [m.pk for m in managers]
    calendar = calendar or calendar_for(company=company)
    days = status_days(calendar, day)
    if past:
        # The period's own last working day: its report is the one that was due.
        checked = [
            (d, format_date(d, year=False)) for d in (day, days[1]) if calendar.is_working(d)
        ][:1]
    else:
        checked = [(days[1], format_date(days[1], year=False))]
        if local.time() >= company.reminder_time:
            checked.append((today, _("сегодня")))
    if statuses is None or past:
        statuses = report_statuses(
            company=company, manager_ids=ids, days=[d for d, _label in checked] or [day],
            calendar=calendar,
        )  # fmt: skip
    missing: dict[int, list[str]] = defaultdict(list)
    for manager_id in ids:
        for checked_day, label in checked:
            if statuses.get((manager_id, checked_day)) == "missing":
                missing[manager_id].append(label)
    if month_figures is None:
        month_figures = figures_of_window(
            company=company, window=Window.around("month", day), kpis=kpis,
            scope=Scope.MANAGER, subject_ids=ids,
        )  # fmt: skip
    by_manager: dict[int, list[Figure]] = defaultdict(list)
    for (manager_id, _kpi_id), figure in month_figures.items():
        by_manager[manager_id].append(figure)
    drops = sharp_drops(company=company, today=day, kpis=kpis, manager_ids=ids)
    items = []
    for manager in managers:
        reasons, severity = [], 0
        if missing[manager.pk]:
            reasons.append(_("нет отчёта: %(days)s") % {"days": ", ".join(missing[manager.pk])})
            severity += 3 * len(missing[manager.pk])
        figures = by_manager[manager.pk]
        red = [f for f in figures if f.shown_band == "red" and pace_is_telling(f)]
        if red:
            reasons.append(
                (
                    # The month runs: its light is the pace (rollups.figures.Figure).
                    _("красные KPI за месяц по темпу: %(list)s")
                    if red[0].running
                    else _("красные KPI за месяц: %(list)s")
                )
                % {"list": ", ".join(f"{f.kpi.name} {f.percent_text}" for f in red)}
            )
            severity += 3 * len(red)
        risky = [f for f in figures if at_risk_shown(f)]
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


# The dashboard and its poll read the weeks on every request: compiled once.
_WEEKS = Statement(
    lambda company, ids, first, last: Total.objects.filter(
        company=company, scope=Scope.MANAGER, period="week", subject_id__in=ids,
        start__gte=first, start__lte=last, completion__isnull=False,
    ).values_list("subject_id", "kpi_id", "start", "completion")
)  # fmt: skip


def sharp_drops(
    *, company: Company, today: datetime.date, kpis: dict[int, KPI], manager_ids: list[int]
) -> dict[int, list[tuple[KPI, Decimal, Decimal]]]:
    """(KPI, last full week's completion, the mean of the weeks before) where it fell sharply."""
    last_monday = week_bounds(today)[0] - datetime.timedelta(days=7)
    first_monday = last_monday - datetime.timedelta(days=7 * DROP_WEEKS)
    rows = _WEEKS(company=company.pk, ids=manager_ids, first=first_monday, last=last_monday)
    history: dict[tuple[int, int], dict[datetime.date, Decimal]] = defaultdict(dict)
    for manager_id, kpi_id, start, value in rows:
        history[(manager_id, kpi_id)][start] = value
    drops: dict[int, list[tuple[KPI, Decimal, Decimal]]] = defaultdict(list)
    for (manager_id, kpi_id), weeks in history.items():
        last = weeks.pop(last_monday, None)
        if last is None or len(weeks) < 2 or kpi_id not in kpis:
            continue
        usual = sum(weeks.values(), Decimal(0)) / len(weeks)
        # A week that still met its plan (167 % after a usual 286 %) needs no conversation.
        if usual - last >= DROP_POINTS and last < HUNDRED:
            drops[manager_id].append((kpis[kpi_id], last, usual))
    return drops


def review_window(calendar: WorkCalendar, today: datetime.date) -> Window:
    """What the dashboard opens on: the last working day before today, whose reports are
    all in; on the first working day of a week, the week before as a whole."""
    last = status_days(calendar, today)[1]
    if week_bounds(last)[0] < week_bounds(today)[0]:
        return Window.around("week", last)
    return Window.around("day", last)
