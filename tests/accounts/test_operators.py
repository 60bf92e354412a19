"""Operators: a company with its first admin (command and console, one service), suspend,
and delete after export."""

import gzip
import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts import services, tenancy
from accounts.models import Company, LoginName, SalesRole, User
from kpi.models import RoleKPI
from tests.conftest import PASSWORD


@pytest.fixture
def operator_client(client, db: None):
    call_command("createoperator", "platform.root", "operator-password-1")
    with tenancy.operator_context():
        operator = User.objects.get(username="platform.root")
    client.force_login(operator)
    return client


@pytest.mark.django_db(transaction=True)
def test_the_command_creates_the_company_and_invites_its_first_admin(clear_mail, capsys):
    call_command(
        "createcompany",
        "--name=ТД «Восток»",
        "--admin-email=Boss@Vostok.example",
        "--time-zone=Asia/Vladivostok",
    )
    company = Company.objects.get(name="ТД «Восток»")
    assert company.timezone == "Asia/Vladivostok" and company.login_prefix == "vostok"
    assert "boss@vostok.example" in capsys.readouterr().out
    with tenancy.tenant_context(company):
        admin = User.objects.get(company=company)
        assert admin.username == "boss@vostok.example" and admin.role == User.Role.ADMIN
        assert not admin.has_usable_password()
        assert SalesRole.objects.filter(company=company).count() == 3
        assert RoleKPI.objects.filter(company=company).exists()
    (mail,) = clear_mail.sent_mail()
    assert mail["To"] == "boss@vostok.example"
    assert "Ваш логин: boss@vostok.example" in mail.get_content()
    assert re.search(r"/invite/\S+/", mail.get_content())


def test_the_command_refuses_a_taken_login_clearly(alpha):
    call_command("createcompany", "--name=X", "--admin-email=boss@x.example")
    with pytest.raises(CommandError, match="логин"):
        call_command("createcompany", "--name=Y", "--admin-email=Boss@X.example")
    assert not Company.objects.filter(name="Y").exists()


@pytest.mark.django_db
def test_the_console_add_form_calls_the_same_service(
    operator_client, django_capture_on_commit_callbacks
):
    page = operator_client.get(reverse("admin:accounts_company_add"))
    assert "E-mail первого администратора" in page.content.decode()
    with django_capture_on_commit_callbacks() as queued:
        done = operator_client.post(
            reverse("admin:accounts_company_add"),
            {"name": "Запад", "timezone": "Europe/Kaliningrad", "admin_email": "a@zapad.example"},
        )
    assert done.status_code == 302
    company = Company.objects.get(name="Запад")
    assert company.login_prefix == "zapad"
    assert LoginName.objects.get(username="a@zapad.example").company_id == company.pk
    assert len(queued) == 1  # the invitation
    with tenancy.tenant_context(company):
        assert SalesRole.objects.filter(company=company).count() == 3


def test_a_suspended_companys_people_cannot_log_in_and_their_sessions_end(
    client, operator_client, alpha, beta
):
    from tests.conftest import TenantClient

    member = TenantClient()
    member.force_login(alpha.head)
    assert member.get(reverse("home")).status_code == 200
    operator_client.post(reverse("admin:accounts_company_suspension", args=[alpha.company.pk]))
    alpha.company.refresh_from_db()
    assert alpha.company.suspended_at is not None
    assert member.get(reverse("home")).status_code == 302  # back to the login page
    refused = TenantClient().post(
        reverse("login"), {"username": alpha.head.username, "password": PASSWORD}
    )
    assert refused.status_code == 200
    assert "приостановлена" in refused.content.decode()
    wrong = TenantClient().post(
        reverse("login"), {"username": alpha.head.username, "password": "x"}
    )
    assert "Неверный логин или пароль" in wrong.content.decode()
    api = TenantClient().get("/api/v1/kpis/", HTTP_AUTHORIZATION=f"Token {alpha.api_key}")
    assert api.status_code == 401
    # The other company goes on; the data stays and comes back.
    other = TenantClient().post(
        reverse("login"), {"username": beta.head.username, "password": PASSWORD}
    )
    assert other.status_code == 302
    operator_client.post(reverse("admin:accounts_company_suspension", args=[alpha.company.pk]))
    back = TenantClient().post(
        reverse("login"), {"username": alpha.head.username, "password": PASSWORD}
    )
    assert back.status_code == 302
    assert (
        TenantClient().get("/api/v1/kpis/", HTTP_AUTHORIZATION=f"Token {alpha.api_key}").status_code
        == 200
    )


def test_a_company_is_deleted_only_after_an_export_and_its_name_typed(operator_client, alpha, beta):
    remove = reverse("admin:accounts_company_delete_after_export", args=[alpha.company.pk])
    first = operator_client.post(remove, {"typed_name": alpha.company.name})
    assert "Сначала скачайте выгрузку" in first.content.decode()
    assert Company.objects.filter(pk=alpha.company.pk).exists()
    download = operator_client.get(
        reverse("admin:accounts_company_export", args=[alpha.company.pk])
    )
    assert download.status_code == 200
    data = json.loads(gzip.decompress(b"".join(download.streaming_content)))
    assert data["company"]["fields"]["name"] == alpha.company.name
    assert any(table["rows"] for table in data["tables"])
    mistyped = operator_client.post(remove, {"typed_name": "Альфа"})
    assert "Название введено неверно" in mistyped.content.decode()
    assert Company.objects.filter(pk=alpha.company.pk).exists()
    done = operator_client.post(remove, {"typed_name": alpha.company.name})
    assert done.status_code == 302
    assert not Company.objects.filter(pk=alpha.company.pk).exists()
    assert not LoginName.objects.filter(company_id=alpha.company.pk).exists()
    with tenancy.tenant_context(beta.company):
        assert User.objects.filter(company=beta.company).count() == 6


def test_the_console_offers_no_delete_without_the_export(operator_client, alpha):
    listing = operator_client.get(reverse("admin:accounts_company_changelist")).content.decode()
    assert "Скачать выгрузку" in listing and "Приостановить" in listing
    assert 'value="delete_selected"' not in listing


def test_the_service_refuses_a_delete_without_an_export(alpha):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="выгрузку"):
        services.company_delete_after_export(company=alpha.company, typed_name=alpha.company.name)
