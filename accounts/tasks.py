from smtplib import SMTPException

from celery import shared_task

from accounts import services, tenancy
from accounts.models import User


@shared_task(
    autoretry_for=(SMTPException, ConnectionError),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
)
def send_invitation(company_id: int, user_id: int) -> None:
    with tenancy.tenant_context(company_id):
        services.invitation_send(user=User.objects.get(pk=user_id))
