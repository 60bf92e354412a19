"""A company signs itself up: the form, the one-time link, the company it makes."""

import datetime
import re

import pytest
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import services, tenancy
from accounts.models import Company, LoginName, PendingSignup, SalesRole, User
from crm_sync.models import PipelineStage
from kpi.models import KPI, RoleKPI

PASSWORD = "Sunny-Meadow-42"
FORM = {
    "company_name": "ООО «Ромашка Продаж»",
    "timezone": "Asia/Vladivostok",
    "email": "Olga@Romashka.example",
    "password": PASSWORD,
}


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    # The counters live in the cache (Redis), which outlives a test's transaction.
    cache.clear()


def _start(**changes: str) -> PendingSignup | None:
    data = {**FORM, **changes}
    services.signup_start(**data, ip="192.0.2.1")
    return PendingSignup.objects.filter(email=data["email"].strip().lower()).first()


def _token(pending: PendingSignup) -> str:
    return services.signup_confirm_url(pending=pending).rstrip("/").rsplit("/", 1)[1]


@pytest.mark.django_db
def test_signing_up_creates_nothing_usable_until_the_email_is_confirmed():
    pending = _start()
    assert pending is not None
    assert pending.email == "olga@romashka.example"
    assert PASSWORD not in pending.password  # a hash
    assert not Company.objects.filter(name=FORM["company_name"]).exists()
    assert not LoginName.objects.filter(username="olga@romashka.example").exists()


@pytest.mark.django_db
def test_confirming_creates_the_company_as_company_create_does_with_its_first_admin():
    pending = _start()
    admin = services.signup_confirm(token=_token(pending))
    company = admin.company
    assert company.name == FORM["company_name"]
    assert company.timezone == "Asia/Vladivostok"
    assert company.login_prefix == "romashka-prodazh"
    with tenancy.tenant_context(company):
        assert admin.username == "olga@romashka.example"
        assert admin.role == User.Role.ADMIN and admin.check_password(PASSWORD)
        assert not admin.must_change_password
        kinds = set(SalesRole.objects.filter(company=company).values_list("kind", flat=True))
        assert kinds == {"hunter", "closer", "farmer"}
        assert KPI.objects.filter(company=company).count() >= 10
        assert RoleKPI.objects.filter(company=company).count() >= 6
        assert PipelineStage.objects.filter(company=company).exists()


@pytest.mark.django_db
def test_a_link_works_once_and_not_when_forged_or_expired(settings):
    pending = _start()
    token = _token(pending)
    services.signup_confirm(token=token)
    with pytest.raises(services.SignupError, match="уже использована"):
        services.signup_confirm(token=token)
    with pytest.raises(services.SignupError, match="неверна"):
        services.signup_confirm(token=token[:-2] + "xx")
    other = _start(email="late@example.com")
    stale = signing.TimestampSigner(salt=services.SIGNUP_SALT)
    old = datetime.datetime.now() - datetime.timedelta(hours=settings.SIGNUP_LINK_HOURS + 1)
    stale.timestamp = lambda: signing.b62_encode(int(old.timestamp()))  # type: ignore[method-assign]
    expired = stale.sign_object(str(other.code))
    with pytest.raises(services.SignupError, match="устарела"):
        services.signup_confirm(token=expired)
    assert Company.objects.filter(name=FORM["company_name"]).count() == 1


@pytest.mark.django_db
def test_a_taken_email_makes_no_sign_up_and_the_form_says_nothing_more(alpha):
    with tenancy.tenant_context(alpha.company):
        services.user_update(user=alpha.head, actor=alpha.admin, username="head@alpha.example")
    assert _start(email="Head@Alpha.example") is None


@pytest.mark.django_db
def test_a_weak_password_is_refused_with_the_validators_messages():
    with pytest.raises(ValidationError) as refused:
        _start(password="12345678")
    messages = " ".join(refused.value.message_dict["password"])
    assert "слишком" in messages.lower() or "распространён" in messages
    with pytest.raises(ValidationError):
        _start(password="olga@romashka")  # too like the e-mail, and short


