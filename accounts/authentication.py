import re

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from accounts import services, tenancy
from accounts.models import ApiToken, CompanyToken, User

# What api_token_create makes: a company id (a positive bigint) and token_urlsafe's secret.
# Anything else is refused before a company is opened or the database is asked.
TOKEN_FORMAT = re.compile(r"(?P<company>[1-9][0-9]{0,18})\.[A-Za-z0-9_-]{20,100}", re.ASCII)
BIGINT_MAX = 2**63 - 1


def token_company_id(key: str) -> int | None:
    """The company id a well-formed key names, or None for a malformed one."""
    match = TOKEN_FORMAT.fullmatch(key)
    if match is None:
        return None
    company_id = int(match["company"])
    return company_id if company_id <= BIGINT_MAX else None


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Token <company id>.<secret>`, a key made by api_token_create.

    Every malformed or unknown key is the same 401, whether its company exists or not.
    """

    keyword = "token"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        # The WSGI server hands headers over as Latin-1 text; no decoding can fail here.
        header = str(request.META.get("HTTP_AUTHORIZATION", "")).strip()
        scheme, _space, key = header.partition(" ")
        if scheme.lower() != self.keyword:
            return None
        key = key.strip()
        if not key or any(character.isspace() for character in key):
            raise exceptions.AuthenticationFailed(_("Неверный заголовок Authorization."))
        company_id = token_company_id(key)
        if company_id is None:
            raise exceptions.AuthenticationFailed(_("Неверный токен."))
        tenancy.activate(company_id)
        token = services.api_token_find(key=key)
        if token is None:
            tenancy.activate(None)
            raise exceptions.AuthenticationFailed(_("Неверный токен."))
        if token.user.company.suspended_at is not None:
            tenancy.activate(None)
            raise exceptions.AuthenticationFailed(_("Работа компании приостановлена."))
        ApiToken.objects.filter(pk=token.pk).update(last_used=timezone.now())
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return "Token"


class CompanyPrincipal:
    """Who a company token acts as: the company itself, with no person's rights. Views that
    accept company tokens check `token_has_scope`, never a user's role."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    pk = None
    can_administer = False
    is_head = False
    is_manager = False

    def __init__(self, token: CompanyToken) -> None:
        self.token = token
        self.company = token.company
        self.company_id = token.company_id


class CompanyTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <company id>.<secret>`, a key made by company_token_create.

    Only the views that name it take it (the BI exports), so a company token cannot reach
    anything else whatever its scopes."""

    keyword = "bearer"

    def authenticate(self, request: Request) -> tuple[CompanyPrincipal, CompanyToken] | None:
        header = str(request.META.get("HTTP_AUTHORIZATION", "")).strip()
        scheme, _space, key = header.partition(" ")
        if scheme.lower() != self.keyword:
            return None
        key = key.strip()
        company_id = token_company_id(key)
        if company_id is None:
            raise exceptions.AuthenticationFailed(_("Неверный токен."))
        tenancy.activate(company_id)
        token = services.company_token_find(key=key)
        if token is None:
            tenancy.activate(None)
            raise exceptions.AuthenticationFailed(_("Неверный токен."))
        CompanyToken.objects.filter(pk=token.pk).update(last_used=timezone.now())
        return CompanyPrincipal(token), token

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"
