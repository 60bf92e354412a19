"""The file import service: reading, mapping, checks, idempotence and where a failure stops."""

import datetime
import io
import zoneinfo
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import tenancy
from crm_sync import import_tasks, imports
from crm_sync.models import Call, Deal, ImportJob, Source
from reports.models import ImportedFigure

FILES = Path(__file__).parent / "files"
MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")


def upload(cast, name: str, content: bytes, kind: str = "deals") -> ImportJob:
    return imports.import_job_create(
        company=cast.company,
        created_by=cast.admin,
        kind=kind,
        file=SimpleUploadedFile(name, content),
    )


def run(cast, job: ImportJob) -> ImportJob:
    headers = imports.job_table(job).headers
    return imports.import_start(job=job, mapping=job.mapping, headers=headers, language="ru")


def xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def file_deals(cast, name: str = "deals.csv", content: bytes | None = None) -> ImportJob:
    return run(cast, upload(cast, name, content or (FILES / "deals.csv").read_bytes()))


def test_it_guesses_the_columns_from_russian_and_english_headers():
    headers = ["Номер сделки", "Сумма, руб.", "Этап", "Дата создания", "Дата закрытия", "Manager"]
    assert imports.mapping_guess(kind="deals", headers=headers) == {
        "external_id": 0,
        "amount": 1,
        "stage": 2,
        "created_at": 3,
        "closed_at": 4,
        "manager": 5,
    }
    calls = ["Call ID", "Direction", "Start", "Duration", "Phone"]
    assert imports.mapping_guess(kind="calls", headers=calls) == {
        "external_id": 0,
        "direction": 1,
        "started_at": 2,
        "duration": 3,
        "phone": 4,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24.11.2026", datetime.datetime(2026, 11, 24, tzinfo=MOSCOW)),
        ("24.11.2026 15:30", datetime.datetime(2026, 11, 24, 15, 30, tzinfo=MOSCOW)),
        ("2026-11-24T15:30:00", datetime.datetime(2026, 11, 24, 15, 30, tzinfo=MOSCOW)),
        (datetime.datetime(2026, 11, 24, 9, 0), datetime.datetime(2026, 11, 24, 9, tzinfo=MOSCOW)),
        (datetime.date(2026, 11, 24), datetime.datetime(2026, 11, 24, tzinfo=MOSCOW)),
    ],
)
def test_it_reads_dates_as_people_and_excel_write_them(text, expected):
    assert imports.parse_moment(text, MOSCOW) == expected


@pytest.mark.parametrize("text", ["31.02.2026", "вчера", "24/13/2026", "01.01.1900"])
def test_it_refuses_a_bad_date_in_russian(text):
    with pytest.raises(ValidationError, match="Не понимаю дату"):
        imports.parse_moment(text, MOSCOW)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("75", 75), ("1:15", 75), ("1:01:15", 3675), (42.0, 42), (datetime.time(0, 1, 5), 65)],
)
def test_it_reads_a_call_duration(text, seconds):
    assert imports.parse_seconds(text) == seconds


def test_it_reads_amounts_with_spaces_and_commas():
    assert imports.parse_amount("1 200 000,50") == Decimal("1200000.50")
    assert imports.parse_amount("1200000.50") == Decimal("1200000.50")
    assert imports.parse_amount(1500) == Decimal(1500)
    with pytest.raises(ValidationError, match="не может быть отрицательной"):
        imports.parse_amount("-5")


def test_bad_rows_are_reported_with_their_numbers_and_the_rest_imported(alpha):
    with tenancy.tenant_context(alpha.company):
        job = file_deals(alpha)
        assert job.status == ImportJob.Status.DONE
        assert (job.total_rows, job.processed_rows, job.created_count) == (6, 6, 3)
        by_row = {error["row"]: error for error in job.errors}
        assert sorted(by_row) == [5, 6, 7]
        assert "Не понимаю дату «31.02.2026»" in by_row[5]["message"]
        assert by_row[5]["column"] == "Дата создания"
        assert "Менеджер «beta.manager1» не найден" in by_row[6]["message"]
        assert by_row[6]["column"] == "Ответственный"
        assert by_row[7]["message"] == "Сумма не может быть отрицательной."
        deals = {d.external_id: d for d in Deal.objects.filter(source=Source.FILE)}
        assert {"D-1", "D-2", "D-3"} <= set(deals)
        assert not {"D-4", "D-5", "D-6"} & set(deals)
        won = deals["D-1"]
        assert won.amount == Decimal("1200000.50")
        assert won.status == Deal.Status.WON
        assert won.manager == alpha.managers[0]
        assert won.client.phone == "79001112233"
        assert won.closed_at == datetime.datetime(2026, 11, 5, tzinfo=MOSCOW)
        assert deals["D-2"].is_repeat and deals["D-2"].expected_payment_on == datetime.date(
            2026, 12, 15
        )
        assert deals["D-3"].status == Deal.Status.LOST and deals["D-3"].loss_reason == "Дорого"
        # D-1 and D-3 have one client: the phone says so.
        assert deals["D-1"].client_id == deals["D-3"].client_id


