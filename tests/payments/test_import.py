"""Payments and receivables from 1C's reports through the import pages, linked to clients,
deals and managers, counted by the revenue and receivables KPIs, and set beside the funnel's
expected payments: every figure below is the hand-computed table of this docstring.

Files (tests/payments/files), each imitating a report of 1C:Бухгалтерия 3.0 as an
accountant saves it:
- 1c_bank_statements_list.xlsx — «Банковские выписки» (Банк и касса → Банковские выписки →
  Ещё → Вывести список): November 2026, four incoming payments and one outgoing.
- 1c_osv_62_kontragenty_dogovory.xls — «Оборотно-сальдовая ведомость по счету 62 за Ноябрь
  2026 г.», субконто Контрагенты and Договоры, by subaccount, saved as Excel 97 (.xls).

The CRM: «Ромашка» (deal D-101, 150 000, manager 1, payment expected 15.11),
«Смирнов Андрей Петрович» (D-202, 80 000, manager 2, 25.11), «Берёзка-Опт» (D-303, 40 000,
manager 2, 20.11).

| payment | date  | payer                      | sum     | client, deal          | manager   |
|---------|-------|----------------------------|---------|-----------------------|-----------|
| 101     | 03.11 | ООО «Ромашка»              | 100 000 | Ромашка, D-101 (№)    | 1         |
| 102     | 05.11 | (Списание: not a payment)  |         |                       |           |
| 103     | 10.11 | ИП Смирнов Андрей Петрович | 50 000  | Смирнов, D-202 (only) | 2         |
| 104     | 10.11 | ООО «Ромашка»              | 25 000  | Ромашка, D-101        | 1         |
| 105     | 20.11 | АО "Берёзка"               | 40 000  | nobody; linked: D-303 | — ; 2     |

Revenue by payments, November: manager 1 = 125 000 (03.11: 100 000, 10.11: 25 000);
manager 2 = 50 000, and 90 000 once the admin links «Берёзка» (20.11: 40 000).

Receivables on 30.11 (the closing debit of 62.01; 62.02, advances, left out; «Вектор-М»
has a credit balance, no debt): manager 1 = 250 000 (Ромашка); manager 2 = 120 000
(Смирнов), 140 000 with «Берёзка» (20 000).

Expected in November vs received (today is after the month):
| deal  | expected | received (before → after the link) | left     | state            |
| D-101 | 150 000  | 125 000                            | 25 000   | overdue          |
| D-303 | 40 000   | 0 → 40 000                         | 40 000→0 | overdue → paid   |
| D-202 | 80 000   | 50 000                             | 30 000   | overdue          |
Totals: expected 270 000; received 175 000 → 215 000; all payments of the month 215 000, of
which 40 000 → 0 not against an expected deal. A head sees the payments of their managers:
175 000 before the link (the unlinked one is nobody's).
"""

import datetime
import re
import zoneinfo
from decimal import Decimal
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts import tenancy
from accounts.models import User
from crm_sync import services as crm
from crm_sync.models import ImportJob
from payments import selectors
from payments.models import Balance, Payment
from reports.figures import daily_figures
from reports.models import ImportedFigure
from rollups import services as rollup_services
from rollups.models import Total
from tests.conftest import Cast

FILES = Path(__file__).parent / "files"
MSK = zoneinfo.ZoneInfo("Europe/Moscow")
NOVEMBER = datetime.date(2026, 11, 1)
BALANCE_DAY = datetime.date(2026, 11, 30)
STATEMENTS = "1c_bank_statements_list.xlsx"
OSV = "1c_osv_62_kontragenty_dogovory.xls"


def upload(client, kind: str, name: str) -> ImportJob:
    file = SimpleUploadedFile(name, (FILES / name).read_bytes())
    response = client.post(reverse("import-list"), {"kind": kind, "file": file})
    assert response.status_code == 302, response.content.decode()
    mapping_url = response.headers["Location"]
    assert "/mapping/" in mapping_url
    job_code = mapping_url.split("/")[-3]
    return ImportJob.objects.get(code=job_code)


