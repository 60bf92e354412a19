import logging

from celery import shared_task
from django.db import OperationalError

from rollups import services

logger = logging.getLogger(__name__)

# Deadlocks, serialization failures and a lost connection are worth another try.
RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError, ConnectionError),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 8,
}


# Nobody reads its result: storing one would subscribe the caller to the result backend on
# every .delay(), and with Redis down that alone blocks the request for 20 seconds.
@shared_task(bind=True, ignore_result=True, **RETRY)
def rollup_company(self, company_id: int) -> dict[str, int]:
    """Recomputes one company's stale totals; queued after every change that marks them."""
    result = services.rollup_run(company_id=company_id, token=self.request.id)
    return {"buckets": result.buckets, "written": result.written, "deleted": result.deleted}


@shared_task(**RETRY)
def reconcile_company(company_id: int) -> dict[str, int]:
    reconciliation = services.totals_reconcile(company_id=company_id)
    return {"totals": reconciliation.totals, "drift": reconciliation.drift}


@shared_task(acks_late=True)
def reconcile_nightly(hour: int = 3) -> list[int]:
    """Beat runs this hourly: companies where it is now 03:00 get their reconciliation."""
    return _each(services.companies_at_local_hour(hour), reconcile_company)


@shared_task(acks_late=True)
def sweep_stale() -> list[int]:
    """Beat runs this every minute: a rollup lost with the broker or a dead worker resumes."""
    return _each(services.stale_companies(), rollup_company)


def _each(company_ids: list[int], task) -> list[int]:
    queued = []
    for company_id in company_ids:
        try:  # one company's failure (eagerly, on the embedded profile) stops no other
            task.delay(company_id)
            queued.append(company_id)
        except Exception:
            logger.exception("rollups: %s failed for company %s", task.name, company_id)
    return queued
