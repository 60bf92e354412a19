"""Sending the deliveries: after each event's commit, and a sweep for the retries."""

from celery import shared_task

from accounts import tenancy
from accounts.models import Company
from accounts.tasks import companies_at_local_hour, company_task, fan_out, moment_of
from webhooks import services
from webhooks.models import Delivery

# At most this many attempts per run, so one busy subscription does not hold a worker.
BATCH = 100


@company_task
def deliver(company_id: int, subscription_id: int, now: str | None = None) -> None:
    """Sends a subscription's due deliveries in order, until one has to wait (its retry is
    picked up by `sweep`). Each attempt is its own transaction."""
    for _attempt in range(BATCH):
        moment = moment_of(now)
        with tenancy.tenant_context(company_id):
            outcome = services.send_next(subscription_id=subscription_id, now=moment)
        if outcome != "sent":
            return
    deliver.delay(company_id, subscription_id, now)


@shared_task
def sweep(now: str | None = None) -> None:
    """Every minute: the subscriptions whose oldest waiting delivery is due (a retry, or one
    whose first sending was lost with the broker) are sent."""
    moment = moment_of(now)
    jobs = []
    for company in Company.objects.order_by("pk"):
        with tenancy.tenant_context(company):
            due = (
                Delivery.objects.filter(
                    company=company,
                    state=Delivery.State.PENDING,
                    next_attempt_at__lte=moment,
                    subscription__active=True,
                )
                .values_list("subscription_id", flat=True)
                .distinct()
            )
            jobs += [(company.pk, subscription_id) for subscription_id in due]
    fan_out(deliver, jobs, now)


# After the night's totals (rollups at 03:00) and the clients' day (05:00).
AT_RISK_HOUR = 6


@company_task
def managers_at_risk(company_id: int, now: str | None = None) -> int:
    from webhooks import at_risk

    with tenancy.tenant_context(company_id):
        company = Company.objects.get(pk=company_id)
        today = company.local_time(moment_of(now)).date()
        return at_risk.managers_at_risk_emit(company=company, today=today)


@shared_task
def managers_at_risk_due(now: str | None = None) -> list[int]:
    """Beat runs this hourly: where it is 06:00, the managers newly at risk are announced."""
    return fan_out(managers_at_risk, companies_at_local_hour(AT_RISK_HOUR, moment_of(now)), now)
