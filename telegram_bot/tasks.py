import datetime

from celery import shared_task
from telegram.error import NetworkError, RetryAfter, TimedOut

from accounts import tenancy
from accounts.models import Company
from accounts.tasks import companies_where, company_task, fan_out, moment_of
from dashboard.digest import DIGEST_TIME
from reports.reminders import companies_due
from telegram_bot import alerts, services

# An update still unprocessed this long after it came has lost its task (the broker was
# down at the commit, the queue purged) or its task failed: the sweep queues it again.
SWEEP_AFTER = datetime.timedelta(seconds=60)
# ... but one that failed this many times is left for a person to look at (its `error`).
MAX_ATTEMPTS = 5


@company_task(autoretry_for=(NetworkError, TimedOut, RetryAfter))
def process_update(company_id: int, update_pk: int) -> bool:
    """One stored update, once. The Bot API down: retried with the company tasks' back-off."""
    try:
        with tenancy.tenant_context(company_id):
            return services.update_process(
                company=Company.objects.get(pk=company_id), update_pk=update_pk
            )
    except Exception as error:
        with tenancy.tenant_context(company_id):
            services.update_failed(
                company=Company.objects.get(pk=company_id),
                update_pk=update_pk,
                error=f"{type(error).__name__}: {error}",
            )
        raise


@company_task
def sweep_company_updates(company_id: int) -> int:
    with tenancy.tenant_context(company_id):
        waiting = services.updates_waiting(
            company=Company.objects.get(pk=company_id),
            older_than=SWEEP_AFTER,
            max_attempts=MAX_ATTEMPTS,
        )
    for update_pk in waiting:
        process_update.delay(company_id, update_pk)
    return len(waiting)


@shared_task(acks_late=True)
def sweep_updates() -> list[int]:
    """Beat runs this every minute: updates whose processing was lost are queued again."""
    return fan_out(sweep_company_updates, companies_where(lambda c: bool(c.telegram_bot_token)))


@shared_task(acks_late=True)
def send_due_alerts(now: str | None = None) -> list[int]:
    """Beat runs this every few minutes; from the digest time each company gets its task."""
    moment = moment_of(now)
    due = [
        company_id
        for company_id in companies_due(now=moment, at=DIGEST_TIME)
        if Company.objects.filter(pk=company_id).exclude(telegram_bot_token="").exists()
    ]
    return fan_out(send_company_alerts, due, moment.isoformat())


@company_task
def send_company_alerts(company_id: int, now: str) -> list[str]:
    with tenancy.tenant_context(company_id):
        return alerts.send_alerts(
            company=Company.objects.get(pk=company_id), now=datetime.datetime.fromisoformat(now)
        )
