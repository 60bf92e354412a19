from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from accounts import tenancy

SESSION_COMPANY_KEY = "_salesdesk_company"


class TenantMiddleware:
    """Runs the rest of the request in one transaction, as the session's company.

    Anonymous requests run with no company: nothing tenant-owned is visible to them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        company_id = request.session.get(SESSION_COMPANY_KEY)
        with tenancy.tenant_context(company_id):
            return self.get_response(request)
