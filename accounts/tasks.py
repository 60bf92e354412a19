"""What every background job of a company shares: the retry policy and the fan-out.

A periodic job (Celery beat) picks the companies it concerns and queues one task per company
through `fan_out`, so that one company's failure stops no other; each such task takes the
company's id, opens its tenant context (or calls a service that does) and is retried by the
one policy of `CompanyTask`.
"""

import datetime
import logging
from collections.abc import Callable, Iterable
from smtplib import SMTPException
from typing import Any

from celery import Task, shared_task
from django.db import OperationalError
from django.utils import timezone

from accounts import services, tenancy
from accounts.models import Company, User

logger = logging.getLogger(__name__)


class CompanyTask(Task):
    """The one retry policy of a company's background work.

    A deadlock, a serialization failure or a lost connection (the database's or the
    broker's) is worth another try: up to 6, after a random wait of up to 1, 2, 4 … and at
    most 300 seconds (Celery's exponential back-off with full jitter, so that the companies of
    one beat run do not retry in step). The message is acknowledged only once the task has
    run, so a worker that dies mid-task leaves it to another. A task adds its own transient
    errors (a CRM's rate limit, a refusing mail server) with `autoretry_for=` on top.
    """

    acks_late = True
    autoretry_for: tuple[type[BaseException], ...] = (OperationalError, ConnectionError)
    retry_backoff = True
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = 6


def company_task(*args: Any, **options: Any) -> Any:
    """`@shared_task` with `CompanyTask`'s policy: `@company_task` or `@company_task(...)`.

    `autoretry_for=` given here is added to the policy's errors, not put in their place."""
    if "autoretry_for" in options:
        options["autoretry_for"] = (*CompanyTask.autoretry_for, *options["autoretry_for"])
    return shared_task(*args, base=CompanyTask, **options)


def fan_out(task: Task, jobs: Iterable[int | tuple[Any, ...]], *common: Any) -> list[int]:
    """Queues `task` once per job and returns the ids of the companies queued.

    A job is a company id, or a tuple of the company id and that company's own arguments;
    `common` arguments follow them. Queueing one company may fail (the broker refuses it, or,
    on the embedded profile where the task runs at once, the task itself fails): that is
    logged and the others are queued all the same.
    """
    queued = []
    for job in jobs:
        args = job if isinstance(job, tuple) else (job,)
        try:
            task.delay(*args, *common)
        except Exception:
            logger.exception("%s failed for company %s", task.name, args[0])
            continue
        queued.append(args[0])
    return queued


def companies_where(test: Callable[[Company], bool]) -> list[int]:
    """The ids of the companies `test` holds for (e.g. by the time on their own clock)."""
    return [company.pk for company in Company.objects.order_by("pk") if test(company)]


def companies_at_local_hour(
    hour: int, now: datetime.datetime, *, day: int | None = None
) -> list[int]:
    """Companies where it is now `hour` o'clock (and the `day`th of the month, if given)."""

    def due(company: Company) -> bool:
        local = company.local_time(now)
        return local.hour == hour and (day is None or local.day == day)

    return companies_where(due)


def moment_of(now: str | None) -> datetime.datetime:
    """A beat task's `now` (ISO, so tests can freeze time in the worker), or the present."""
    return datetime.datetime.fromisoformat(now) if now else timezone.now()


@company_task(autoretry_for=(SMTPException,), max_retries=5)
def send_invitation(company_id: int, user_id: int) -> None:
    with tenancy.tenant_context(company_id):
        services.invitation_send(user=User.objects.get(pk=user_id))


@company_task(autoretry_for=(SMTPException,), max_retries=5)
def send_signup_mail(email: str, pending_id: int | None) -> None:
    from accounts.models import PendingSignup

    pending = None if pending_id is None else PendingSignup.objects.get(pk=pending_id)
    services.signup_mail_send(email=email, pending=pending)
