import pytest
from django.urls import reverse

from accounts import tenancy
from accounts.middleware import SESSION_COMPANY_KEY
from accounts.models import User


def login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_it_logs_in_and_remembers_the_company(client, alpha, beta, password):
    response = login(client, "alpha.head", password)
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("home")
    assert client.session[SESSION_COMPANY_KEY] == alpha.company.pk
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert alpha.company.name in home.content.decode()


def test_the_login_is_case_insensitive(client, alpha, password):
    assert login(client, "Alpha.Head", password).status_code == 302


def test_a_wrong_password_says_so_in_russian(client, alpha):
    response = login(client, "alpha.head", "wrong")
    assert response.status_code == 200
    assert "Неверный логин или пароль" in response.content.decode()
    assert SESSION_COMPANY_KEY not in client.session


def test_an_unknown_login_is_refused_the_same_way(client, alpha):
    response = login(client, "nobody", "wrong")
    assert "Неверный логин или пароль" in response.content.decode()


def test_a_deactivated_user_cannot_log_in(client, alpha, password):
    with tenancy.tenant_context(alpha.company):
        User.objects.filter(pk=alpha.manager.pk).update(is_active=False)
    assert login(client, alpha.manager.username, password).status_code == 200


def test_repeated_failures_lock_the_login(client, alpha, password):
    for _ in range(5):
        login(client, "alpha.head", "wrong")
    locked = login(client, "alpha.head", password)
    assert locked.status_code == 429
    assert "Слишком много неудачных попыток" in locked.content.decode()


def test_logout_needs_post_and_ends_the_session(client, alpha):
    client.force_login(alpha.head)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_the_session_cookie_is_http_only_and_csrf_is_enforced(alpha, password):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert login(strict, "alpha.head", password).status_code == 403
    page = strict.get(reverse("login"))
    token = page.cookies["csrftoken"].value
    response = strict.post(
        reverse("login"),
        {"username": "alpha.head", "password": password, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert response.cookies["sessionid"]["httponly"]
    assert response.cookies["sessionid"]["samesite"] == "Lax"


@pytest.mark.django_db
def test_an_operator_logs_into_the_console_and_sees_companies_only(client, alpha):
    from django.core.management import call_command

    call_command("createoperator", "root", "operator-password-1")
    response = client.post(
        "/operator/login/", {"username": "root", "password": "operator-password-1"}
    )
    assert response.status_code == 302
    companies = client.get("/operator/accounts/company/")
    assert companies.status_code == 200
    assert alpha.company.name in companies.content.decode()
    assert client.get(reverse("user-list")).status_code == 403
