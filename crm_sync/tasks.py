import logging

from celery import shared_task
from django.db import OperationalError

from crm_sync import connectors
from crm_sync.vendors.http import CRMUnavailable

logger = logging.getLogger(__name__)

# A CRM that is down or still limiting us, a deadlock or a lost connection: try again later.
RETRY = {
    "acks_late": True,
    "autoretry_for": (CRMUnavailable, OperationalError, ConnectionError),
    "retry_backoff": 30,
    "retry_backoff_max": 900,
    "max_retries": 6,
}


@shared_task(**RETRY)
def pull_connection(company_id: int, code: str) -> dict[str, int]:
    result = connectors.connection_pull(company_id=company_id, code=code)
    return {"created": result.created, "updated": result.updated, "skipped": result.skipped}


@shared_task(**RETRY)
def refresh_deals(company_id: int, code: str, ids: list[str]) -> dict[str, int]:
    result = connectors.deals_refresh(company_id=company_id, code=code, ids=ids)
    return {"created": result.created, "updated": result.updated, "skipped": result.skipped}


@shared_task(acks_late=True)
def pull_all() -> int:
    """Beat runs this every few minutes: each active connection gets its own pull."""
    due = connectors.connections_due()
    for company_id, code in due:
        try:  # one connection's failure (eagerly, on the embedded profile) stops no other
            pull_connection.delay(company_id, code)
        except Exception:
            logger.exception("crm_sync: the pull of %s failed for company %s", code, company_id)
    return len(due)
