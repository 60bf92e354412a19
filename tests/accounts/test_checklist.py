"""The first-run checklist of a new company's admin: computed from the data, gone when done."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from accounts import selectors, services, tenancy
from accounts.models import SalesRole, User
from kpi import services as kpi_services
from kpi.models import KPI


def _state(company) -> dict[str, bool]:
    company.refresh_from_db()
    with tenancy.tenant_context(company):
        return {item.key: item.done for item in selectors.setup_checklist(company=company)}


@pytest.mark.django_db
def test_a_new_company_walks_its_checklist_in_order_until_it_disappears():
    admin = services.company_open(
        name="Чек-лист", timezone="Europe/Moscow", admin_email="admin@check.example",
        admin_password_hash="!",
    )  # fmt: skip
    company = admin.company
    state = _state(company)
    assert list(state) == ["roles", "team", "plans", "crm", "telephony"]
    assert state == {"roles": True, "team": False, "plans": False, "crm": False, "telephony": False}
    with tenancy.tenant_context(company):
        hunter = SalesRole.objects.get(company=company, kind=SalesRole.Kind.HUNTER)
        head = services.user_create(
            company=company, username=f"{company.login_prefix}.head", password=None,
            email="head@check.example", role=User.Role.HEAD, actor=admin,
        )  # fmt: skip
        team = services.team_create(company=company, name="Продажи", head=head, actor=admin)
        manager = services.user_create(
            company=company, username=f"{company.login_prefix}.ivan", password=None,
            email="ivan@check.example", team=team, sales_role=hunter, actor=admin,
        )  # fmt: skip
    assert _state(company)["team"] is False  # invitations not yet accepted
    with tenancy.tenant_context(company):
        for person in (head, manager):
            person.set_password("Sunny-Meadow-42")
            person.save()
    assert _state(company)["team"] is True
    assert _state(company)["plans"] is False
    with tenancy.tenant_context(company):
        calls = KPI.objects.get(company=company, code="calls")
        kpi_services.plan_set(
            company=company, kpi=calls, start=company.today(), value=Decimal(1000),
            sales_role=hunter,
        )  # fmt: skip
    assert _state(company)["plans"] is True
    # The optional items are left: dismissed, the checklist is gone.
    with tenancy.tenant_context(company):
        services.checklist_dismiss(company=company, item="crm", actor=admin)
        services.checklist_dismiss(company=company, item="telephony", actor=admin)
    assert _state(company) == {}


def test_only_admins_see_it_and_only_optional_items_are_skipped(client, alpha):
    with tenancy.tenant_context(alpha.company):
        items = selectors.setup_checklist(company=alpha.company)
    assert items  # the cast has no CRM connection made by the admin
    client.force_login(alpha.admin)
    home = client.get(reverse("home")).content.decode()
    assert "Что осталось настроить" in home
    refused = client.post(reverse("checklist-dismiss", args=["plans"]), follow=True)
    assert "Этот пункт нельзя пропустить" in refused.content.decode()
    client.force_login(alpha.managers[0])
    assert "Что осталось настроить" not in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_the_telephony_item_offers_connecting_the_pbx_and_the_file_as_the_alternative(client):
    admin = services.company_open(
        name="Телефония", timezone="Europe/Moscow", admin_email="admin@pbx.example",
        admin_password_hash="!",
    )  # fmt: skip
    client.force_login(admin)
    home = client.get(reverse("home")).content.decode()
    item = home[
        home.index("Подключить телефонию") - 200 : home.index("Загрузить файл звонков") + 40
    ]
    assert f'href="{reverse("telephony-connections")}"' in item
    assert f'href="{reverse("import-list")}"' in item
    assert "Загрузить звонки телефонии" not in home
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(reverse("home")).content.decode()
    assert "Connect the telephony (optional)" in english and "Import a file of calls" in english
    with tenancy.tenant_context(admin.company):
        from telephony import services as telephony_services

        telephony_services.connection_create(company=admin.company, vendor="sipuni", actor=admin)
    assert _state(admin.company)["telephony"] is True
