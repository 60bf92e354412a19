from celery import shared_task

from accounts.tasks import companies_at_local_hour, company_task, fan_out, moment_of
from rollups import services

# Totals should be current within a minute of a change: retries wait at most that long.
ROLLUP_RETRY = {"retry_backoff_max": 60, "max_retries": 8}


# Nobody reads its result: storing one would subscribe the caller to the result backend on
# every .delay(), and with Redis down that alone blocks the request for 20 seconds.
@company_task(bind=True, ignore_result=True, **ROLLUP_RETRY)
def rollup_company(self, company_id: int) -> dict[str, int]:
    """Recomputes one company's stale totals; queued after every change that marks them."""
    result = services.rollup_run(company_id=company_id, token=self.request.id)
    return {"buckets": result.buckets, "written": result.written, "deleted": result.deleted}


@company_task(**ROLLUP_RETRY)
def reconcile_company(company_id: int) -> dict[str, int]:
    """The nightly check: recent months and a rotating slice of older ones (totals_verify)."""
    reconciliation = services.totals_verify(company_id=company_id)
    return {"totals": reconciliation.totals, "drift": reconciliation.drift}


@shared_task(acks_late=True)
def reconcile_nightly(hour: int = 3, now: str | None = None) -> list[int]:
    """Beat runs this hourly: companies where it is now 03:00 get their reconciliation."""
    return fan_out(reconcile_company, companies_at_local_hour(hour, moment_of(now)))


@shared_task(acks_late=True)
def sweep_stale() -> list[int]:
    """Beat runs this every minute: a rollup lost with the broker or a dead worker resumes."""
    return fan_out(rollup_company, services.stale_companies())
