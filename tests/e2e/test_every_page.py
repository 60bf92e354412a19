"""Every page of the URLconf, as every role, on a phone (375 px) and a wide screen (1440 px).

A page fails when the browser logs an error (a script, a resource, the CSP), when it scrolls
sideways (the document wider than the window), when a form control has no label, or when a
table has a column without a header (on a phone, where a table becomes stacked cards, a cell
without its data-label). The pages are found in the URLconf, not listed by hand: a new page
is visited as soon as it exists, and one that takes arguments fails here until SAMPLES says
which of the cast's objects to open it with. Screenshots of the main pages are kept in
test-artifacts/pages/.

One browser, one login per role; each page is loaded once and measured at both widths.
"""

import datetime
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts import tenancy
from crm_sync.models import Call, CRMConnection, ImportJob, PipelineStage
from kpi.models import KPI
from quality.models import CallScore, CallType, ChecklistItem
from reports.models import DailyReport
from tests.conftest import ROOT, Cast, make_cast
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ARTIFACTS = ROOT / "test-artifacts" / "pages"
WIDTHS = {"phone": (375, 740), "wide": (1440, 900)}
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
OPERATOR, OPERATOR_PASSWORD = "platform.root", "operator-password-1"

# Named URLs that are not pages a person opens: files, fragments and hooks. POST-only views
# are found by their decorator (`_methods`), so they need no entry here.
NOT_PAGES = {
    "healthz": "plain text for the load balancer",
    "logout": "POST only (Django's LogoutView)",
    "set_language": "POST only (the RU/EN buttons)",
    "dashboard-export": "an Excel file (tests/dashboard)",
    "abc-xyz-export": "an Excel file (tests/clients)",
    "crm-hook-amocrm": "a CRM's webhook, not a person's page",
    "crm-hook-bitrix24": "a CRM's webhook, not a person's page",
    "api-schema": "the OpenAPI document (YAML)",
    "telephony-receive": "a PBX's webhook, not a person's page",
    "call-recording": "a redirect to the PBX's recording (tests/telephony)",
    "crm-connection-status": "an htmx fragment the connections page polls",
    "crm-oauth-callback": "where a CRM sends the admin back: checked, then a redirect",
}
# Pages everyone signed in reaches from the menu; their screenshots are kept.
MAIN_PAGES = {
    "home", "dashboard", "dashboard-manager", "team-reports", "funnel", "clients", "abc-xyz",
    "client-alerts", "report-form", "my-kpis", "plan-grid", "quality-queue", "quality-scores",
    "user-list", "kpi-list", "calendar", "audit-log",
}  # fmt: skip


def _samples(cast: Cast) -> dict[str, dict[str, object]]:
    """Each page's arguments: one of the cast's own objects (the operator gets a 403 or 404)."""
    company = cast.company
    today = company.today()
    yesterday = today - datetime.timedelta(days=1)
    with tenancy.tenant_context(company):
        kpi = KPI.objects.get(company=company, code="calls")
        report = DailyReport.objects.filter(company=company).first()
        call_type = CallType.objects.filter(company=company).first()
        item = ChecklistItem.objects.filter(call_type=call_type).first()
        job = ImportJob.objects.filter(company=company).first()
        connection = CRMConnection.objects.filter(company=company).first()
        score = CallScore.objects.filter(company=company).first()
        invitation = {"company": company.code, "user": cast.manager.code, "token": "x-y"}
        return {
            "user-edit": {"code": cast.manager.code},
            "team-edit": {"code": cast.team.code},
            "kpi-edit": {"uid": kpi.uid},
            "role-kpis": {"code": cast.manager.sales_role.code},
            "plan-grid": {"team": cast.team.code, "year": today.year, "month": today.month},
            "plan-copy": {"team": cast.team.code, "year": today.year, "month": today.month},
            "plan-uplift": {"team": cast.team.code, "year": today.year, "month": today.month},
            "report-form": {"day": yesterday.isoformat()},
            "report-detail": {"code": report.code},
            "dashboard-manager": {"code": cast.manager.code},
            "dashboard-explain": {"code": cast.manager.code, "kpi": kpi.code},
            "stage-edit": {"code": PipelineStage.objects.filter(company=company).first().code},
            "import-job": {"code": job.code},
            "import-mapping": {"code": job.code},
            "crm-connection-edit": {"code": connection.code},
            "crm-connection-mapping": {"code": connection.code},
            "crm-connection-amount": {"code": connection.code},
            "crm-connection-leads": {"code": connection.code},
            "crm-oauth-start": {"vendor": "bitrix24"},
            "quality-score": {"code": Call.objects.get(company=company, external_id="c1").code},
            "quality-score-detail": {"code": score.code},
            "quality-call-type": {"code": call_type.code},
            "quality-item": {"code": item.code},
            # A link that is no longer valid still shows a page, not an error.
            "invitation-accept": invitation,
            "signup-confirm": {"token": "x-y"},
        }  # fmt: skip


def _methods(view: Callable) -> list[str] | None:
    """The HTTP methods a view's require_http_methods allows (None: any)."""
    while view is not None:
        for cell in inspect.getclosurevars(view).nonlocals.values():
            if isinstance(cell, list) and cell and set(map(str, cell)) <= HTTP_METHODS:
                return cell
        view = getattr(view, "__wrapped__", None)
    return None


