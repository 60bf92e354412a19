from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from accounts import tenancy
from accounts.middleware import SESSION_COMPANY_KEY
from accounts.models import User


@receiver(user_logged_in)
def remember_company(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    # Read by TenantMiddleware on every later request, before the user row is looked up.
    request.session[SESSION_COMPANY_KEY] = user.company_id or tenancy.OPERATOR
