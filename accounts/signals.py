import logging
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from accounts import tenancy
from accounts.audit import audit_record
from accounts.backends import login_key
from accounts.client_ip import client_ip
from accounts.middleware import SESSION_COMPANY_KEY
from accounts.models import AuditEvent, LoginName, User

logger = logging.getLogger("salesdesk.audit")


@receiver(user_logged_in)
def remember_company(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    # Read by TenantMiddleware on every later request, before the user row is looked up.
    request.session[SESSION_COMPANY_KEY] = user.company_id or tenancy.OPERATOR
    if user.company_id:
        audit_record(
            company=user.company_id, action=AuditEvent.Action.LOGIN, actor=user, request=request
        )


@receiver(user_logged_out)
def record_logout(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if user is not None and user.company_id:
        audit_record(
            company=user.company_id, action=AuditEvent.Action.LOGOUT, actor=user, request=request
        )


@receiver(user_login_failed)
def record_login_failure(
    sender: Any, credentials: dict, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """A wrong password (or a locked login) goes to its company's log; an unknown login,
    which belongs to no company, only to the application log, without what was typed."""
    username = login_key(credentials.get("username"))
    entry = LoginName.objects.filter(username=username).first() if username else None
    if entry is None or entry.company_id is None or request is None:
        logger.warning("login failed for an unknown login ip=%s", client_ip(request) or "-")
        return
    # The backend has already switched the request's transaction to this company.
    tenancy.activate(entry.company_id)
    audit_record(
        company=entry.company_id,
        action=AuditEvent.Action.LOGIN_FAILED,
        target=entry.username,
        actor_name=entry.username,
        request=request,
    )
