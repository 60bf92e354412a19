"""A temporary password is replaced at first login; a new employee defaults to manager."""

from django.test import Client
from django.urls import reverse

from accounts import tenancy
from accounts.models import AuditEvent, SalesRole, User

TEMPORARY = "Sunny-Meadow-42"
OWN = "Quiet-River-Stone-7"


def create_with_temporary_password(client, cast, username: str) -> None:
    client.force_login(cast.admin)
    with tenancy.tenant_context(cast.company):
        hunter = SalesRole.objects.get(company=cast.company, kind=SalesRole.Kind.HUNTER)
    response = client.post(
        reverse("user-create"),
        {"first_name": "Вера", "last_name": "Новая", "username": username, "role": "manager",
         "sales_role": hunter.pk, "password": TEMPORARY},
    )  # fmt: skip
    assert response.status_code == 302
    client.post(reverse("logout"))


def the_user(cast, username: str) -> User:
    with tenancy.tenant_context(cast.company):
        return User.objects.get(username=username)


def test_the_first_login_with_a_temporary_password_asks_for_a_new_one(client, alpha):
    create_with_temporary_password(client, alpha, "alpha.vera")
    assert the_user(alpha, "alpha.vera").must_change_password
    login = client.post(reverse("login"), {"username": "alpha.vera", "password": TEMPORARY})
    assert login.status_code == 302
    home = client.get(login.headers["Location"])
    assert home.headers["Location"] == reverse("password-change")
    # Every other page leads there too, and comes back after.
    report = client.get(reverse("report-today"))
    assert report.headers["Location"] == reverse("password-change") + "?next=%2Freport%2F"
    assert client.get(reverse("profile")).status_code == 302
    htmx = client.get(reverse("my-kpis"), headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"].startswith(reverse("password-change"))
    api = client.get("/api/v1/me/")
    assert api.status_code == 403
    assert api.json()["message"] == "Сначала смените временный пароль."
    page = client.get(reverse("password-change"))
    assert "Вы вошли с временным паролем" in page.content.decode()

    wrong_old = client.post(
        reverse("password-change"),
        {"old_password": "nope", "new_password1": OWN, "new_password2": OWN},
    )
    assert wrong_old.status_code == 200
    same = client.post(
        reverse("password-change"),
        {"old_password": TEMPORARY, "new_password1": TEMPORARY, "new_password2": TEMPORARY},
    )
    assert "Новый пароль должен отличаться от прежнего." in same.content.decode()
    weak = client.post(
        reverse("password-change"),
        {"old_password": TEMPORARY, "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert weak.status_code == 200
    assert the_user(alpha, "alpha.vera").must_change_password

    done = client.post(
        reverse("password-change") + "?next=/report/",
        {"old_password": TEMPORARY, "new_password1": OWN, "new_password2": OWN},
    )
    assert done.headers["Location"] == "/report/"
    # The session survives the change; everything is reachable again.
    assert client.get(reverse("home")).status_code == 200
    assert client.get("/api/v1/me/").status_code == 200
    vera = the_user(alpha, "alpha.vera")
    assert not vera.must_change_password
    assert vera.check_password(OWN)
    with tenancy.tenant_context(alpha.company):
        assert AuditEvent.objects.filter(action="password_set", target="alpha.vera").exists()
    client.post(reverse("logout"))
    assert (
        Client().post(reverse("login"), {"username": "alpha.vera", "password": OWN}).status_code
        == 302
    )


def test_an_outside_next_is_not_followed(client, alpha):
    create_with_temporary_password(client, alpha, "alpha.vera")
    client.post(reverse("login"), {"username": "alpha.vera", "password": TEMPORARY})
    done = client.post(
        reverse("password-change") + "?next=https://evil.example/",
        {"old_password": TEMPORARY, "new_password1": OWN, "new_password2": OWN},
    )
    assert done.headers["Location"] == reverse("home")


def test_logging_out_and_the_language_switch_stay_reachable(client, alpha):
    create_with_temporary_password(client, alpha, "alpha.vera")
    client.post(reverse("login"), {"username": "alpha.vera", "password": TEMPORARY})
    assert client.post(reverse("set_language"), {"language": "en", "next": "/"}).status_code == 302
    assert client.post(reverse("logout")).headers["Location"] == reverse("login")


def test_an_api_created_user_with_a_password_changes_it_too_and_defaults_to_manager(alpha):
    api = Client(headers={"Authorization": f"Token {alpha.api_key}"})
    with tenancy.tenant_context(alpha.company):
        hunter = SalesRole.objects.get(company=alpha.company, kind=SalesRole.Kind.HUNTER)
    response = api.post(
        "/api/v1/users/create/",
        {"username": "alpha.api", "password": TEMPORARY, "sales_role": str(hunter.code)},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["role"] == "manager"
    assert the_user(alpha, "alpha.api").must_change_password


def test_the_cast_and_any_user_can_change_their_password_from_the_profile(client, alpha, password):
    client.force_login(alpha.head)
    assert not alpha.head.must_change_password
    assert client.get(reverse("home")).status_code == 200
    assert reverse("password-change") in client.get(reverse("profile")).content.decode()


def test_the_new_employee_form_starts_on_manager(client, alpha):
    client.force_login(alpha.admin)
    body = client.get(reverse("user-create")).content.decode()
    assert '<option value="manager" selected>' in body
    assert '<option value="admin" selected>' not in body
