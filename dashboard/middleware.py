from collections.abc import Callable

from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse

from accounts.middleware import SESSION_COMPANY_KEY
from dashboard.selectors.poll import STATE_HEADER, poll_variant, state_unchanged


class PollShortcutMiddleware:
    """The open dashboard's own poll, when nothing it shows has changed: 204 from the session
    and one cache read, before the request's transaction, the user's row and the view.

    At 18:00 these polls are most of the server's requests (bench/load.py); the whole way
    (tenant, user, view) costs them several times more CPU than the answer. Anything else,
    and any poll this cannot answer (logged out, another company's or an operator's session,
    a new password, a changed version), goes on down the chain as before.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        try:
            self.path: str | None = reverse("dashboard")
        except NoReverseMatch:  # a URLconf without the dashboard (a test's own): nothing to answer
            self.path = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._unchanged(request):
            return HttpResponse(status=204)
        return self.get_response(request)

    def _unchanged(self, request: HttpRequest) -> bool:
        headers = request.headers
        # The block's own poll (not a period or sort link inside it, which has no trigger).
        if not (
            request.method == "GET"
            and request.path_info == self.path
            and headers.get("HX-Request") == "true"
            and headers.get("HX-Target") == "figures"
            and headers.get("HX-Trigger") == "figures"
            and headers.get(STATE_HEADER)
        ):
            return False
        session = request.session
        company, viewer = session.get(SESSION_COMPANY_KEY), session.get(SESSION_KEY)
        if type(company) is not int or not str(viewer or "").isdigit():
            return False
        return state_unchanged(
            company_id=company,
            viewer_id=int(viewer),
            session_auth_hash=session.get(HASH_SESSION_KEY, ""),
            variant=poll_variant(request),
            seen=headers[STATE_HEADER],
        )
