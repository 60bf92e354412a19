"""The layouts of 1C's reports (payments/onec.py): the header below the title, two-row
headers under merged cells, the rows that are not a counterparty's, the period's end."""

import datetime

import pytest

from payments.onec import period_end, report_table

ALIASES = {"счет", "дата", "сумма", "контрагент", "дебет", "кредит"}


@pytest.mark.parametrize(
    ("title", "end"),
    [
        ("Оборотно-сальдовая ведомость по счету 62 за 01.10.2026 - 31.12.2026",
         datetime.date(2026, 12, 31)),
        ("Оборотно-сальдовая ведомость по счету 62 за Май 2026 г.", datetime.date(2026, 5, 31)),
        ("Оборотно-сальдовая ведомость по счету 62 за Февраль 2028 г.",
         datetime.date(2028, 2, 29)),
        ("Оборотно-сальдовая ведомость по счету 62 за 3 квартал 2026 г.",
         datetime.date(2026, 9, 30)),
        ("Оборотно-сальдовая ведомость по счету 62 за 2026 г.", datetime.date(2026, 12, 31)),
        ("Оборотно-сальдовая ведомость по счету 62", None),
    ],
)  # fmt: skip
def test_it_reads_the_periods_end_from_the_title(title, end):
    assert period_end([["ООО «Альфа»"], [title]]) == end


def test_it_keeps_counterparties_and_leaves_accounts_contracts_documents_and_totals():
    rows = [
        ["Оборотно-сальдовая ведомость по счету 62 за Ноябрь 2026 г."],
        ["Счет", "Сальдо на конец периода", None],
        [None, "Дебет", "Кредит"],
        ["Контрагенты", None, None],
        ["62", 300, None],
        ["Альфа", 200, None],
        ["Договор № 1 от 01.01.2026", 200, None],
        ["Реализация (акт, накладная) 0000-000012 от 01.02.2026", 200, None],
        ["Бета", 100, None],
        ["Основной договор", 100, None],
        ["62.02", None, 50],
        ["Альфа", None, 50],
        ["Итого", 300, 50],
    ]
    number, names, data = report_table(kind="balances", rows=rows, aliases=ALIASES)
    assert number == 2
    assert names == ["Счет", "Сальдо на конец периода Дебет", "Сальдо на конец периода Кредит",
                     "Дата сальдо"]  # fmt: skip
    end = datetime.date(2026, 11, 30)
    assert data == [(6, ["Альфа", 200, None, end]), (9, ["Бета", 100, None, end])]


def test_a_statement_list_keeps_the_incoming_payments_only():
    rows = [
        ["Дата", "Номер", "Поступление", "Списание", "Контрагент"],
        ["01.11.2026", "1", "100,00", None, "Альфа"],
        ["02.11.2026", "2", None, "50,00", "Поставщик"],
        ["Итого", None, "100,00", "50,00", None],
    ]
    _number, _names, data = report_table(kind="payments", rows=rows, aliases=ALIASES)
    assert data == [(2, ["01.11.2026", "1", "100,00", None, "Альфа"])]


def test_a_table_without_known_headers_is_left_to_the_plain_reader():
    assert report_table(kind="payments", rows=[["a", "b"], [1, 2]], aliases=ALIASES) is None
