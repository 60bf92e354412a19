"""The security audit log: what is recorded, by whom, from where, and who may read it."""

from django.urls import reverse

from accounts import tenancy
from accounts.models import AuditEvent


def events(company, action: str) -> list[AuditEvent]:
    with tenancy.tenant_context(company):
        return list(AuditEvent.objects.filter(company=company, action=action).order_by("id"))


def test_a_login_a_failed_login_and_a_logout_are_recorded_with_the_address(client, alpha, password):
    client.post(
        reverse("login"), {"username": "alpha.head", "password": "wrong"}, REMOTE_ADDR="10.1.2.3"
    )
    client.post(
        reverse("login"), {"username": "alpha.head", "password": password}, REMOTE_ADDR="10.1.2.3"
    )
    client.post(reverse("logout"), REMOTE_ADDR="10.1.2.4")
    [failed] = events(alpha.company, "login_failed")
    assert (failed.actor_name, failed.actor, failed.ip) == ("alpha.head", None, "10.1.2.3")
    [login] = events(alpha.company, "login")
    assert (login.actor_id, login.ip) == (alpha.head.pk, "10.1.2.3")
    [logout] = events(alpha.company, "logout")
    assert (logout.actor_id, logout.ip) == (alpha.head.pk, "10.1.2.4")


def test_a_locked_login_keeps_being_recorded(client, alpha, password):
    for _ in range(6):
        client.post(reverse("login"), {"username": "alpha.head", "password": "wrong"})
    assert len(events(alpha.company, "login_failed")) == 6


def test_an_unknown_login_writes_no_company_row(client, alpha, beta):
    client.post(reverse("login"), {"username": "nobody", "password": "x"})
    assert events(alpha.company, "login_failed") == events(beta.company, "login_failed") == []


def test_users_created_changed_and_deactivated_are_recorded_with_the_actor(client, alpha):
    client.force_login(alpha.admin)
    response = client.post(
        reverse("user-edit", args=[alpha.managers[1].code]),
        {"first_name": "П", "last_name": "М", "username": alpha.managers[1].username,
         "role": "manager", "sales_role": alpha.managers[1].sales_role_id, "team": alpha.team.pk},
    )  # fmt: skip
    assert response.status_code == 302
    [changed] = events(alpha.company, "user_changed")
    assert changed.actor_id == alpha.admin.pk
    assert changed.target.startswith(alpha.managers[1].username)
    assert "is_active: True → False" in changed.target
    created = events(alpha.company, "user_created")
    assert {e.target.split()[0] for e in created} >= {"alpha.admin", "alpha.manager1"}


def test_api_tokens_created_and_revoked_are_recorded(client, alpha):
    client.force_login(alpha.manager)
    client.post(reverse("profile"), {"name": "Скрипт"})
    with tenancy.tenant_context(alpha.company):
        token = alpha.manager.api_tokens.get()
    client.post(reverse("api-token-revoke", args=[token.code]))
    created = [e for e in events(alpha.company, "token_created") if "Скрипт" in e.target]
    [revoked] = events(alpha.company, "token_revoked")
    assert created[0].actor_id == revoked.actor_id == alpha.manager.pk
    assert token.prefix in revoked.target


def test_crm_connections_and_company_settings_are_recorded_without_secrets(
    client, alpha, telegram, settings
):
    settings.TELEGRAM_API_URL = telegram.url  # the new bot token is checked with getMe
    [crm] = events(alpha.company, "crm_saved")
    assert "example.amocrm.ru" in crm.target
    assert "t0ken" not in crm.target
    client.force_login(alpha.admin)
    client.post(
        reverse("company-settings"),
        {"name": alpha.company.name, "timezone": "Europe/Moscow", "report_backdate_days": "5",
         "reminder_time": "18:00", "telegram_bot_token": "123456:SECRET-bot-token-of-the-company",
         "long_call_seconds": "15", "missed_calls_limit": "3"},
    )  # fmt: skip
    [changed] = events(alpha.company, "settings_changed")
    assert changed.actor_id == alpha.admin.pk
    assert "report_backdate_days" in changed.target
    assert "telegram_bot_token" in changed.target
    assert "SECRET" not in changed.target


def test_only_the_companys_admins_read_its_log(client, alpha, beta, password):
    client.post(reverse("login"), {"username": "beta.head", "password": "wrong"})
    for user in (alpha.head, alpha.manager, alpha.quality):
        client.force_login(user)
        assert client.get(reverse("audit-log")).status_code == 403
    client.force_login(alpha.admin)
    page = client.get(reverse("audit-log")).content.decode()
    assert "alpha.manager1" in page
    assert "beta." not in page
    partial = client.get(
        reverse("audit-log"), {"action": "token_created"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "<html" not in partial
    assert "alpha.admin: CI" in partial
    assert "alpha.quality" not in partial
