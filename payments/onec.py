"""The layouts of 1C's reports, read into a header row and data rows for the import.

An accountant saves a report of 1C:Бухгалтерия (or УТ, КА) as it stands on the screen:
a title block (the organisation, «Оборотно-сальдовая ведомость по счету 62 за …», the
filters), then the table's header, sometimes on two rows under merged cells («Сальдо на
конец периода» over «Дебет» and «Кредит»), then the rows, then «Итого». `report_table` finds
the header below the title, names each column after the cells above it, and keeps the rows
the import is about:

- payments (a list of «Поступление на расчётный счёт», a bank statement): the incoming
  ones (a list of bank statements holds both «Поступление» and «Списание»);
- receivables (the turnover sheet of account 62 with субконто «Контрагенты», «Договоры»):
  one row per counterparty. The account rows (62, 62.01), the contracts and settlement
  documents printed under a counterparty and the totals are left out: their sums are the
  counterparty's again; so are the rows under 62.02, advances received, which are no
  debt. A column «Дата сальдо» is added with the end of the report's period, read from its
  title.

Everything here is pure: cells in, cells out.
"""

import datetime
import re
from collections.abc import Sequence

Cell = object

PERIOD_END_COLUMN = "Дата сальдо"

_MONTHS = {
    "январ": 1, "феврал": 2, "март": 3, "апрел": 4, "май": 5, "мая": 5, "июн": 6, "июл": 7,
    "август": 8, "сентябр": 9, "октябр": 10, "ноябр": 11, "декабр": 12,
}  # fmt: skip


def _text(value: Cell) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _key(text: str) -> str:
    text = text.lower().replace("ё", "е")
    return " ".join(re.sub(r"[^\w№]+", " ", text).split())


def _filled(cells: Sequence[Cell]) -> int:
    return sum(1 for cell in cells if _text(cell))


def _header_index(rows: list[list[Cell]], aliases: set[str]) -> int | None:
    """The first row with two or more cells named like the kind's fields."""
    for index, cells in enumerate(rows[:60]):
        if sum(1 for cell in cells if _key(_text(cell)) in aliases) >= 2:
            return index
    return None


def _is_subheader(cells: Sequence[Cell]) -> bool:
    words = {_key(_text(cell)) for cell in cells if _text(cell)}
    return bool(words) and words <= {"дебет", "кредит", "дт", "кт", "сумма", "количество"}


def _names(parent: Sequence[Cell], child: Sequence[Cell] | None) -> list[str]:
    """Each column's name: the merged cell above it (it stands in its first column only)
    followed by its own sub-header."""
    names, above = [], ""
    width = max(len(parent), len(child or ()))
    for index in range(width):
        top = _text(parent[index]) if index < len(parent) else ""
        below = _text(child[index]) if child and index < len(child) else ""
        if top:
            above = top
        elif not below:
            above = ""
        names.append(f"{above} {below}".strip() if below else top)
    return names


def period_end(title: list[list[Cell]]) -> datetime.date | None:
    """The last day of the report's period, from its title: «за 01.01.2026 - 31.03.2026»,
    «за Март 2026 г.», «за 1 квартал 2026 г.», «за 2026 г.»."""
    text = " ".join(_text(cell) for cells in title for cell in cells).lower()
    dates = re.findall(r"(\d{2})\.(\d{2})\.(\d{4})", text)
    if dates:
        day, month, year = dates[-1]
        return datetime.date(int(year), int(month), int(day))
    found = re.search(r"за\s+([а-я]+)\s+(\d{4})", text)
    if found:
        for stem, month in _MONTHS.items():
            if found.group(1).startswith(stem):
                return _month_end(int(found.group(2)), month)
    found = re.search(r"за\s+(\d)\s+квартал\s+(\d{4})", text)
    if found:
        return _month_end(int(found.group(2)), int(found.group(1)) * 3)
    found = re.search(r"за\s+(\d)\s+полугодие\s+(\d{4})", text)
    if found:
        return _month_end(int(found.group(2)), int(found.group(1)) * 6)
    found = re.search(r"за\s+(\d{4})\s+г", text)
    if found:
        return datetime.date(int(found.group(1)), 12, 31)
    return None


def _month_end(year: int, month: int) -> datetime.date:
    first_next = datetime.date(year + month // 12, month % 12 + 1, 1)
    return first_next - datetime.timedelta(days=1)


_ACCOUNT = re.compile(r"^\d{2}(\.\d{1,2})*$")
# A contract or a settlement document under a counterparty: «Договор № 12 от 10.01.2026»,
# «Основной договор», «Без договора», «Реализация (акт, накладная) 0000-000012 от 01.02.2026».
_UNDER_COUNTERPARTY = re.compile(
    r"^(договор|дог\.|основной договор|без договора|№)|\sот\s\d{1,2}\.\d{2}\.\d{2,4}", re.I
)
_ADVANCES = {"62.02", "62.АВ"}
_TOTAL = re.compile(r"^(итого|всего)", re.I)


def report_table(
    *, kind: str, rows: list[list[Cell]], aliases: set[str]
) -> tuple[int, list[str], list[tuple[int, list[Cell]]]] | None:
    """(the header's row number, the column names, the numbered data rows) of a 1C report,
    or None when no row below the title names two of the kind's columns."""
    index = _header_index(rows, aliases)
    if index is None:
        return None
    if index and _is_subheader(rows[index]) and _filled(rows[index - 1]):
        index -= 1  # «Дебет», «Кредит» under the merged cells of the header above them
    child = rows[index + 1] if index + 1 < len(rows) and _is_subheader(rows[index + 1]) else None
    names = _names(rows[index], child)
    first_data = index + (2 if child else 1)
    numbered = [
        (number, list(cells))
        for number, cells in enumerate(rows[first_data:], start=first_data + 1)
        if _filled(cells)
    ]
    if kind == "payments":
        return index + 1, names, _incoming(names, numbered)
    end = period_end(rows[:index])
    kept = _counterparties(numbered)
    names.append(PERIOD_END_COLUMN)
    return index + 1, names, [(n, [*cells[: len(names) - 1], end]) for n, cells in kept]


def _incoming(names: list[str], numbered: list[tuple[int, list[Cell]]]) -> list:
    keys = [_key(name) for name in names]
    rows = [(n, cells) for n, cells in numbered if not _TOTAL.match(_text(cells[0]))]
    if "поступление" in keys and "списание" in keys:
        column = keys.index("поступление")
        rows = [(n, cells) for n, cells in rows if column < len(cells) and _text(cells[column])]
    return rows


def _counterparties(numbered: list[tuple[int, list[Cell]]]) -> list:
    kept, account = [], ""
    for number, cells in numbered:
        label = _text(cells[0])
        if _ACCOUNT.match(label):
            account = label
            continue
        if not label or _TOTAL.match(label) or _UNDER_COUNTERPARTY.search(label):
            continue
        # Advances received (62.02) are the client's money we hold, not a debt: the same
        # counterparty's row under 62.01 is what it owes.
        if account in _ADVANCES:
            continue
        # «Контрагенты», «Договоры» printed under «Счет» in the header block: no figures.
        if _filled(cells[1:]) == 0:
            continue
        kept.append((number, cells))
    return kept
