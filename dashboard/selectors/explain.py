"""Every figure explains itself: the reported days it counted and how it was computed."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from accounts.models import Company, User
from kpi.models import KPI
from kpi.periods import Window
from kpi.values import format_number, format_value
from reports.figures import source_counts
from reports.models import DailyReport, ImportedFigure, ReportValue
from rollups.figures import Figure


@dataclass
class Record:
    day: datetime.date
    kpi: KPI
    value: Decimal
    report: DailyReport | None  # None: a day only the source has a figure of
    source: str = ""  # the source whose figure counts, where it is the figure of record

    @property
    def text(self) -> str:
        return format_value(self.value, self.kpi)


def figure_records(*, company: Company, manager: User, kpi: KPI, window: Window) -> list[Record]:
    """The reported days a figure counted: the KPI's own values, or a ratio's two parts."""
    parts = [kpi]
    if kpi.aggregation == KPI.Aggregation.RATIO and kpi.numerator and kpi.denominator:
        parts = [kpi.numerator, kpi.denominator]
    by_id = {p.pk: p for p in parts}
    for part in parts:
        part.company = company
    values = (
        ReportValue.objects.filter(
            company=company, kpi_id__in=list(by_id), report__manager=manager,
            report__date__gte=window.start, report__date__lte=window.end,
        )
        .select_related("report")
        .order_by("report__date", "kpi_id")
    )  # fmt: skip
    records = {
        (v.report.date, v.kpi_id): Record(v.report.date, by_id[v.kpi_id], v.value, v.report)
        for v in values
    }
    # Where the source's figure is the figure of record, it is the day's value, reported or
    # not (reports/figures.py).
    counted = [part for part in parts if source_counts(part)]
    if counted:
        reports = {r.date: r for r in DailyReport.objects.filter(
            company=company, manager=manager, date__gte=window.start, date__lte=window.end
        )}  # fmt: skip
        for figure in ImportedFigure.objects.filter(
            company=company, manager=manager, kpi__in=counted,
            date__gte=window.start, date__lte=window.end,
        ):  # fmt: skip
            part = by_id[figure.kpi_id]
            if figure.source == part.source:
                records[figure.date, part.pk] = Record(
                    figure.date, part, figure.value, reports.get(figure.date), figure.source
                )
    return [records[key] for key in sorted(records)]


def formula_lines(figure: Figure) -> list[str]:
    """How the figure was computed, in words and numbers."""
    kpi = figure.kpi
    lines = []
    if kpi.aggregation == KPI.Aggregation.SUM:
        lines.append(
            _("Факт = сумма за %(days)d дн. с отчётом = %(actual)s")
            % {"days": figure.days_reported, "actual": figure.actual_text}
        )
    elif kpi.aggregation == KPI.Aggregation.AVERAGE:
        lines.append(
            _("Факт = среднее по дням с отчётом: %(sum)s ÷ %(days)d = %(actual)s")
            % {
                "sum": format_value(figure.value_sum, kpi),
                "days": figure.days_reported,
                "actual": figure.actual_text,
            }
        )
    elif kpi.aggregation == KPI.Aggregation.LAST:
        lines.append(
            _("Факт = последнее значение за период = %(actual)s") % {"actual": figure.actual_text}
        )
    else:
        lines.append(
            _("Факт = Σ %(top)s ÷ Σ %(bottom)s = %(s)s ÷ %(n)s = %(actual)s")
            % {
                "top": kpi.numerator.name if kpi.numerator else "",
                "bottom": kpi.denominator.name if kpi.denominator else "",
                "s": _plain(figure.value_sum),
                "n": _plain(figure.value_count),
                "actual": figure.actual_text,
            }
        )
    if figure.plan is not None:
        if kpi.is_summed:
            lines.append(
                _(
                    "План = план месяца, разделённый на рабочие дни менеджера "
                    "(%(days)s в периоде) = %(plan)s"
                )
                % {"days": figure.working_days or "—", "plan": figure.plan_text}
            )
        else:
            lines.append(
                _("План = цель месяца, одна на любой период = %(plan)s")
                % {"plan": figure.plan_text}
            )
    formula = _("план ÷ факт") if kpi.direction == KPI.Direction.LOWER else _("факт ÷ план")
    if not figure.running:
        if figure.completion is not None:
            lines.append(
                _("Выполнение = %(formula)s × 100 = %(value)s %%")
                % {"formula": formula, "value": _one_place(figure.completion)}
            )
    else:
        # The two readings of a running period, named as on every surface (Figure).
        if figure.plan_to_date is not None:
            lines.append(
                _(
                    "План на сегодня = план × %(elapsed)s прошедших рабочих дн. ÷ "
                    "%(working)s рабочих дн. = %(plan)s"
                )
                % {
                    "elapsed": figure.elapsed_days if figure.elapsed_days is not None else "—",
                    "working": figure.working_days or "—",
                    "plan": figure.plan_to_date_text,
                }
                if kpi.is_summed and figure.elapsed_days is not None
                else _("План на сегодня = %(plan)s") % {"plan": figure.plan_to_date_text}
            )
        if figure.done_so_far_completion is not None:
            lines.append(
                _("Выполнено на сегодня = факт против плана на сегодня = %(value)s %%")
                % {"value": _one_place(figure.done_so_far_completion)}
            )
        if figure.forecast is not None:
            if kpi.is_summed and figure.elapsed_days is not None:
                lines.append(
                    _(
                        "Прогноз по темпу = факт ÷ %(elapsed)d прошедших рабочих дн. × "
                        "%(working)d рабочих дн. = %(forecast)s"
                    )
                    % {
                        "elapsed": figure.elapsed_days or 0,
                        "working": figure.working_days or 0,
                        "forecast": figure.forecast_text,
                    }
                )
            elif kpi.is_summed:
                lines.append(
                    _("Прогноз по темпу = сумма прогнозов менеджеров = %(forecast)s")
                    % {"forecast": figure.forecast_text}
                )
            else:
                lines.append(
                    _("Прогноз = нынешнее значение = %(forecast)s")
                    % {"forecast": figure.forecast_text}
                )
        if figure.pace_completion is not None:
            lines.append(
                _("По темпу = прогноз против плана периода = %(value)s %%")
                % {"value": _one_place(figure.pace_completion)}
            )
    # One rule: pace while the period runs, the completion once it is over; the colour is
    # that of the percent shown, so the two never disagree (kpi.bands).
    if figure.shown_completion is not None:
        lines.append(
            _("Цвет — %(basis)s: %(percent)s, %(band)s")
            % {
                "basis": figure.band_basis,
                "percent": figure.percent_text,
                "band": figure.band_label,
            }
        )
    return lines


def _one_place(value: Decimal) -> str:
    return format_number(value, 1)


def _plain(value: Decimal) -> str:
    """A sum as it is, in the reader's language: «206 136,25», «2»."""
    exponent = value.normalize().as_tuple().exponent
    return format_number(value, -exponent if isinstance(exponent, int) and exponent < 0 else 0)
