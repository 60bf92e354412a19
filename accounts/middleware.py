from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from accounts import tenancy

SESSION_COMPANY_KEY = "_salesdesk_company"


class TenantMiddleware:
    """Runs the rest of the request in one transaction, as the session's company.

    Anonymous requests run with no company: nothing tenant-owned is visible to them. An
    operator's session (marked at login, accounts.signals) runs in the operator context.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        company = request.session.get(SESSION_COMPANY_KEY)
        if company == tenancy.OPERATOR:
            context = tenancy.operator_context()
        else:
            # Anything but a company id (a session of an older release, say): no company.
            context = tenancy.tenant_context(company if type(company) is int else None)
        with context:
            return self.get_response(request)


class LanguageMiddleware(LocaleMiddleware):
    """Russian unless the user chose English with the switch (a cookie).

    Unlike Django's LocaleMiddleware it ignores the browser's Accept-Language: the users
    are Russian-speaking, and many have English browsers or operating systems.
    """

    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
