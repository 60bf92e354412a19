import datetime
import logging

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from accounts import tenancy
from accounts.models import Company
from clients import services
from kpi.periods import shift_months

logger = logging.getLogger(__name__)

RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError, ConnectionError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 6,
}
CLASSIFY_HOUR, DAILY_HOUR = 4, 5


@shared_task(**RETRY)
def classify_company(company_id: int, month: str) -> int:
    """Classify the company's clients for `month` (ISO date): the whole month once it is
    over, to date while it runs. Replaces the month's rows."""
    with tenancy.tenant_context(company_id):
        result = services.classification_run(
            company=Company.objects.get(pk=company_id), month=datetime.date.fromisoformat(month)
        )
    return result.classified


@shared_task(**RETRY)
def refresh_alerts(company_id: int) -> dict[str, int]:
    with tenancy.tenant_context(company_id):
        result = services.alerts_refresh(company=Company.objects.get(pk=company_id))
    return {"opened": result.opened, "closed": result.closed}


@shared_task(**RETRY)
def refresh_client_figures(company_id: int) -> int:
    with tenancy.tenant_context(company_id):
        return services.client_figures_refresh(company=Company.objects.get(pk=company_id))


@shared_task(acks_late=True)
def classify_due(now: str | None = None) -> list[int]:
    """Beat runs this hourly: where it is the 1st, 04:00, the month just ended is classified."""
    moment = datetime.datetime.fromisoformat(now) if now else timezone.now()
    queued = []
    for company in Company.objects.all():
        local = company.local_time(moment)
        if local.day != 1 or local.hour != CLASSIFY_HOUR:
            continue
        previous = shift_months(local.date(), -1).isoformat()
        if _queue(classify_company, company.pk, previous):
            queued.append(company.pk)
    return queued


@shared_task(acks_late=True)
def daily_due(now: str | None = None) -> list[int]:
    """Beat runs this hourly: where it is 05:00, rhythm alerts and client KPIs are refreshed."""
    moment = datetime.datetime.fromisoformat(now) if now else timezone.now()
    queued = []
    for company in Company.objects.all():
        if company.local_time(moment).hour != DAILY_HOUR:
            continue
        # Two tasks (not short-circuited): one failing does not stop the other.
        if _queue(refresh_alerts, company.pk) & _queue(refresh_client_figures, company.pk):
            queued.append(company.pk)
    return queued


def _queue(task, *args: object) -> bool:  # type: ignore[no-untyped-def]
    try:  # one company's failure (eagerly, on the embedded profile) stops no other
        task.delay(*args)
    except Exception:
        logger.exception("clients: %s failed for %s", task.name, args)
        return False
    return True
