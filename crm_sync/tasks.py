from celery import shared_task

from accounts.tasks import company_task, fan_out
from crm_sync import connectors
from crm_sync.vendors.http import CRMUnavailable

# A CRM that is down or still limiting us: try again later, and slower than the company
# policy's default (30 s, 60 s … up to 15 minutes), to stay within the vendors' rate limits.
CRM_RETRY = {"autoretry_for": (CRMUnavailable,), "retry_backoff": 30, "retry_backoff_max": 900}


@company_task(**CRM_RETRY)
def pull_connection(company_id: int, code: str) -> dict[str, int]:
    result = connectors.connection_pull(company_id=company_id, code=code)
    return {"created": result.created, "updated": result.updated, "skipped": result.skipped}


@company_task(**CRM_RETRY)
def refresh_deals(company_id: int, code: str, ids: list[str]) -> dict[str, int]:
    result = connectors.deals_refresh(company_id=company_id, code=code, ids=ids)
    return {"created": result.created, "updated": result.updated, "skipped": result.skipped}


@shared_task(acks_late=True)
def pull_all() -> int:
    """Beat runs this every few minutes: each active connection gets its own pull."""
    return len(fan_out(pull_connection, connectors.connections_due()))
