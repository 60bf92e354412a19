"""Claims of docs/security.md that no other test file proves: sessions, passwords, the CSP
in every rendered page, headers, and error pages."""

import re
from html.parser import HTMLParser
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts import tenancy
from accounts.models import Team, User
from kpi.models import KPI
from tests.accounts.test_url_leaks import all_patterns, fill, is_operator_console


def login(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_logging_in_rotates_the_session_key(client, alpha, password):
    client.get(reverse("login"))
    session = client.session
    session["before"] = "login"
    session.save()
    before = session.session_key
    client.cookies[settings.SESSION_COOKIE_NAME] = before
    assert login(client, "alpha.head", password).status_code == 302
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after and after != before


def test_logging_out_ends_the_session_on_the_server(client, alpha, password):
    login(client, "alpha.head", password)
    stolen = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post(reverse("logout"))
    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = stolen
    response = thief.get(reverse("home"))
    assert response.status_code == 302 and response.headers["Location"].startswith("/login/")


def test_sessions_expire_and_cookies_are_flagged_in_production():
    assert settings.SESSION_COOKIE_AGE == 12 * 60 * 60
    assert settings.SESSION_COOKIE_HTTPONLY and settings.CSRF_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    # SECURE, HSTS and the HTTPS redirect: the production profile's check --deploy
    # (tests/test_settings.py) fails on any of them missing.


@pytest.mark.parametrize("weak", ["short1", "12345678901", "password123", "alpha.newbie"])
def test_weak_passwords_are_refused_by_the_form_and_the_api(client, alpha, weak):
    client.force_login(alpha.admin)
    with tenancy.tenant_context(alpha.company):
        role = alpha.manager.sales_role
    form = {"username": "alpha.newbie", "first_name": "Н", "last_name": "Н", "role": "manager",
            "sales_role": role.pk, "password": weak}  # fmt: skip
    response = client.post(reverse("user-create"), form)
    assert response.status_code == 200 and "парол" in response.content.decode().lower()
    api = Client(headers={"Authorization": f"Token {alpha.api_key}"})
    refused = api.post(
        reverse("api-user-create"),
        {"username": "alpha.newbie", "role": "manager", "sales_role": str(role.code),
         "password": weak},
        content_type="application/json",
    )  # fmt: skip
    assert refused.status_code == 400 and "password" in refused.json()["fields"]
    with tenancy.tenant_context(alpha.company):
        assert not User.objects.filter(username="alpha.newbie").exists()


class Scripts(HTMLParser):
    """Every <script>'s attributes and every element attribute that would run script."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append(dict(attrs))
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.handlers.append(f"<{tag} {name}={value!r}>")


def pages_of(cast) -> list[str]:
    """Every page without an id, and every page with one of the cast's own ids."""
    with tenancy.tenant_context(cast.company):
        kpi_uid = str(KPI.objects.filter(company=cast.company).first().uid)
    own = {"code": str(cast.manager.code), "team": str(cast.team.code), "uid": kpi_uid}
    paths = []
    for route, name in all_patterns():
        if is_operator_console(route) or route.startswith(("/api/", "/i18n/")):
            continue
        if name in ("logout", "invitation-accept") or "hooks/" in route:
            continue
        path = fill(route, own)
        if path is not None:
            paths.append(path)
    return paths


@pytest.mark.parametrize("role", ["admin", "head", "manager", "quality"])
def test_every_page_runs_only_scripts_the_csp_allows(client, alpha, role):
    client.force_login(getattr(alpha, role))
    checked = 0
    for path in pages_of(alpha):
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response.headers["Content-Type"]:
            continue
        policy = response.headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0], path
        nonce = re.search(r"'nonce-([^']+)'", policy)
        parser = Scripts()
        parser.feed(response.content.decode())
        for script in parser.scripts:
            allowed = (
                script.get("src")
                or script.get("type") == "application/json"
                or (nonce and script.get("nonce") == nonce.group(1))
            )
            assert allowed, (path, script)
        assert parser.handlers == [], path
        checked += 1
    assert checked >= {"admin": 25, "head": 12, "manager": 4, "quality": 3}[role]


def test_pages_carry_the_security_headers(client, alpha):
    client.force_login(alpha.admin)
    response = client.get(reverse("home"))
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "frame-ancestors 'none'", "form-action 'self'"):
        assert directive in policy


def test_a_server_error_shows_no_stack_trace_or_detail(alpha):
    client = Client(raise_request_exception=False)
    with tenancy.tenant_context(alpha.company):
        client.force_login(alpha.admin)
    with mock.patch("accounts.views.render", side_effect=RuntimeError("secret detail 42")):
        response = client.get(reverse("home"))
    body = response.content.decode()
    assert response.status_code == 500
    assert "Traceback" not in body and "secret detail 42" not in body and "accounts" not in body


def test_an_unknown_address_lists_no_url_patterns(client, alpha):
    client.force_login(alpha.admin)
    response = client.get("/no-such-page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "api/v1" not in body and "URLconf" not in body


def test_the_api_answers_errors_as_json_without_internals(alpha):
    api = Client(headers={"Authorization": f"Token {alpha.api_key}"})
    response = api.post(reverse("api-team-create"), "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "Traceback" not in response.content.decode()
    anonymous = Client().get(reverse("api-me"))
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == "Token"


def test_uploads_are_limited_in_size(client, alpha):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from crm_sync import imports

    client.force_login(alpha.admin)
    big = SimpleUploadedFile("deals.csv", b"a" * (imports.MAX_FILE_BYTES + 1), "text/csv")
    response = client.post(reverse("import-list"), {"kind": "deals", "file": big})
    assert response.status_code in (200, 422)
    assert "МБ" in response.content.decode() or "больше" in response.content.decode()
    with tenancy.tenant_context(alpha.company):
        from crm_sync.models import ImportJob

        assert not ImportJob.objects.filter(
            file_name="deals.csv", content__startswith=b"a"
        ).exists()


def test_a_name_that_looks_like_a_formula_is_exported_to_excel_as_text(client, alpha):
    import io

    from openpyxl import load_workbook

    formula = '=HYPERLINK("http://example.com/x","Иван")'
    with tenancy.tenant_context(alpha.company):
        User.objects.filter(pk=alpha.manager.pk).update(first_name=formula, last_name="")
    client.force_login(alpha.head)
    response = client.get(reverse("dashboard-export"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value == formula]
    assert cells and all(cell.data_type == "s" for cell in cells)


def test_names_with_markup_are_escaped_in_pages(client, alpha):
    markup = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    with tenancy.tenant_context(alpha.company):
        Team.objects.filter(pk=alpha.team.pk).update(name=markup)
        User.objects.filter(pk=alpha.manager.pk).update(first_name=markup)
    client.force_login(alpha.admin)
    for name in ("team-list", "user-list", "dashboard", "team-reports"):
        body = client.get(reverse(name)).content.decode()
        assert markup not in body, name
        assert "&lt;script&gt;alert(" in body, name


def test_every_test_the_review_cites_exists():
    """docs/security.md names tests as `path::name` (or `::name` after a path in the same
    row): each must be a test function of that file, so the review cannot drift."""
    from tests.conftest import ROOT

    missing = []
    for line in (ROOT / "docs" / "security.md").read_text().splitlines():
        path = None
        for match in re.finditer(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`", line):
            path = match.group(1) or path
            name = match.group(2)
            if path is None:
                continue
            source = (ROOT / path).read_text() if (ROOT / path).exists() else ""
            if not source or (name and f"def {name}(" not in source):
                missing.append(f"{path}::{name}")
    assert missing == []
