"""A month's ABC/XYZ classification as an Excel workbook: one sheet, values only."""

import datetime
from io import BytesIO

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from clients.selectors import ClientRow


def classification_workbook(month: datetime.date, rows: list[ClientRow]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = f"ABC-XYZ {month:%Y-%m}"
    sheet.append(
        [
            _("Клиент"), _("Менеджер"), "ABC", "XYZ", _("Класс"), _("Выручка за окно"),
            _("Коэффициент вариации, %"), _("Класс в прошлом месяце"),
        ]
    )  # fmt: skip
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        entry = row.entry
        sheet.append(
            [
                entry.client.name, str(entry.manager) if entry.manager else "",
                entry.abc, entry.xyz, entry.cell, float(entry.revenue), float(entry.cv),
                row.last_class or "",
            ]
        )  # fmt: skip
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            # A client named "=HYPERLINK(…)" in the CRM stays text: opening the file runs
            # nothing (formula injection).
            if cell.data_type == "f":
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCDEFGH", (40, 28, 6, 6, 8, 18, 14, 14), strict=True):
        sheet.column_dimensions[column].width = width
    out = BytesIO()
    book.save(out)
    return out.getvalue()