def test_the_same_file_twice_adds_nothing(alpha):
    with tenancy.tenant_context(alpha.company):
        file_deals(alpha)
        counts = Deal.objects.count(), Deal.objects.values("client").distinct().count()
        again = file_deals(alpha)
        assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)
        assert (Deal.objects.count(), Deal.objects.values("client").distinct().count()) == counts


def test_a_changed_row_updates_its_deal(alpha):
    original = (FILES / "deals.csv").read_bytes().decode()
    changed = original.replace("350000.00;Переговоры и договор", "400000;Успешно реализовано")
    with tenancy.tenant_context(alpha.company):
        file_deals(alpha)
        job = file_deals(alpha, content=changed.encode())
        assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 1, 2)
        deal = Deal.objects.get(source=Source.FILE, external_id="D-2")
        assert (deal.amount, deal.status) == (Decimal(400000), Deal.Status.WON)


def test_calls_are_imported_and_answered_follows_the_duration(alpha):
    with tenancy.tenant_context(alpha.company):
        job = run(alpha, upload(alpha, "calls.csv", (FILES / "calls.csv").read_bytes(), "calls"))
        assert (job.created_count, job.processed_rows) == (3, 4)
        (error,) = job.errors
        assert error["row"] == 5 and error["column"] == "Тип звонка"
        assert "Направление «сбоку» непонятно" in error["message"]
        calls = {c.external_id: c for c in Call.objects.filter(source=Source.FILE)}
        assert (calls["C-1"].direction, calls["C-1"].duration, calls["C-1"].answered) == (
            "out",
            75,
            True,
        )
        assert (calls["C-2"].direction, calls["C-2"].answered) == ("in", False)
        assert calls["C-3"].phone == "79002223344"
        assert calls["C-3"].started_at == datetime.datetime(2026, 11, 24, 12, tzinfo=MOSCOW)
        # The imported calls prefill the managers' reports of that day, once per chunk.
        figures = {
            (f.manager.username, f.kpi.code): f.value
            for f in ImportedFigure.objects.filter(date=datetime.date(2026, 11, 24))
        }
        assert figures["alpha.manager1", "calls"] == 1
        assert figures["alpha.manager1", "incoming_calls"] == 1
        assert figures["alpha.manager1", "talk_time"] == 75
        assert figures["alpha.manager2", "calls"] == 1
        assert figures["alpha.manager2", "talk_time"] == 42


def test_an_excel_file_with_real_date_cells_is_imported(alpha):
    content = xlsx(
        [
            ["ID", "Менеджер", "Сумма", "Этап", "Дата создания", "Повторная"],
            ["X-1", alpha.managers[1].get_full_name(), 1500.5, "новая заявка",
             datetime.datetime(2026, 11, 20, 9, 15), 1],
            [None, None, None, None, None, None],
            ["X-2", alpha.managers[0].email, 10, "Квалификация", "21.11.2026", "нет"],
        ]
    )  # fmt: skip
    with tenancy.tenant_context(alpha.company):
        job = run(alpha, upload(alpha, "сделки.xlsx", content))
        assert job.errors == []
        assert (job.total_rows, job.created_count) == (2, 2)
        first = Deal.objects.get(source=Source.FILE, external_id="X-1")
        assert first.manager == alpha.managers[1] and first.is_repeat
        assert first.created_at == datetime.datetime(2026, 11, 20, 9, 15, tzinfo=MOSCOW)
        assert first.amount == Decimal("1500.50")
        assert Deal.objects.get(source=Source.FILE, external_id="X-2").manager == alpha.managers[0]


def test_without_an_id_column_the_key_comes_from_the_row(alpha):
    content = "Этап;Дата создания;Сумма\nНовая заявка;01.11.2026;100\nНовая заявка;02.11.2026;200\n"
    with tenancy.tenant_context(alpha.company):
        first = file_deals(alpha, content=content.encode())
        second = file_deals(alpha, content=content.encode())
        assert (first.created_count, second.unchanged_count, second.created_count) == (2, 2, 0)
        keys = Deal.objects.filter(source=Source.FILE, external_id__startswith="h")
        assert keys.count() == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("deals.pdf", b"%PDF-1.4", "не поддерживаются"),
        ("deals.xlsx", b"not a zip", "Не удалось прочитать файл Excel"),
        ("deals.csv", b"", "Файл пуст"),
        ("deals.csv", "Этап;Дата\n".encode(), "нет ни одной строки"),
    ],
)
def test_an_unusable_file_is_refused_with_the_reason(alpha, name, content, message):
    with tenancy.tenant_context(alpha.company), pytest.raises(ValidationError) as refusal:
        upload(alpha, name, content)
    assert message in refusal.value.message_dict["file"][0]


