from celery import shared_task

from accounts import tenancy
from accounts.tasks import company_task, fan_out
from kpi.models import KPI
from payments import odata, services


@company_task
def pull_connection(company_id: int, code: str) -> dict[str, int | str]:
    result = odata.connection_pull(company_id=company_id, code=code)
    return {
        "payments": result.payments,
        "balances": result.balances,
        "dropped": result.dropped,
        "error": result.error,
    }


@shared_task(acks_late=True)
def pull_all() -> int:
    """Beat runs this every hour: each company's active 1C connection gets its own pull."""
    return len(fan_out(pull_connection, odata.connections_due()))


@company_task
def figures_rebuild(company_id: int, kpi_id: int) -> int:
    """A KPI's figures from 1C after its source changed (payments.receivers)."""
    with tenancy.tenant_context(company_id):
        kpi = KPI.objects.select_related("company").filter(pk=kpi_id).first()
        # Deleted since, or switched again: the later switch queued its own rebuild.
        return services.figures_rebuild(kpi=kpi) if kpi else 0
