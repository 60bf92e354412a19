from django.urls import reverse

from accounts import tenancy
from accounts.models import SalesRole, Team, User
from tests.factories import UserFactory


def test_the_admin_lists_only_own_company_users(client, alpha, beta):
    client.force_login(alpha.admin)
    body = client.get(reverse("user-list")).content.decode()
    assert "alpha.manager1" in body
    assert "beta." not in body


def test_the_role_filter_returns_the_table_partial_to_htmx(client, alpha):
    client.force_login(alpha.admin)
    response = client.get(reverse("user-list"), {"role": "head"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<table class="table" id="user-table">')
    assert "alpha.head" in body
    assert "alpha.manager1" not in body


def test_the_admin_creates_a_manager_who_can_log_in(client, alpha):
    client.force_login(alpha.admin)
    with tenancy.tenant_context(alpha.company):
        closer = SalesRole.objects.get(company=alpha.company, kind=SalesRole.Kind.CLOSER)
    response = client.post(
        reverse("user-create"),
        {
            "first_name": "Вера",
            "last_name": "Новая",
            "username": "alpha.vera",
            "role": "manager",
            "team": alpha.team.pk,
            "sales_role": closer.pk,
            "password": "Sunny-Meadow-42",
        },
    )
    assert response.status_code == 302
    with tenancy.tenant_context(alpha.company):
        vera = User.objects.get(username="alpha.vera")
        assert (vera.team, vera.sales_role, vera.company) == (alpha.team, closer, alpha.company)
    client.post(reverse("logout"))
    login = client.post(reverse("login"), {"username": "alpha.vera", "password": "Sunny-Meadow-42"})
    assert login.status_code == 302


def test_a_manager_without_a_sales_role_is_refused_with_the_reason(client, alpha):
    client.force_login(alpha.admin)
    response = client.post(
        reverse("user-create"),
        {"first_name": "А", "last_name": "Б", "username": "alpha.x", "role": "manager",
         "password": "Sunny-Meadow-42"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "У менеджера должна быть роль в продажах" in response.content.decode()


def test_a_taken_login_of_the_own_company_is_named(client, alpha):
    client.force_login(alpha.admin)
    response = client.post(
        reverse("user-create"),
        {"first_name": "А", "last_name": "Б", "username": "alpha.head", "role": "quality",
         "password": "Sunny-Meadow-42"},
    )  # fmt: skip
    assert "Логин «alpha.head» уже занят." in response.content.decode()


def test_a_form_cannot_pick_another_companys_team(client, alpha, beta):
    client.force_login(alpha.admin)
    response = client.post(
        reverse("user-edit", args=[alpha.manager.code]),
        {"first_name": "А", "last_name": "Б", "username": alpha.manager.username,
         "role": "manager", "team": beta.team.pk, "sales_role": alpha.manager.sales_role_id,
         "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Выберите корректный вариант" in response.content.decode()
    with tenancy.tenant_context(alpha.company):
        assert User.objects.get(pk=alpha.manager.pk).team_id == alpha.team.pk


def test_an_admin_cannot_lock_themselves_out(client, alpha):
    client.force_login(alpha.admin)
    response = client.post(
        reverse("user-edit", args=[alpha.admin.code]),
        {"first_name": "А", "last_name": "Б", "username": "alpha.admin", "role": "quality"},
    )
    assert "Нельзя снять права администратора" in response.content.decode()


def test_a_head_of_sales_may_also_be_an_admin(client, alpha):
    client.force_login(alpha.admin)
    response = client.post(
        reverse("user-edit", args=[alpha.head.code]),
        {"first_name": "Г", "last_name": "Р", "username": "alpha.head", "role": "head",
         "is_company_admin": "on", "team": alpha.team.pk, "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    client.force_login(alpha.head)
    assert client.get(reverse("user-list")).status_code == 200


def test_team_warnings_above_seven_and_below_three(client, alpha):
    client.force_login(alpha.admin)
    body = client.get(reverse("team-list")).content.decode()
    assert "не более чем с 7" not in body
    assert "нужно хотя бы 3" not in body
    for i in range(5):
        UserFactory(company=alpha.company, username=f"alpha.extra{i}", team=alpha.team)
    body = client.get(reverse("team-list")).content.decode()
    assert f"У руководителя {alpha.head} 8 менеджеров" in body
    assert "не более чем с 7" in body
    with tenancy.tenant_context(alpha.company):
        User.objects.filter(role=User.Role.MANAGER).exclude(pk=alpha.manager.pk).update(
            is_active=False
        )
    body = client.get(reverse("team-list")).content.decode()
    assert "В отделе 1 менеджеров, а нужно хотя бы 3" in body


def test_the_span_counts_every_team_a_head_leads(client, alpha):
    from tests.factories import TeamFactory

    second = TeamFactory(company=alpha.company, name="Вторая", head=alpha.head)
    for i in range(5):
        UserFactory(company=alpha.company, username=f"alpha.second{i}", team=second)
    client.force_login(alpha.admin)
    body = client.get(reverse("team-list")).content.decode()
    assert f"У руководителя {alpha.head} 8 менеджеров" in body


def test_the_admin_creates_and_edits_a_team(client, alpha):
    client.force_login(alpha.admin)
    assert client.post(reverse("team-create"), {"name": "Регионы"}).status_code == 302
    with tenancy.tenant_context(alpha.company):
        team = Team.objects.get(name="Регионы")
    response = client.post(
        reverse("team-edit", args=[team.code]), {"name": "Регионы", "head": alpha.head.pk}
    )
    assert response.status_code == 302
    with tenancy.tenant_context(alpha.company):
        assert Team.objects.get(pk=team.pk).head == alpha.head


def test_a_team_is_led_by_a_head_of_sales(client, alpha):
    client.force_login(alpha.admin)
    response = client.post(reverse("team-create"), {"name": "X", "head": alpha.manager.pk})
    assert response.status_code == 200
    assert "Выберите корректный вариант" in response.content.decode()


def test_sales_roles_are_added_inline_with_htmx(client, alpha):
    client.force_login(alpha.admin)
    response = client.post(
        reverse("sales-roles"), {"name": "Аккаунт-менеджер"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="roles">')
    assert "Аккаунт-менеджер" in body
    again = client.post(
        reverse("sales-roles"), {"name": "аккаунт-менеджер"}, headers={"HX-Request": "true"}
    )
    assert "Такая роль уже есть." in again.content.decode()


def test_the_admin_sets_the_report_window_and_reminder_time(client, alpha):
    client.force_login(alpha.admin)
    response = client.post(
        reverse("company-settings"),
        {"name": "Альфа", "timezone": "Asia/Yekaterinburg", "report_backdate_days": "5",
         "reminder_time": "19:30", "telegram_bot_token": "", "long_call_seconds": "20",
         "missed_calls_limit": "4"},
    )  # fmt: skip
    assert response.status_code == 302
    alpha.company.refresh_from_db()
    assert alpha.company.report_backdate_days == 5
    assert alpha.company.reminder_time.hour == 19
    assert alpha.company.timezone == "Asia/Yekaterinburg"
    assert (alpha.company.long_call_seconds, alpha.company.missed_calls_limit) == (20, 4)
    client.force_login(alpha.head)
    assert client.get(reverse("company-settings")).status_code == 403
