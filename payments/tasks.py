from celery import shared_task

from accounts.tasks import company_task, fan_out
from payments import odata


@company_task
def pull_connection(company_id: int, code: str) -> dict[str, int | str]:
    result = odata.connection_pull(company_id=company_id, code=code)
    return {"payments": result.payments, "balances": result.balances, "error": result.error}


@shared_task(acks_late=True)
def pull_all() -> int:
    """Beat runs this every hour: each company's active 1C connection gets its own pull."""
    return len(fan_out(pull_connection, odata.connections_due()))
