"""What the browser gets, in Chromium: Swagger UI under the CSP, the charts from the partial
plotly.js bundle, the favicon; no console error and no CSP violation on the way."""

import pytest

from tests.conftest import make_cast
from tests.e2e.test_smoke import log_in
from tests.funnel.conftest import build_known_funnel

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Injected by the browser, not the page: it runs whatever the page's CSP allows.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def watch(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Console errors of the page, as they come."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script(RECORD_VIOLATIONS)
    return errors


def test_the_api_docs_list_the_operations_under_the_csp(page, live_server):
    make_cast("e2e", "Е2Е Продажи")
    errors = watch(page)
    log_in(page, live_server.url, "e2e.manager1")
    response = page.goto(f"{live_server.url}/api/docs/")
    script_src = response.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    assert "'unsafe-inline'" not in script_src
    page.locator(".opblock-summary-path", has_text="/api/v1/users/").first.wait_for()
    assert page.locator(".opblock").count() > 20
    assert page.evaluate("window.__violations") == []
    assert errors == []


def test_the_funnel_charts_draw_from_the_partial_bundle(page, live_server):
    build_known_funnel(make_cast("e2e", "Е2Е Продажи"))
    errors = watch(page)
    scripts: list[str] = []
    page.on("response", lambda r: scripts.append(r.url) if r.url.endswith(".js") else None)
    log_in(page, live_server.url, "e2e.head")
    page.goto(f"{live_server.url}/funnel/?period=range&start=2026-03-01&end=2026-03-31")
    # The funnel trace (not in plotly's basic bundle), the bars and the grouped bars.
    page.locator('[data-figure="stages-data"] .funnellayer .point').first.wait_for()
    assert page.locator('[data-figure="stages-data"] .funnellayer .point').count() == 5
    assert page.locator('[data-figure="conversion-data"] .barlayer .point').count() >= 3
    assert page.locator('[data-figure="channels-data"] .barlayer .point').count() >= 3
    assert [u for u in scripts if "/plotly/" in u] == [u for u in scripts if "finance" in u]
    assert not [u for u in scripts if "plotly.min.js" in u]  # the full 4.8 MB bundle
    assert page.evaluate("window.__violations") == []
    assert errors == []


def test_the_browser_gets_the_favicon(page, live_server):
    make_cast("e2e", "Е2Е Продажи")
    response = page.goto(f"{live_server.url}/favicon.ico")
    assert response.status == 200
    assert "icon" in response.headers["content-type"]
