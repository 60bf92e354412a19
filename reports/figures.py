"""A manager's daily figures and the figure of record: the one home of what a manager's day
value of a KPI is (DOMAIN.md, plan completion: figure of record).

A KPI that a CRM or the telephony supplies (`KPI.has_source`) has two figures of a day: what
the manager typed (ReportValue) and what the source recorded (ImportedFigure of the KPI's
own source). `KPI.record` says which one counts:
- `source`: the source's figure, wherever it has one for the day, reported or not; a day it
  has none keeps what the manager typed (a source connected later than the history began).
  A day the manager did not report still counts the source's figure: the report's status
  (missing, late) stays what it is, the day adds its value and counts as a day with a
  figure (`days_reported` of the totals);
- `manager`: what the manager typed, nothing compared;
- `checked`: what the manager typed, and where the source says otherwise over a period, the
  difference is flagged with both values (`figure_sides`).
Every reader agrees through this module: the rollups engine (`FACTS_OF_RECORD_SQL`, the
stored totals every screen and the API read), the end-of-day form and «Мои показатели»
(`daily_figures`), the dashboard, the funnel, the team reports and the totals API
(`figure_sides`).
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Value
from django.utils.translation import gettext as _

from accounts.models import Company, User
from kpi.aggregation import period_value
from kpi.models import KPI, SOURCED
from kpi.values import format_value
from reports.models import ImportedFigure, ReportValue
from salesdesk.statements import Statement


def source_counts(kpi: KPI) -> bool:
    """The source's figure is the KPI's figure of record."""
    return kpi.record == KPI.Record.SOURCE and kpi.has_source


def is_checked(kpi: KPI) -> bool:
    """The manager's and the source's figures are compared for this KPI (a ratio's parts are
    compared, not the ratio)."""
    return (
        kpi.record != KPI.Record.MANAGER
        and kpi.has_source
        and kpi.aggregation != KPI.Aggregation.RATIO
    )


def day_value_of_record(
    kpi: KPI, *, typed: Decimal | None, imported: Decimal | None
) -> Decimal | None:
    """A manager's day value of the KPI: the rule the SQL below says for the totals."""
    if source_counts(kpi) and imported is not None:
        return imported
    return typed


# The engine's facts (rollups/engine.py): (manager_id, kpi_id, date, value) of every day of
# record in [lo, hi]. Parameters: company, lo, hi; `{in_span}` restricts the report values to
# the span's reports (the engine's dialect says how).
FACTS_OF_RECORD_SQL = """
    SELECT r.manager_id, v.kpi_id, r.date, v.value
    FROM reports_reportvalue v
    JOIN reports_dailyreport r ON r.id = v.report_id
    JOIN kpi_kpi k ON k.id = v.kpi_id
    WHERE v.company_id = %(company)s AND {in_span}
        AND r.company_id = %(company)s AND r.date BETWEEN %(lo)s AND %(hi)s
        AND NOT (k.record = 'source' AND EXISTS (
            SELECT 1 FROM reports_importedfigure f
            WHERE f.company_id = %(company)s AND f.manager_id = r.manager_id
                AND f.kpi_id = v.kpi_id AND f.date = r.date AND f.source = k.source))
    UNION ALL
    SELECT f.manager_id, f.kpi_id, f.date, f.value
    FROM reports_importedfigure f
    JOIN kpi_kpi k ON k.id = f.kpi_id AND k.record = 'source' AND f.source = k.source
    WHERE f.company_id = %(company)s AND f.date BETWEEN %(lo)s AND %(hi)s
"""


def _source_rows(
    company: Company, manager_ids: Iterable[int], kpis: Iterable[KPI], start, end
) -> list[tuple[int, datetime.date, int, Decimal]]:
    by_id = {kpi.pk: kpi for kpi in kpis if kpi.has_source}
    if not by_id:
        return []
    rows = ImportedFigure.objects.filter(
        company=company,
        manager_id__in=list(manager_ids),
        date__gte=start,
        date__lte=end,
        kpi_id__in=list(by_id),
    ).values_list("manager_id", "date", "kpi_id", "source", "value")
    return [(m, day, k, value) for m, day, k, source, value in rows if by_id[k].source == source]


