"""Walks every URL the project has, so that new views are covered without being listed."""

import datetime
import re
import uuid

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts import tenancy
from accounts.models import TenantModel
from kpi.models import KPI

METHODS = ["get", "post", "put", "patch", "delete"]

# Reachable without login, each for a reason.
PUBLIC = {
    "login": "the login page",
    "healthz": "the health check for the load balancer",
    "set_language": "switching the language before logging in",
    "invitation-accept": "an invitation link, checked by its token",
    "admin:login": "the operator console's login page",
    "crm-hook-amocrm": "amoCRM's webhook, checked by the secret in its address",
    "crm-hook-bitrix24": "Bitrix24's webhook, checked by its application token",
    "favicon": "the icon browsers ask for on every site",
    "telegram-webhook": "Telegram's updates, checked by the secret token header",
    "signup": "a new company's sign-up (SIGNUP_ENABLED)",
    "signup-sent": "«check your mail» after a sign-up",
    "signup-confirm": "the sign-up's one-time link, checked by its signed token",
    "telephony-receive": "a PBX's call events, checked by the company token in the address",
}


def all_patterns() -> list[tuple[str, str | None]]:
    """(route with <converter:name> placeholders, url name) for every pattern."""

    def walk(patterns, prefix: str, namespace: str | None):  # type: ignore[no-untyped-def]
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                ns = pattern.namespace or namespace
                yield from walk(pattern.url_patterns, route, ns)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
                yield route, name

    return list(walk(get_resolver().url_patterns, "/", None))


# Path parameters that name an object (the others are dates: year, month).
OBJECT_PARAMS = {"code", "uid", "team", "company", "user", "token"}
TODAY = datetime.date.today()
DATE_PARAMS = {"year": str(TODAY.year), "month": str(TODAY.month)}


def params_of(route: str) -> set[str]:
    return set(re.findall(r"<(?:\w+:)?(\w+)>", route))


def names_objects(route: str) -> bool:
    return bool(params_of(route) & OBJECT_PARAMS)


def fill(route: str, values: dict[str, str]) -> str | None:
    """A concrete path for a route, or None for regex routes we cannot fill."""
    route = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
    if "(" in route:
        return None
    values = {**DATE_PARAMS, **values}
    return re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: values.get(m.group(2), "1"), route)


def is_operator_console(route: str) -> bool:
    return route.startswith("/operator/")


def codes_of(cast) -> list[str]:
    """One public code of each tenant model that has codes: every kind of object is tried."""
    codes = []
    with tenancy.tenant_context(cast.company):
        for model in apps.get_models():
            if not issubclass(model, TenantModel):
                continue
            for field in ("code", "uid"):
                if any(f.name == field for f in model._meta.fields):
                    codes += [str(c) for c in model.objects.values_list(field, flat=True)[:1]]
    return codes


def walk_request(client, user, method: str, path: str):  # type: ignore[no-untyped-def]
    """One request of a walk, made as `user`, and checked to have been made as `user`.

    The user logs in again only when a request ended or replaced the session (a logout-like
    view): logging in before each of the walk's thousands of requests (a session and an
    audit record each time) took more time than the requests themselves. A request that left
    the cookie alone must have run as the user, so nothing is ever walked anonymously."""
    cookie = settings.SESSION_COOKIE_NAME
    if client.cookies.get(cookie) is None or client.cookies[cookie].value != getattr(
        client, "walk_session", None
    ):
        client.force_login(user)
        client.walk_session = client.cookies[cookie].value
    response = getattr(client, method)(path, follow=False)
    kept = client.cookies.get(cookie)
    if kept is not None and kept.value == client.walk_session:
        # In the user's company: a view that never looked at its user leaves it to be read.
        with tenancy.tenant_context(user.company_id):
            assert response.wsgi_request.user.pk == user.pk, (method, path, "not as the user")
    return response


def test_it_walks_the_whole_project():
    names = {name for _route, name in all_patterns()}
    assert {"home", "user-edit", "team-edit", "api-user-detail", "api-schema"} <= names


def test_a_user_of_one_company_never_reaches_another_companys_objects(client, alpha, beta):
    foreign_codes = codes_of(beta)
    checked = 0
    for route, name in all_patterns():
        if is_operator_console(route) or not names_objects(route):
            continue
        for code in foreign_codes:
            values = dict.fromkeys(OBJECT_PARAMS, code)
            path = fill(route, {**values, "company": str(beta.company.code), "token": "x-y"})
            if path is None:
                continue
            for method in METHODS:
                response = walk_request(client, alpha.admin, method, path)
                body = response.content.decode(errors="replace")
                assert response.status_code in (403, 404, 405), (method, path, name)
                assert not [s for s in beta.secrets if s in body], (method, path)
                checked += 1
    assert checked > 100


def test_pages_without_ids_show_nothing_of_another_company(client, alpha, beta):
    for route, name in all_patterns():
        if is_operator_console(route) or names_objects(route):
            continue
        path = fill(route, {})
        for method in METHODS:
            response = walk_request(client, alpha.admin, method, path)
            body = response.content.decode(errors="replace")
            # /healthz answers 503 while no Celery worker runs (tests/accounts/test_health.py).
            assert response.status_code < 500 or name == "healthz", (method, path)
            assert not [s for s in beta.secrets if s in body], (method, path, name)


def test_every_view_requires_login_except_the_public_ones(client, alpha):
    with tenancy.tenant_context(alpha.company):
        kpi_uid = str(KPI.objects.filter(company=alpha.company).first().uid)
    own = {
        "code": str(alpha.manager.code),
        "user": str(alpha.manager.code),
        "company": str(alpha.company.code),
        "team": str(alpha.team.code),
        "uid": kpi_uid,
    }
    for route, name in all_patterns():
        if name in PUBLIC:
            continue
        path = fill(route, {**own, "token": "x-y"})
        if path is None:
            continue
        for method in METHODS:
            response = getattr(client, method)(path)
            location = response.headers.get("Location", "")
            if route.startswith("/api/"):
                assert response.status_code in (401, 403, 405), (method, path)
            elif is_operator_console(route):
                assert response.status_code in (302, 405), (method, path)
                if response.status_code == 302:
                    assert location.startswith("/operator/"), (method, path, location)
            else:
                assert response.status_code in (302, 405), (method, path)
                if response.status_code == 302:
                    assert location.startswith("/login/"), (method, path, location)


@pytest.mark.parametrize("user_attr", ["manager", "head", "quality"])
def test_company_admin_pages_refuse_other_roles(client, alpha, user_attr):
    client.force_login(getattr(alpha, user_attr))
    for name in ["user-list", "user-create", "team-list", "team-create", "sales-roles"]:
        assert client.get(reverse(name)).status_code == 403, name
    assert client.get(f"/company/users/{alpha.manager.code}/").status_code == 403
    assert client.get(f"/company/teams/{alpha.team.code}/").status_code == 403
    assert client.get(f"/company/users/{uuid.uuid4()}/").status_code == 404
