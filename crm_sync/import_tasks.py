from celery import shared_task
from django.utils import translation

from crm_sync import imports


@shared_task(acks_late=True)
def import_job_run(company_id: int, job_id: int, language: str = "ru") -> dict[str, int | str]:
    """A big file's import, in the uploader's language (its row errors are stored as text).

    The service opens the company's context itself, a transaction per chunk of rows.
    """
    with translation.override(language):
        job = imports.import_run(company_id=company_id, job_id=job_id)
    return {"status": job.status, "processed_rows": job.processed_rows}
