"""The security audit log: `audit_record` writes one `AuditEvent` of the active company.

Who and from where come from the request being served (set by `AuditMiddleware`), so that
services record events without every caller passing the request down; a Celery task or a
management command has no request, and its events have no actor unless one is given.
"""

import logging
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

from accounts.client_ip import client_ip
from accounts.models import AuditEvent, Company, User

logger = logging.getLogger("salesdesk.audit")

_request: ContextVar[HttpRequest | None] = ContextVar("salesdesk_audit_request", default=None)


class AuditMiddleware:
    """Makes the request (its user and address) known to `audit_record` while it runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def audit_record(
    *,
    company: Company | int,
    action: str,
    target: str = "",
    actor: User | None = None,
    actor_name: str = "",
    request: HttpRequest | None = None,
) -> AuditEvent:
    request = request or _request.get()
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    company_id = company if isinstance(company, int) else company.pk
    event = AuditEvent(
        company_id=company_id,
        actor=actor if actor is not None and actor.company_id == company_id else None,
        actor_name=(actor.username if actor is not None else actor_name)[:150],
        action=action,
        target=target[:300],
        ip=client_ip(request),
    )
    event.save()
    logger.info(
        "audit company=%s action=%s actor=%s target=%r ip=%s",
        company_id, action, event.actor_name or "-", event.target, event.ip or "-",
    )  # fmt: skip
    return event