def start(client, job: ImportJob) -> str:
    form = {f"column_{index}": name for name, index in job.mapping.items()}
    response = client.post(reverse("import-mapping", args=[job.code]), {**form, "action": "start"})
    assert response.status_code == 302
    return client.get(response.headers["Location"]).content.decode()


def imported(client, cast: Cast) -> None:
    client.force_login(cast.head)
    with tenancy.tenant_context(cast.company):
        job = upload(client, "payments", STATEMENTS)
    assert job.mapping == {
        "paid_on": 0, "external_id": 1, "amount": 2, "payer_name": 4, "contract": 5, "purpose": 6,
    }  # fmt: skip
    assert "Готово" in start(client, job)
    with tenancy.tenant_context(cast.company):
        job = upload(client, "balances", OSV)
    # The header of two rows under merged cells, named after both.
    assert job.mapping == {"payer_name": 0, "debit": 6, "credit": 7, "as_of": 8}
    assert "Готово" in start(client, job)


def _by_number(cast: Cast) -> dict[str, Payment]:
    payments = Payment.objects.filter(company=cast.company).select_related("deal", "client")
    return {p.external_id.split("/")[0]: p for p in payments if p.external_id[:1] == "0"}


def _month_sum(cast: Cast, manager: User) -> Decimal:
    total = Total.objects.get(
        company=cast.company, scope="manager", subject_id=manager.pk, kpi__code="deals_sum",
        period="month", start=NOVEMBER,
    )  # fmt: skip
    return total.actual


def _owed(cast: Cast, manager: User) -> Decimal | None:
    figure = ImportedFigure.objects.filter(
        company=cast.company, manager=manager, date=BALANCE_DAY, kpi__code="receivables",
        source="accounting",
    ).first()  # fmt: skip
    return figure.value if figure else None


def test_it_imports_1c_reports_and_counts_them_as_the_table_says(client, crm_november):
    cast = crm_november
    m1, m2 = cast.managers[:2]
    imported(client, cast)
    rollup_services.rollup_run(company_id=cast.company.pk)
    with tenancy.tenant_context(cast.company):
        payments = _by_number(cast)
        assert sorted(payments) == ["00000101", "00000103", "00000104", "00000105"]
        assert payments["00000101"].deal.external_id == "D-101"
        assert payments["00000101"].amount == Decimal("100000.00")
        assert payments["00000103"].deal.external_id == "D-202"
        assert payments["00000105"].client is None and payments["00000105"].manager is None
        assert {(p.manager_id, p.paid_on) for p in payments.values()} >= {
            (m1.pk, datetime.date(2026, 11, 3)), (m2.pk, datetime.date(2026, 11, 10)),
        }  # fmt: skip
        balances = {b.payer_name: b.amount for b in Balance.objects.filter(as_of=BALANCE_DAY)}
        assert balances == {
            "ООО «Ромашка»": Decimal(250000), "ИП Смирнов Андрей Петрович": Decimal(120000),
            'АО "Берёзка"': Decimal(20000), "ООО «Вектор-М»": Decimal(-5000),
        }  # fmt: skip
        assert _month_sum(cast, m1) == Decimal(125000)
        assert _month_sum(cast, m2) == Decimal(50000)
        # The end-of-day form's figures of record: the day's payments, the day's balance.
        days = daily_figures(company=cast.company, manager=m1, start=NOVEMBER, end=BALANCE_DAY)
        assert days[datetime.date(2026, 11, 3)]["deals_sum"] == Decimal(100000)
        assert days[datetime.date(2026, 11, 10)]["deals_sum"] == Decimal(25000)
        assert days[BALANCE_DAY]["receivables"] == Decimal(250000)
        assert _owed(cast, m1) == Decimal(250000)
        assert _owed(cast, m2) == Decimal(120000)

        comparison = selectors.expected_vs_received(
            company=cast.company, actor=cast.admin, month=NOVEMBER, today=cast.company.today()
        )
        table = [(r.deal.external_id, r.expected, r.received, r.left, r.status)
                 for r in comparison.rows]  # fmt: skip
        assert table == [
            ("D-101", 150000, 125000, 25000, "overdue"),
            ("D-303", 40000, 0, 40000, "overdue"),
            ("D-202", 80000, 50000, 30000, "overdue"),
        ]
        assert (comparison.expected, comparison.received, comparison.paid_in_month,
                comparison.other) == (270000, 175000, 215000, 40000)  # fmt: skip
        as_head = selectors.expected_vs_received(
            company=cast.company, actor=cast.head, month=NOVEMBER, today=cast.company.today()
        )
        assert as_head.paid_in_month == 175000

    # The same files again add nothing.
    imported(client, cast)
    with tenancy.tenant_context(cast.company):
        assert Payment.objects.filter(company=cast.company, source="file").count() == 5
        assert Balance.objects.filter(company=cast.company, as_of=BALANCE_DAY).count() == 4