def _named_patterns(patterns: list, prefix: str = "") -> Iterator[tuple[str, str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if str(entry.pattern).startswith(("api/", "operator/")):
                continue  # the API has its own tests; the operators' console is visited below
            yield from _named_patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif entry.name:
            yield entry.name, prefix + str(entry.pattern), entry


def page_urls(cast: Cast) -> dict[str, str]:
    """Every GET page of the URLconf, with its sample arguments, by name."""
    samples = _samples(cast)
    urls, unknown = {}, []
    for name, route, pattern in _named_patterns(get_resolver().url_patterns):
        if name in NOT_PAGES or name == "api-docs":
            continue
        methods = _methods(pattern.callback)
        if methods is not None and "GET" not in methods:
            continue
        if pattern.pattern.converters or "<" in route:
            if name not in samples:
                unknown.append(f"{name} ({route})")
                continue
            urls[name] = reverse(name, kwargs=samples[name])
        else:
            urls[name] = reverse(name)
    assert not unknown, f"pages with arguments that SAMPLES does not cover: {unknown}"
    return urls


MEASURE = (Path(__file__).parent / "measure_page.js").read_text()


@dataclass
class Visit:
    errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _visit_all(browser, base: str, role: str, urls: dict[str, str], login) -> list[str]:  # type: ignore[no-untyped-def]
    """Loads each page once at 1440 px and measures it there and at 375 px."""
    context = browser.new_context(locale="ru-RU", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    console: list[str] = []

    def on_console(message) -> None:  # type: ignore[no-untyped-def]
        # A page's own status (a 403 to a role, 404 of an old link) is the page, not an error.
        own = message.location.get("url") == page.url and "Failed to load resource" in message.text
        if message.type == "error" and not own:
            console.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda e: console.append(str(e)))
    failures = []
    try:
        login(page, base)
        for name, url in urls.items():
            console.clear()
            page.set_viewport_size({"width": 1440, "height": 900})
            response = page.goto(base + url, wait_until="load")
            status = response.status if response else 0
            if status >= 500:
                failures.append(f"{role} {name} {url}: HTTP {status}")
                continue
            for width_name, (width, height) in WIDTHS.items():
                page.set_viewport_size({"width": width, "height": height})
                if page.locator(".js-plotly-plot").count():
                    page.wait_for_timeout(400)  # charts follow the window's width
                for problem in page.evaluate(MEASURE):
                    failures.append(f"{role} {name} {url} at {width} px: {problem}")
                if name in MAIN_PAGES and status == 200:
                    page.screenshot(
                        path=str(ARTIFACTS / f"{role}-{name}-{width_name}.png"),
                        full_page=True,
                    )
            failures.extend(f"{role} {name} {url}: console: {text}" for text in console)
    finally:
        context.close()
    return failures


def _log_in(username: str) -> Callable:
    def log_in(page, base: str) -> None:  # type: ignore[no-untyped-def]
        page.goto(base + "/login/")
        page.get_by_label("Логин").fill(username)
        page.get_by_label("Пароль").fill(PASSWORD)
        page.get_by_role("button", name="Войти").click()
        page.wait_for_url(lambda url: "/login/" not in url)  # a controller lands on the queue

    return log_in


@pytest.fixture
def cast(live_server) -> Cast:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return make_cast("e2e", "Е2Е Продажи")


def _run(browser, live_server, role: str, urls: dict[str, str], login: Callable) -> None:  # type: ignore[no-untyped-def]
    failures = _visit_all(browser, live_server.url, role, urls, login)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", ["admin", "head", "manager", "quality"])
def test_every_page_as_a_company_role_fits_both_widths(browser, live_server, cast, role):
    user = {
        "admin": cast.admin,
        "head": cast.head,
        "manager": cast.manager,
        "quality": cast.quality,
    }
    urls = page_urls(cast)
    urls.pop("login")  # a signed-in person is sent on from it
    _run(browser, live_server, role, urls, _log_in(user[role].username))


def test_every_page_as_an_operator_and_anonymous_fits_both_widths(browser, live_server, cast):
    call_command("createoperator", OPERATOR, OPERATOR_PASSWORD)
    urls = page_urls(cast)
    anonymous = {
        name: urls[name]
        for name in ("login", "invitation-accept", "signup", "signup-sent", "signup-confirm")
    }
    _run(browser, live_server, "anonymous", anonymous, lambda page, base: None)

    def operator_login(page, base: str) -> None:  # type: ignore[no-untyped-def]
        page.goto(base + "/operator/login/")
        page.locator("#id_username").fill(OPERATOR)
        page.locator("#id_password").fill(OPERATOR_PASSWORD)
        page.locator("input[type=submit]").click()
        page.wait_for_url(base + "/operator/")

    console = {
        "operator-index": "/operator/",
        "operator-companies": "/operator/accounts/company/",
        "operator-company": f"/operator/accounts/company/{cast.company.pk}/change/",
    }
    # The company's pages refuse an operator with the 403 page, which must fit too.
    signed_in = {k: v for k, v in urls.items() if k not in anonymous}
    _run(browser, live_server, "operator", console | signed_in, operator_login)


def test_the_header_is_one_line_on_a_phone_and_the_menu_unfolds(browser, live_server, cast):
    context = browser.new_context(
        locale="ru-RU", viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        _log_in(cast.admin.username)(page, live_server.url)
        header = page.locator("header.topbar")
        # Was 335 px of the admin's 740 before the first line of the page.
        assert header.bounding_box()["height"] <= 64
        assert not page.get_by_role("link", name="Сотрудники").is_visible()
        page.get_by_role("button", name="Меню").click()
        page.get_by_role("link", name="Сотрудники").click()
        page.wait_for_url("**/company/users/")
        page.set_viewport_size({"width": 1440, "height": 900})
        assert not page.get_by_role("button", name="Меню").is_visible()
        assert page.get_by_role("link", name="Дашборд").is_visible()
        assert header.bounding_box()["height"] <= 80
    finally:
        context.close()
