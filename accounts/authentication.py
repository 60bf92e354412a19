from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts import services, tenancy
from accounts.models import ApiToken, User


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Token <company id>.<secret>`, a key made by api_token_create."""

    keyword = "token"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Неверный заголовок Authorization."))
        try:
            key = header[1].decode()
        except UnicodeError as error:
            raise exceptions.AuthenticationFailed(_("Неверный токен.")) from error
        company_part, _dot, secret = key.partition(".")
        if not company_part.isdigit() or not secret:
            raise exceptions.AuthenticationFailed(_("Неверный токен."))
        tenancy.activate(int(company_part))
        token = services.api_token_find(key=key)
        if token is None:
            tenancy.activate(None)
            raise exceptions.AuthenticationFailed(_("Неверный токен."))
        ApiToken.objects.filter(pk=token.pk).update(last_used=timezone.now())
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return "Token"
