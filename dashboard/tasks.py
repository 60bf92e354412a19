import datetime

from celery import shared_task
from django.utils import timezone

from accounts import tenancy
from accounts.models import Company
from dashboard import digest
from reports.reminders import companies_due


@shared_task(acks_late=True)
def send_due_digests(now: str | None = None) -> list[int]:
    """Beat runs this every few minutes; each company past its digest time gets a task."""
    moment = datetime.datetime.fromisoformat(now) if now else timezone.now()
    due = companies_due(now=moment, at=digest.DIGEST_TIME)
    for company_id in due:
        send_company_digests.delay(company_id, moment.isoformat())
    return due


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def send_company_digests(company_id: int, now: str) -> list[str]:
    with tenancy.tenant_context(company_id):
        return digest.send_digests(
            company=Company.objects.get(pk=company_id), now=datetime.datetime.fromisoformat(now)
        )
