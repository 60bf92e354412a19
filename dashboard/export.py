"""The team table as an Excel workbook: what the page shows, colours included.

Figures are written as values (what the dashboard computed), never as formulas: the file
opens the same in any spreadsheet and says what the head of sales saw. Each figure cell has
its KPI's number format: a duration is a time value shown as [h]:mm (sums and averages work
in the spreadsheet), money and counts have thousands separators, percents one decimal.
"""

from io import BytesIO

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from dashboard.selectors.attention import Attention, at_risk_shown
from dashboard.selectors.table import REPORT_STATUSES, TeamTable
from kpi.models import KPI
from rollups.figures import Figure

FILLS = {
    "red": PatternFill("solid", start_color="F8D7DA"),
    "yellow": PatternFill("solid", start_color="FFF3CD"),
    "green": PatternFill("solid", start_color="D4EDDA"),
}
BOLD = Font(bold=True)


def _number(value):  # type: ignore[no-untyped-def]
    return None if value is None else float(value)


SECONDS_A_DAY = 86400
PERCENT_FORMAT = "0.0"
# Excel's own codes: "," is the thousands separator the reader's locale shows as its own.
NUMBER_FORMATS = {
    KPI.Unit.DURATION: "[h]:mm",
    KPI.Unit.MONEY: "#,##0.00",
    KPI.Unit.COUNT: "#,##0",
    KPI.Unit.PERCENT: "0.00",
    KPI.Unit.NUMBER: "#,##0.00",
}


def _value(value, kpi: KPI):  # type: ignore[no-untyped-def]
    """A figure as the spreadsheet stores it: a duration (seconds) as a fraction of a day."""
    if value is None:
        return None
    return float(value) / SECONDS_A_DAY if kpi.unit == KPI.Unit.DURATION else float(value)


def _formats(  # type: ignore[no-untyped-def]
    sheet, row: int, kpi: KPI, value_columns: tuple[int, ...], percent_columns: tuple[int, ...]
) -> None:
    for column in value_columns:
        cell = sheet.cell(row, column)
        number_format = NUMBER_FORMATS.get(kpi.unit, "General")
        # A count's plan may be a share of a month's (1,18 a day): its decimals stay.
        if (
            kpi.unit == KPI.Unit.COUNT
            and isinstance(cell.value, float)
            and not cell.value.is_integer()
        ):
            number_format = "#,##0.00"
        cell.number_format = number_format
    for column in percent_columns:
        sheet.cell(row, column).number_format = PERCENT_FORMAT


def _reading_header() -> list[str]:
    return [_("Цвет по"), _("Выполнено на сегодня, %"), _("План на сегодня"), _("По темпу, %")]


def _readings(figure: Figure | None) -> list:  # type: ignore[type-arg]
    """Which reading colours the light and both readings of a running period (Figure): done
    so far against the plan to date, and the pace; a finished period's done is its
    completion and it has no pace."""
    if figure is None:
        return [None, None, None, None]
    return [
        figure.band_basis,
        _number(figure.done_reading.percent),
        _value(figure.plan_to_date, figure.kpi) if figure.running else None,
        _number(figure.pace_reading.percent) if figure.running else None,
    ]


def team_workbook(
    table: TeamTable, *, attention: list[Attention] | None = None, attention_title: str = ""
) -> bytes:
    reading_header = _reading_header()
    book = Workbook()
    sheet = book.active
    sheet.title = _("Команда")
    sheet.append([_("Дашборд команды"), table.window.label])
    sheet["A1"].font = Font(bold=True, size=14)
    header = [
        _("Роль"), _("Менеджер"), table.report_label, "KPI", _("Факт"), _("План"),
        _("Выполнение, %"), _("Цвет"), *reading_header, _("Прогноз"), _("Под угрозой"),
    ]  # fmt: skip
    sheet.append([])
    sheet.append(header)
    for cell in sheet[3]:
        cell.font = BOLD
    for group in table.groups:
        for row in group.rows:
            for kpi, cell in zip(group.kpis, row.cells, strict=True):
                figure = cell.figure
                sheet.append(
                    [
                        str(group.role or _("без роли")),
                        str(row.manager),
                        str(REPORT_STATUSES.get(row.status, row.status)),
                        kpi.name,
                        _value(figure.actual, kpi) if figure else None,
                        _value(figure.plan, kpi) if figure else None,
                        _number(figure.reading.percent) if figure else None,
                        figure.band_label if figure else _("нет данных"),
                        *_readings(figure),
                        _value(figure.forecast, kpi) if figure else None,
                        (_("да") if at_risk_shown(figure) else _("нет")) if figure else None,
                    ]
                )
                _formats(sheet, sheet.max_row, kpi, (5, 6, 11, 13), (7, 10, 12))
                if figure and figure.shown_band in FILLS:
                    for column in (7, 8):
                        sheet.cell(sheet.max_row, column).fill = FILLS[figure.shown_band]
    for summary in table.summaries:
        sheet.append([])
        sheet.append([summary.name])
        sheet.cell(sheet.max_row, 1).font = BOLD
        sheet.append(
            ["KPI", _("Факт"), _("План"), _("Выполнение, %"), *reading_header,
             _("Прошлый период"), _("Год назад"), _("Выполняют план, %"), _("Вывод")]
        )  # fmt: skip
        for line in summary.lines:
            figure = line.figure
            sheet.append(
                [
                    line.kpi.name,
                    _value(figure.actual, line.kpi) if figure else None,
                    _value(figure.plan, line.kpi) if figure else None,
                    _number(figure.reading.percent) if figure else None,
                    *_readings(figure),
                    _value(line.previous.actual, line.kpi) if line.previous else None,
                    _value(line.year_earlier.actual, line.kpi) if line.year_earlier else None,
                    _number(figure.share_meeting_plan) if figure else None,
                    line.advice,
                ]
            )
            _formats(sheet, sheet.max_row, line.kpi, (2, 3, 7, 9, 10), (4, 6, 8, 11))
            if figure and figure.shown_band in FILLS:
                sheet.cell(sheet.max_row, 4).fill = FILLS[figure.shown_band]
    for index, width in enumerate((14, 26, 18, 28, 12, 12, 14, 12, 14, 14, 12, 12, 12, 12), 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row in sheet.iter_rows(min_row=4):
        for cell in row:
            cell.alignment = Alignment(vertical="top")
            # Nothing here is a formula: a name typed as "=HYPERLINK(…)" stays text, so that
            # opening the file runs nothing (CSV/formula injection).
            if cell.data_type == "f":
                cell.data_type = "s"
    sheet.freeze_panes = "C4"
    if attention is not None:
        # The list on screen, as of the same day (a past period's: its own).
        talks = book.create_sheet(_("Нужен разговор"))
        talks.append([attention_title or _("Нужен разговор сегодня"), table.window.label])
        talks["A1"].font = Font(bold=True, size=14)
        talks.append([])
        talks.append([_("Менеджер"), _("Роль"), _("Почему")])
        for cell in talks[3]:
            cell.font = BOLD
        for item in attention:
            talks.append(
                [str(item.manager), str(item.manager.sales_role or ""), "; ".join(item.reasons)]
            )
        for letter, width in (("A", 26), ("B", 14), ("C", 120)):
            talks.column_dimensions[letter].width = width
        for row in talks.iter_rows(min_row=4):
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    output = BytesIO()
    book.save(output)
    return output.getvalue()
