import datetime

from celery import shared_task

from accounts import tenancy
from accounts.models import Company
from accounts.tasks import companies_at_local_hour, company_task, fan_out, moment_of
from clients import services
from kpi.periods import shift_months

CLASSIFY_HOUR, DAILY_HOUR = 4, 5


@company_task
def classify_company(company_id: int, month: str) -> int:
    """Classify the company's clients for `month` (ISO date): the whole month once it is
    over, to date while it runs. Replaces the month's rows."""
    with tenancy.tenant_context(company_id):
        result = services.classification_run(
            company=Company.objects.get(pk=company_id), month=datetime.date.fromisoformat(month)
        )
    return result.classified


@company_task
def refresh_alerts(company_id: int) -> dict[str, int]:
    with tenancy.tenant_context(company_id):
        result = services.alerts_refresh(company=Company.objects.get(pk=company_id))
    return {"opened": result.opened, "closed": result.closed}


@company_task
def refresh_client_figures(company_id: int) -> int:
    with tenancy.tenant_context(company_id):
        return services.client_figures_refresh(company=Company.objects.get(pk=company_id))


@shared_task(acks_late=True)
def classify_due(now: str | None = None) -> list[int]:
    """Beat runs this hourly: where it is the 1st, 04:00, the month just ended is classified."""
    moment = moment_of(now)
    due = companies_at_local_hour(CLASSIFY_HOUR, moment, day=1)
    jobs = [(company_id, _previous_month(company_id, moment)) for company_id in due]
    return fan_out(classify_company, jobs)


@shared_task(acks_late=True)
def daily_due(now: str | None = None) -> list[int]:
    """Beat runs this hourly: where it is 05:00, rhythm alerts and client KPIs are refreshed."""
    due = companies_at_local_hour(DAILY_HOUR, moment_of(now))
    # Two fan-outs: one failing for a company does not stop the other.
    alerts, figures = fan_out(refresh_alerts, due), fan_out(refresh_client_figures, due)
    return [company_id for company_id in due if company_id in alerts and company_id in figures]


def _previous_month(company_id: int, moment: datetime.datetime) -> str:
    local = Company.objects.get(pk=company_id).local_time(moment)
    return shift_months(local.date(), -1).isoformat()