def test_a_file_over_10_mb_is_refused(alpha):
    big = SimpleUploadedFile("deals.csv", b"x" * (imports.MAX_FILE_BYTES + 1))
    with tenancy.tenant_context(alpha.company), pytest.raises(ValidationError, match="10 МБ"):
        imports.import_job_create(
            company=alpha.company, created_by=alpha.admin, kind="deals", file=big
        )


def test_the_mapping_needs_the_required_fields(alpha):
    with tenancy.tenant_context(alpha.company):
        job = upload(alpha, "deals.csv", (FILES / "deals.csv").read_bytes())
        headers = imports.job_table(job).headers
        with pytest.raises(ValidationError, match="Этап, Дата создания"):
            imports.mapping_save(job=job, mapping={"external_id": 0}, headers=headers)


def _numbered_deals(count: int) -> bytes:
    lines = ["Номер;Этап;Дата создания;Сумма"]
    lines += [f"N-{i};Новая заявка;01.11.2026;{i * 100}" for i in range(1, count + 1)]
    return "\n".join(lines).encode()


@pytest.mark.django_db(transaction=True)
def test_a_failure_mid_file_keeps_the_rows_before_it_and_says_where(monkeypatch):
    from tests.conftest import make_cast

    cast = make_cast("imp", "Импортная")
    monkeypatch.setattr(imports, "CHUNK_ROWS", 10)
    real_upsert = imports.deal_upsert

    def upsert(*, company, source, data):
        if data.external_id == "N-17":
            raise RuntimeError("the database went away")
        return real_upsert(company=company, source=source, data=data)

    monkeypatch.setattr(imports, "deal_upsert", upsert)
    with tenancy.tenant_context(cast.company):
        job = upload(cast, "big.csv", _numbered_deals(25))
        imports.mapping_save(job=job, mapping=job.mapping, headers=imports.job_table(job).headers)
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    # The task as the worker runs it: its own transactions, chunk by chunk.
    result = import_tasks.import_job_run(cast.company.pk, job.pk, "ru")
    assert result == {"status": "failed", "processed_rows": 16}
    with tenancy.tenant_context(cast.company):
        job.refresh_from_db()
        assert job.status == ImportJob.Status.FAILED
        # N-17 is data row 17, the file's row 18 (after the header).
        assert "остановлен на строке 18" in job.message
        assert job.created_count == 16
        numbered = Deal.objects.filter(source=Source.FILE, external_id__startswith="N-")
        imported = set(numbered.values_list("external_id", flat=True))
        assert imported == {f"N-{i}" for i in range(1, 17)}

    monkeypatch.setattr(imports, "deal_upsert", real_upsert)
    with tenancy.tenant_context(cast.company):
        job = imports.import_resume(job=job, language="ru")
        assert job.status == ImportJob.Status.DONE
        assert (job.processed_rows, job.created_count, job.message) == (25, 25, "")
        assert Deal.objects.filter(external_id__startswith="N-").count() == 25


def test_without_a_broker_a_big_file_runs_eagerly_after_the_commit(
    alpha, monkeypatch, django_capture_on_commit_callbacks
):
    """The embedded profile (no REDIS_URL) runs tasks eagerly: the queued path still works."""
    from salesdesk.celery import app

    monkeypatch.setattr(imports, "INLINE_ROWS", 2)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with tenancy.tenant_context(alpha.company):
            job = upload(alpha, "deals.csv", (FILES / "deals.csv").read_bytes())
            with django_capture_on_commit_callbacks(execute=True):
                queued = run(alpha, job)
                assert queued.status == ImportJob.Status.QUEUED
            job.refresh_from_db()
            assert (job.status, job.processed_rows, job.created_count) == ("done", 6, 3)
    finally:
        app.conf.task_always_eager = eager


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1e30", "не число"),
        (1e30, "не больше"),
        ("1 000 000 000 000,01", "не больше"),
        ("1500,555", "знаков после запятой"),
        (float("nan"), "не сумма"),
        ("x" * 5000, "слишком длинное"),
    ],
)
def test_an_amount_beyond_the_bounds_of_money_is_refused(value, message):
    with pytest.raises(ValidationError, match=message) as refusal:
        imports.parse_amount(value)
    assert len(refusal.value.messages[0]) < 200


@pytest.mark.parametrize("value", ["25:00:00", "86401", 1e30, "9" * 400, "9" * 5000 + ":00"])
def test_a_call_longer_than_a_day_is_refused(value):
    with pytest.raises(ValidationError) as refusal:
        imports.parse_seconds(value)
    assert len(refusal.value.messages[0]) < 200


def test_a_long_cell_is_not_echoed_whole():
    with pytest.raises(ValidationError) as refusal:
        imports.parse_direction("в" * 5000)
    assert "в" * 31 not in refusal.value.messages[0]
