"""The operators' console: its users are reached only in the operator context."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command

from accounts import tenancy
from accounts.middleware import SESSION_COMPANY_KEY
from accounts.models import User


@pytest.fixture
def operator(db: None) -> User:
    call_command("createoperator", "platform.root", "operator-password-1")
    with tenancy.operator_context():
        return User.objects.get(username="platform.root")


def test_an_operators_session_runs_in_the_operator_context(client, alpha, operator):
    response = client.post(
        "/operator/login/", {"username": "platform.root", "password": "operator-password-1"}
    )
    assert response.status_code == 302
    assert client.session[SESSION_COMPANY_KEY] == tenancy.OPERATOR
    assert client.get("/operator/").status_code == 200
    assert alpha.company.name in client.get("/operator/accounts/company/").content.decode()


@pytest.mark.parametrize("marker", [None, 0, "", "0"])
def test_a_session_without_the_operator_marker_does_not_reach_the_operator(
    client, operator, marker
):
    """No company is not the operator context: the operator's row is not found, nobody is
    logged in (0 was the marker of an older release)."""
    session = client.session
    session[SESSION_KEY] = str(operator.pk)
    session["_auth_user_backend"] = "accounts.backends.TenantModelBackend"
    session["_auth_user_hash"] = operator.get_session_auth_hash()
    session[SESSION_COMPANY_KEY] = marker
    session.save()
    response = client.get("/operator/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/operator/login/")


def test_a_company_user_cannot_enter_the_console(client, alpha, password):
    response = client.post("/operator/login/", {"username": "alpha.admin", "password": password})
    assert response.status_code == 200
    assert client.get("/operator/").status_code == 302


@pytest.mark.parametrize("path", ["/", "/me/", "/quality/scores/", "/dashboard/"])
def test_an_operator_opening_a_companys_page_is_refused_with_the_reason(client, operator, path):
    client.post(
        "/operator/login/", {"username": "platform.root", "password": "operator-password-1"}
    )
    response = client.get(path)
    assert response.status_code == 403  # was a 500: the operator has no company
    assert "консоли операторов" in response.content.decode()
