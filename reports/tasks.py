import datetime

from celery import Task, shared_task

from accounts import tenancy
from accounts.models import Company
from accounts.tasks import company_task, fan_out, moment_of
from reports import reminders


@shared_task(acks_late=True)
def send_due_reminders(now: str | None = None) -> list[int]:
    """Beat runs this every few minutes; each company whose time has come gets its own task."""
    moment = moment_of(now)
    return fan_out(send_company_reminders, reminders.companies_due(now=moment), moment.isoformat())


@company_task
def send_company_reminders(company_id: int, now: str) -> dict[str, list[str]]:
    with tenancy.tenant_context(company_id):
        result = reminders.send_reminders(
            company=Company.objects.get(pk=company_id), now=datetime.datetime.fromisoformat(now)
        )
    return {"reminded": result.reminded, "summaries": result.summaries}


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver_reminder(
    self: Task, company_id: int, reminder_id: int, channel: str, attempt: int = 1
) -> str:
    """One channel of one reminder or digest; a failure is retried alone, with back-off."""
    while True:
        result = reminders.reminder_deliver(
            company_id=company_id, reminder_id=reminder_id, channel=channel, attempt=attempt
        )
        if result.retry_in is None:  # sent, given up (reminders.MAX_ATTEMPTS) or not ours
            return result.state
        if not self.request.is_eager:
            raise self.retry(
                args=(company_id, reminder_id, channel, attempt + 1), countdown=result.retry_in
            )
        # No broker (the embedded profile) and so no countdown: the next attempt runs now.
        attempt += 1
