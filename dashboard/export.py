"""The team table as an Excel workbook: what the page shows, colours included.

Figures are written as values (what the dashboard computed), never as formulas: the file
opens the same in any spreadsheet and says what the head of sales saw.
"""

from io import BytesIO

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from dashboard.selectors.table import REPORT_STATUSES, TeamTable
from rollups.figures import Figure

FILLS = {
    "red": PatternFill("solid", start_color="F8D7DA"),
    "yellow": PatternFill("solid", start_color="FFF3CD"),
    "green": PatternFill("solid", start_color="D4EDDA"),
}
BOLD = Font(bold=True)


def _number(value):  # type: ignore[no-untyped-def]
    return None if value is None else float(value)


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
        _number(figure.plan_to_date) if figure.running else None,
        _number(figure.pace_reading.percent) if figure.running else None,
    ]


def team_workbook(table: TeamTable) -> bytes:
    reading_header = _reading_header()
    book = Workbook()
    sheet = book.active
    sheet.title = _("Команда")
    sheet.append([_("Дашборд команды"), table.window.label])
    sheet["A1"].font = Font(bold=True, size=14)
    header = [
        _("Роль"), _("Менеджер"), _("Отчёт сегодня"), "KPI", _("Факт"), _("План"),
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
                        _number(figure.actual) if figure else None,
                        _number(figure.plan) if figure else None,
                        _number(figure.reading.percent) if figure else None,
                        figure.band_label if figure else _("нет данных"),
                        *_readings(figure),
                        _number(figure.forecast) if figure else None,
                        (_("да") if figure.at_risk else _("нет")) if figure else None,
                    ]
                )
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
                    _number(figure.actual) if figure else None,
                    _number(figure.plan) if figure else None,
                    _number(figure.reading.percent) if figure else None,
                    *_readings(figure),
                    _number(line.previous.actual) if line.previous else None,
                    _number(line.year_earlier.actual) if line.year_earlier else None,
                    _number(figure.share_meeting_plan) if figure else None,
                    line.advice,
                ]
            )
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
    output = BytesIO()
    book.save(output)
    return output.getvalue()