def test_the_admin_links_a_payer_and_the_figures_follow(client, crm_november):
    cast = crm_november
    m2 = cast.managers[1]
    imported(client, cast)
    client.force_login(cast.admin)
    page = client.get(reverse("payment-payers")).content.decode()
    assert "АО &quot;Берёзка&quot;" in page and "ООО «Вектор-М»" in page
    with tenancy.tenant_context(cast.company):
        berezka = crm.client_resolve(company=cast.company, name="Берёзка-Опт")
    response = client.post(
        reverse("payment-payers"), {"inn": "", "name": 'АО "Берёзка"', "client": berezka.pk}
    )
    assert response.status_code == 302
    rollup_services.rollup_run(company_id=cast.company.pk)
    with tenancy.tenant_context(cast.company):
        assert _by_number(cast)["00000105"].deal.external_id == "D-303"
        assert _month_sum(cast, m2) == Decimal(90000)
        assert _owed(cast, m2) == Decimal(140000)
    body = client.get(reverse("payments") + "?month=2026-11").content.decode()
    totals = dict(re.findall(r'<dd data-total="(\w+)">([^<]*)</dd>', body))
    assert totals == {
        "expected": "270\xa0000,00", "received": "215\xa0000,00", "left": "55\xa0000,00",
        "paid": "215\xa0000,00", "other": "0,00",
    }  # fmt: skip
    row = re.search(r'<tr data-deal="D-303">(.*?)</tr>', body, re.S).group(1)
    assert "оплачено" in row
    assert 'АО "Берёзка"' not in client.get(reverse("payment-payers")).content.decode()


def test_only_the_admin_links_payers_and_a_manager_sees_no_payments(client, alpha):
    client.force_login(alpha.head)
    assert client.get(reverse("payments")).status_code == 200
    assert client.get(reverse("payment-payers")).status_code == 403
    assert client.get(reverse("payment-connection")).status_code == 403
    client.force_login(alpha.managers[0])
    assert client.get(reverse("payments")).status_code == 403


def test_a_file_that_is_no_1c_report_is_read_as_a_plain_table(client, alpha):
    client.force_login(alpha.admin)
    content = "Дата;Плательщик;ИНН;Сумма\n01.11.2026;ООО Ромашка;7701234567;1 500,00\n"
    file = SimpleUploadedFile("oplaty.csv", content.encode("cp1251"))
    response = client.post(reverse("import-list"), {"kind": "payments", "file": file})
    assert response.status_code == 302
    with tenancy.tenant_context(alpha.company):
        job = ImportJob.objects.get(file_name="oplaty.csv")
        assert job.mapping == {"paid_on": 0, "payer_name": 1, "payer_inn": 2, "amount": 3}
    start(client, job)
    with tenancy.tenant_context(alpha.company):
        payment = Payment.objects.get(company=alpha.company, payer_inn="7701234567")
        assert payment.amount == Decimal("1500.00")


def test_a_bad_inn_and_a_bad_sum_are_refused_with_the_reason(client, alpha):
    client.force_login(alpha.admin)
    content = "Дата;Плательщик;ИНН;Сумма\n01.11.2026;ООО Ромашка;12345;-10\n"
    file = SimpleUploadedFile("bad.csv", content.encode())
    client.post(reverse("import-list"), {"kind": "payments", "file": file})
    with tenancy.tenant_context(alpha.company):
        job = ImportJob.objects.get(file_name="bad.csv")
    page = start(client, job)
    assert "ИНН «12345» — не 10 и не 12 цифр." in page
    assert "Сумма не может быть отрицательной." in page