_IMPORTED_OF_DAY = Statement(
    lambda company, manager, day: ImportedFigure.objects.filter(
        company=company, manager=manager, date=day
    )
)


def imported_of_day(
    *, company: Company, manager: User, day: datetime.date, kpis: Iterable[KPI]
) -> dict[int, ImportedFigure]:
    """The source's figure of a manager's day per KPI id, as the report form offers it: that
    of the KPI's own source where there are two (a revenue KPI counting 1C's payments keeps
    the CRM's won deals of the day too), else the one there is."""
    own_source = {kpi.pk: kpi.source for kpi in kpis}
    imported: dict[int, ImportedFigure] = {}
    for figure in _IMPORTED_OF_DAY(company=company.pk, manager=manager.pk, day=day):
        if figure.kpi_id not in imported or figure.source == own_source.get(figure.kpi_id):
            imported[figure.kpi_id] = figure
    return imported


class ManagerDays(dict[datetime.date, dict[str, Decimal]]):
    """A manager's figures of record by day and KPI code (kpi.aggregation.DailyFigures), and
    the days the manager's own report is in (`reported`): a source's figure alone does not
    end the manager's day (the engine's reported_today), so it runs no pace to today."""

    def __init__(self) -> None:
        super().__init__()
        self.reported: set[datetime.date] = set()


def daily_figures(
    *, company: Company, manager: User, start: datetime.date, end: datetime.date
) -> ManagerDays:
    """The manager's figures of record by day and KPI code, the shape kpi.aggregation
    works on (what the totals hold for the same days)."""
    figures = figures_of_managers(company=company, manager_ids=[manager.pk], start=start, end=end)
    return figures.get(manager.pk, ManagerDays())


def _of_record(company: int, ids: list[int], start: datetime.date, end: datetime.date):
    typed = (
        ReportValue.objects.filter(
            company=company,
            report__manager_id__in=ids,
            report__date__gte=start,
            report__date__lte=end,
        )
        .annotate(counts=Value(False))
        .values_list("report__manager_id", "report__date", "kpi__code", "value", "counts")
    )
    recorded = (
        ImportedFigure.objects.filter(
            company=company,
            manager_id__in=ids,
            date__gte=start,
            date__lte=end,
            kpi__record=KPI.Record.SOURCE,
            kpi__source__in=SOURCED,
            source=F("kpi__source"),
        )
        .annotate(counts=Value(True))
        .values_list("manager_id", "date", "kpi__code", "value", "counts")
    )
    return typed.union(recorded, all=True)


# The form, «Мои показатели» and the report's checks read it on every request: compiled once.
_OF_RECORD = Statement(_of_record)


def figures_of_managers(
    *, company: Company, manager_ids: Iterable[int], start: datetime.date, end: datetime.date
) -> dict[int, ManagerDays]:
    """Each manager's figures of record by day and KPI code (`daily_figures`), in one query:
    the typed figures and, over them, the sources' figures of the KPIs they count for
    (`source_counts`, as FACTS_OF_RECORD_SQL says it)."""
    manager_ids = list(manager_ids)
    rows = _OF_RECORD(company=company.pk, ids=manager_ids, start=start, end=end)
    figures: dict[int, ManagerDays] = defaultdict(ManagerDays)
    of_record = []
    for manager_id, day, code, value, counts in rows:
        if counts:
            of_record.append((manager_id, day, code, value))
        else:
            # A typed figure is a filed report's: every report holds its typed KPIs.
            figures[manager_id].setdefault(day, {})[code] = value
            figures[manager_id].reported.add(day)
    for manager_id, day, code, value in of_record:
        figures[manager_id].setdefault(day, {})[code] = value
    return dict(figures)