@pytest.mark.django_db
def test_sign_up_is_rate_limited_per_email_and_per_address(settings):
    settings.SIGNUP_RATE_PER_EMAIL = 2
    settings.SIGNUP_RATE_PER_IP = 4
    _start()
    _start()
    with pytest.raises(services.SignupError, match="Слишком много попыток"):
        _start()
    _start(email="a@example.com")
    with pytest.raises(services.SignupError, match="Слишком много попыток"):
        _start(email="b@example.com")  # the address's fifth


# --- The pages ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_login_page_links_to_sign_up_unless_it_is_turned_off(client, settings):
    assert "Зарегистрировать компанию" in client.get(reverse("login")).content.decode()
    assert client.get(reverse("signup")).status_code == 200
    settings.SIGNUP_ENABLED = False
    assert "Зарегистрировать компанию" not in client.get(reverse("login")).content.decode()
    assert client.get(reverse("signup")).status_code == 404
    assert client.post(reverse("signup"), FORM).status_code == 404
    token = signing.dumps("00000000-0000-0000-0000-000000000000", salt=services.SIGNUP_SALT)
    assert client.get(reverse("signup-confirm", args=[token])).status_code == 404


@pytest.mark.django_db
def test_the_form_shows_the_password_validators_and_the_rate_limit(client, settings):
    weak = client.post(reverse("signup"), {**FORM, "password": "password"})
    assert weak.status_code == 200
    assert "распространён" in weak.content.decode()
    settings.SIGNUP_RATE_PER_IP = 1
    assert client.post(reverse("signup"), FORM).status_code == 302
    limited = client.post(reverse("signup"), {**FORM, "email": "x@example.com"})
    assert limited.status_code == 429
    assert "Слишком много попыток регистрации" in limited.content.decode()


@pytest.mark.django_db
def test_the_form_answers_the_same_for_a_taken_email(client, alpha):
    with tenancy.tenant_context(alpha.company):
        services.user_update(user=alpha.head, actor=alpha.admin, username="head@alpha.example")
    taken = client.post(reverse("signup"), {**FORM, "email": "head@alpha.example"})
    assert taken.status_code == 302 and taken.url == reverse("signup-sent")
    assert "head@alpha.example" in client.get(taken.url).content.decode()


@pytest.mark.django_db
def test_opening_the_link_asks_and_the_button_creates_logs_in_and_lands_home(client):
    client.post(reverse("signup"), FORM)
    pending = PendingSignup.objects.get(email="olga@romashka.example")
    path = reverse("signup-confirm", args=[_token(pending)])
    page = client.get(path)
    assert "Подтвердить и создать компанию" in page.content.decode()
    assert not Company.objects.filter(name=FORM["company_name"]).exists()  # a GET makes nothing
    done = client.post(path)
    assert done.status_code == 302 and done.url == reverse("home")
    home = client.get(reverse("home")).content.decode()
    assert "Ваш логин: olga@romashka.example" in home
    client.post(reverse("logout"))
    used = client.get(path)
    assert used.status_code == 404 and "уже использована" in used.content.decode()
    # The e-mail and password log in.
    login = client.post(
        reverse("login"), {"username": "OLGA@romashka.example", "password": PASSWORD}
    )
    assert login.status_code == 302


@pytest.mark.django_db(transaction=True)
def test_the_confirmation_and_the_already_registered_note_go_out_by_mail(client, clear_mail):
    client.post(reverse("signup"), FORM)
    (mail,) = clear_mail.sent_mail()
    assert mail["To"] == "olga@romashka.example"
    assert mail["Subject"] == "Подтвердите регистрацию в Salesdesk"
    path = re.search(r"http://127\.0\.0\.1:8000(/signup/confirm/\S+/)", mail.get_content())[1]
    assert client.post(path).status_code == 302
    for file in clear_mail.mail_dir.glob("*"):
        file.unlink()
    client.post(reverse("logout"))
    client.post(reverse("signup"), {**FORM, "company_name": "Вторая"})
    (note,) = clear_mail.sent_mail()
    assert note["Subject"] == "Salesdesk: у вас уже есть учётная запись"
    assert "olga@romashka.example" in note.get_content()
    assert not Company.objects.filter(name="Вторая").exists()
