"""The CRM sync's background jobs, on their own `crm` queue (settings.CELERY_TASK_ROUTES)
so that a long first sync never holds up the rollups and the reminders.

They are the one back-off layer of a CRM's "later" (crm_sync.vendors.http): a CRM that
named its wait (`Retry-After`) is asked again after it; otherwise after 30 s, 60 s … up to
15 minutes. A pull that finds its connection busy is dropped (the running one reads the
same changes); a webhook batch that finds it busy waits its turn.
"""

import logging

from celery import Task, shared_task

from accounts.tasks import company_task, fan_out
from crm_sync import connectors
from crm_sync.coordination import WEBHOOK_WINDOW, ConnectionBusy
from crm_sync.vendors.http import CRMUnavailable

logger = logging.getLogger(__name__)
BACKOFF, BACKOFF_MAX = 30, 900
CRM_RETRY = {"bind": True, "max_retries": 10}


def _retry(task: Task, error: CRMUnavailable) -> Exception:
    delay = error.retry_after
    if delay is None:
        delay = min(BACKOFF * 2**task.request.retries, BACKOFF_MAX)
    return task.retry(exc=error, countdown=delay)


def _counts(result: connectors.SyncResult) -> dict[str, int]:
    return {"created": result.created, "updated": result.updated, "skipped": result.skipped}


@company_task(**CRM_RETRY)
def pull_connection(self: Task, company_id: int, code: str) -> dict[str, int]:
    try:
        return _counts(connectors.connection_pull(company_id=company_id, code=code))
    except ConnectionBusy:
        logger.info("CRM connection %s is busy: this pull is dropped", code)
        return {}
    except CRMUnavailable as error:
        raise _retry(self, error) from error


@company_task(**CRM_RETRY)
def refresh_deals(self: Task, company_id: int, code: str, ids: list[str]) -> dict[str, int]:
    """These deals now (what the webhooks queued before they were batched)."""
    try:
        return _counts(connectors.deals_refresh(company_id=company_id, code=code, ids=ids))
    except CRMUnavailable as error:
        raise _retry(self, error) from error


@company_task(**CRM_RETRY)
def refresh_pending(self: Task, company_id: int, code: str) -> dict[str, int]:
    """The webhook batch `crm_sync.webhooks` schedules `WEBHOOK_WINDOW` seconds after the
    first event of a burst."""
    try:
        return _counts(connectors.pending_refresh(company_id=company_id, code=code))
    except CRMUnavailable as error:
        raise _retry(self, error) from error


@shared_task(acks_late=True)
def pull_all() -> int:
    """Beat runs this every few minutes: each active connection gets its own pull."""
    return len(fan_out(pull_connection, connectors.connections_due()))


def refresh_pending_schedule(company_id: int, code: str) -> None:
    refresh_pending.apply_async((company_id, code), countdown=WEBHOOK_WINDOW)