@dataclass(frozen=True)
class Sides:
    """A KPI's two figures over a period: what the manager typed and what the source says."""

    kpi: KPI
    manager_value: Decimal | None
    source_value: Decimal | None

    @property
    def differs(self) -> bool:
        return (
            self.manager_value is not None
            and self.source_value is not None
            and self.manager_value != self.source_value
        )

    @property
    def source_label(self) -> str:
        return str(KPI.Source(self.kpi.source).label)

    @property
    def counts_label(self) -> str:
        return self.source_label if source_counts(self.kpi) else _("отчёт менеджера")

    @property
    def text(self) -> str:
        """Both figures and which counts, for a title, an explanation or a list."""
        return _("В отчётах %(typed)s, %(source)s — %(recorded)s; считается: %(counts)s") % {
            "typed": format_value(self.manager_value, self.kpi),
            "source": self.source_label,
            "recorded": format_value(self.source_value, self.kpi),
            "counts": self.counts_label,
        }

    @property
    def day_text(self) -> str:
        """Both figures of one day and which counts, for the day's team reports."""
        day = _("%(kpi)s: в отчёте %(typed)s, %(source)s — %(recorded)s") % {
            "kpi": self.kpi.name,
            "typed": format_value(self.manager_value, self.kpi),
            "source": ReportValue.Source(self.kpi.source).label,
            "recorded": format_value(self.source_value, self.kpi),
        }
        return f"{day}; " + _("считается: %(counts)s") % {"counts": self.counts_label}


def figure_sides(
    *,
    company: Company,
    manager_ids: Iterable[int],
    kpis: Iterable[KPI],
    start: datetime.date,
    end: datetime.date,
) -> dict[tuple[int, int], Sides]:
    """(manager id, KPI id) → the manager's and the source's figure over [start, end], for
    the checked KPIs (`is_checked`) where both have a figure in the period. Each side is the
    period's value by the KPI's own rule over the days that side has."""
    manager_ids = list(manager_ids)
    checked = {kpi.pk: kpi for kpi in kpis if is_checked(kpi)}
    if not checked or not manager_ids:
        return {}
    typed: dict[tuple[int, int], dict[datetime.date, dict[str, Decimal]]] = defaultdict(dict)
    for manager_id, day, kpi_id, value in ReportValue.objects.filter(
        company=company,
        report__manager_id__in=manager_ids,
        report__date__gte=start,
        report__date__lte=end,
        kpi_id__in=list(checked),
    ).values_list("report__manager_id", "report__date", "kpi_id", "value"):
        typed[manager_id, kpi_id][day] = {checked[kpi_id].code: value}
    recorded: dict[tuple[int, int], dict[datetime.date, dict[str, Decimal]]] = defaultdict(dict)
    for manager_id, day, kpi_id, value in _source_rows(
        company, manager_ids, checked.values(), start, end
    ):
        recorded[manager_id, kpi_id][day] = {checked[kpi_id].code: value}
    sides = {}
    for key in typed.keys() & recorded.keys():
        kpi = checked[key[1]]
        sides[key] = Sides(kpi, period_value(kpi, typed[key]), period_value(kpi, recorded[key]))
    return sides


def sides_combined(sides: Iterable[Sides]) -> Sides | None:
    """A team's (or the company's) two figures of a summed KPI: its managers' added up."""
    sides = list(sides)
    if not sides or not sides[0].kpi.is_summed:
        return None
    return Sides(
        sides[0].kpi,
        sum((s.manager_value or Decimal(0) for s in sides), Decimal(0)),
        sum((s.source_value or Decimal(0) for s in sides), Decimal(0)),
    )


def sides_by_group(
    sides: Mapping[tuple[int, int], Sides], groups: Mapping[int, Iterable[int]]
) -> dict[tuple[int, int], Sides]:
    """(group id, KPI id) → the combined sides of each group's managers (`groups`: group id
    → its manager ids)."""
    combined = {}
    kpi_ids = {kpi_id for _manager, kpi_id in sides}
    for group_id, members in groups.items():
        members = set(members)
        for kpi_id in kpi_ids:
            found = sides_combined(s for (m, k), s in sides.items() if k == kpi_id and m in members)
            if found is not None:
                combined[group_id, kpi_id] = found
    return combined
