from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts import tenancy
from accounts.models import LoginName, User


def login_key(username: object) -> str:
    """A typed login as it is stored: logins are case-insensitive and trimmed."""
    return str(username or "").strip().lower()


def axes_username(request: HttpRequest | None, credentials: dict | None) -> str:
    # The lockout counts "Alpha.Head" and "alpha.head" as the one login they are.
    if credentials:
        return login_key(credentials.get("username"))
    return login_key(getattr(request, "POST", {}).get("username"))


class TenantModelBackend(ModelBackend):
    """Finds the login's company first, then authenticates inside that company."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or password is None:
            return None
        entry = LoginName.objects.filter(username=login_key(username)).first()
        if entry is None:
            # Same cost as a wrong password, so timing does not tell which logins exist.
            User().set_password(password)
            return None
        if entry.company_id is None:
            tenancy.activate_operator()
        else:
            tenancy.activate(entry.company_id)
        return super().authenticate(request, username=entry.username, password=password, **kwargs)

    def get_user(self, user_id: Any) -> User | None:
        """The session's user with their company, which nearly every view reads: one query."""
        if tenancy.active_company_id() is None and not tenancy.in_operator_context():
            # A session without its company (or operator) marker: nobody, not an error.
            return None
        try:
            user = User._default_manager.select_related("company").get(pk=user_id)
        except User.DoesNotExist:
            return None
        if user.company is not None and user.company.suspended_at is not None:
            # An operator suspended the company: its sessions end at their next request.
            return None
        return user if self.user_can_authenticate(user) else None
