import datetime

from celery import shared_task

from accounts import tenancy
from accounts.models import Company
from accounts.tasks import company_task, fan_out, moment_of
from dashboard import digest
from reports.reminders import companies_due


@shared_task(acks_late=True)
def send_due_digests(now: str | None = None) -> list[int]:
    """Beat runs this every few minutes; each company past its digest time gets a task."""
    moment = moment_of(now)
    due = companies_due(now=moment, at=digest.DIGEST_TIME)
    return fan_out(send_company_digests, due, moment.isoformat())


@company_task
def send_company_digests(company_id: int, now: str) -> list[str]:
    with tenancy.tenant_context(company_id):
        return digest.send_digests(
            company=Company.objects.get(pk=company_id), now=datetime.datetime.fromisoformat(now)
        )
