from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts import tenancy
from accounts.api_errors import error_body

SESSION_COMPANY_KEY = "_salesdesk_company"


_FAILED = "_salesdesk_failed"


def roll_back_request(request: HttpRequest) -> None:
    """Undo the request's writes when its transaction ends (a view's exception, an API error).

    The view runs in TenantMiddleware's transaction itself, with no savepoint of its own
    (ATOMIC_REQUESTS would add two statements to every request): the error page is still
    drawn in a usable transaction, and the whole of it is rolled back at the end, as the
    savepoint was before. Reads and the tenant's settings are all it held besides."""
    setattr(getattr(request, "_request", request), _FAILED, True)  # DRF's Request: its own


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
            response = self.get_response(request)
            if getattr(request, _FAILED, False):
                # The view failed: what it wrote goes with the request's transaction.
                transaction.set_rollback(True)
            return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        roll_back_request(request)

    def process_view(self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict) -> None:
        """An operator (no company) who opens a company's page is refused with the reason,
        as a role that may not is, never with a 500: their pages are the console's."""
        if request.session.get(SESSION_COMPANY_KEY) != tenancy.OPERATOR:
            return
        match = request.resolver_match
        if request.path.startswith(reverse("admin:index")) or (
            match is not None and match.url_name in OPERATOR_PAGES
        ):
            return
        raise PermissionDenied(
            _("Это страница компании; оператор работает в консоли операторов, /operator/.")
        )


# What an operator's session may open outside the console.
OPERATOR_PAGES = {"login", "logout", "set_language", "healthz", "favicon"}


class LanguageMiddleware(LocaleMiddleware):
    """Russian unless the user chose English with the switch (a cookie).

    Unlike Django's LocaleMiddleware it ignores the browser's Accept-Language: the users
    are Russian-speaking, and many have English browsers or operating systems.
    """

    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen is None and request.path.startswith("/api/"):
            # An integration has no switch to press: it asks in Accept-Language.
            chosen = translation.get_language_from_request(request)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class PasswordChangeMiddleware:
    """Until a temporary password is replaced, its session reaches only the page that does it.

    Logging out and switching the language stay possible. API tokens are made on the profile
    page, which this keeps out of reach, so a token never belongs to such a session.
    """

    ALLOWED = {"password-change", "logout", "set_language"}

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict
    ) -> HttpResponse | None:
        user = request.user
        if not (user.is_authenticated and user.must_change_password):
            return None
        if request.resolver_match and request.resolver_match.url_name in self.ALLOWED:
            return None
        if request.path.startswith("/api/"):
            message = _("Сначала смените временный пароль.")
            body = error_body(code="password_change_required", message=message)
            return JsonResponse(body, status=403)
        target = reverse("password-change")
        if request.method == "GET" and request.path != reverse("home"):
            target += "?" + urlencode({"next": request.get_full_path()})
        if request.headers.get("HX-Request"):
            return HttpResponse(headers={"HX-Redirect": target})
        return redirect(target)


class RefuseNulMiddleware:
    """A NUL character is never a figure, a name or a date, and PostgreSQL cannot store it
    in text or JSON: a form or query string carrying one is refused here, once for every
    view, with a 400 that says why (instead of a 500 wherever it would reach the database)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for data in (request.GET, request.POST):
            for key, values in data.lists():
                if "\x00" in key or any("\x00" in value for value in values):
                    message = _("В запросе есть недопустимый символ (NUL). Уберите его.")
                    if request.path.startswith("/api/"):
                        body = error_body(code="invalid", message=message)
                        return JsonResponse(body, status=400)
                    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
