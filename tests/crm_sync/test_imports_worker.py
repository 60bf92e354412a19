"""A big file goes to the real Celery worker; its page follows the progress to the end."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts import tenancy
from crm_sync import imports
from crm_sync.models import Call, ImportJob, Source
from tests.conftest import make_cast

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

ROWS = imports.INLINE_ROWS + 60


def calls_file(rows: int) -> bytes:
    lines = ["ID звонка;Менеджер;Направление;Начало;Длительность;Телефон"]
    lines += [
        f"W-{i};imp.manager1;исходящий;24.11.2026 {9 + i // 60:02d}:{i % 60:02d};{i % 90};"
        f"+7 900 {i:03d}-00-00"
        for i in range(rows)
    ]
    return "\n".join(lines).encode()


def test_a_big_file_runs_on_the_worker_and_the_bar_reaches_the_total(client, celery_worker):
    cast = make_cast("imp", "Импортная")
    client.force_login(cast.head)
    upload = SimpleUploadedFile("calls.csv", calls_file(ROWS))
    response = client.post(reverse("import-list"), {"kind": "calls", "file": upload})
    job_url = response.headers["Location"].removesuffix("mapping/")
    with tenancy.tenant_context(cast.company):
        job = ImportJob.objects.get(file_name="calls.csv")
    form = {f"column_{index}": name for name, index in job.mapping.items()}
    started = client.post(reverse("import-mapping", args=[job.code]), {**form, "action": "start"})
    assert started.headers["Location"] == job_url
    with tenancy.tenant_context(cast.company):
        job.refresh_from_db()
        assert job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)

    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        partial = client.get(job_url, headers={"HX-Request": "true"}).content.decode()
        seen.append(partial)
        if 'hx-trigger="every 1s"' not in partial:
            break
        time.sleep(0.5)
    assert 'hx-trigger="every 1s"' in seen[0]
    assert f'<progress max="{ROWS}" value="{ROWS}"' in seen[-1]
    assert "Готово" in seen[-1]
    with tenancy.tenant_context(cast.company):
        job.refresh_from_db()
        assert (job.status, job.processed_rows, job.created_count) == ("done", ROWS, ROWS)
        assert Call.objects.filter(source=Source.FILE).count() == ROWS
        # Answered is derived from the duration when the file has no such column.
        assert Call.objects.filter(source=Source.FILE, answered=False).count() == len(
            range(0, ROWS, 90)
        )

    # The same file again, through the worker too: nothing new.
    again = client.post(
        reverse("import-list"),
        {"kind": "calls", "file": SimpleUploadedFile("again.csv", calls_file(ROWS))},
    )
    code = again.headers["Location"].split("/")[-3]
    client.post(reverse("import-mapping", args=[code]), {**form, "action": "start"})
    deadline = time.monotonic() + 120
    with tenancy.tenant_context(cast.company):
        while time.monotonic() < deadline:
            second = ImportJob.objects.get(code=code)
            if second.status == ImportJob.Status.DONE:
                break
            time.sleep(0.5)
    assert (second.created_count, second.unchanged_count) == (0, ROWS)
    with tenancy.tenant_context(cast.company):
        assert Call.objects.filter(source=Source.FILE).count() == ROWS
