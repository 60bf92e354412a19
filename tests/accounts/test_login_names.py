"""Logins are unique across companies, yet no company learns another's from a refusal."""

import importlib
import re

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts import services, tenancy
from accounts.models import Company, User
from tests.factories import CompanyFactory, UserFactory

NAMESPACE = "Логины сотрудников компании начинаются с «alpha.», например alpha.ivanov."
UNUSABLE = "Этот логин нельзя использовать: выберите другой."


def create_form_answer(client, username: str) -> str:
    response = client.post(
        reverse("user-create"),
        {"first_name": "А", "last_name": "Б", "username": username, "role": "quality",
         "password": "Sunny-Meadow-42"},
    )  # fmt: skip
    assert response.status_code == 200
    return response.content.decode()


def refusals(body: str) -> list[str]:
    return re.findall(r'role="alert">(.*?)</', body, re.S)


def test_another_companys_login_is_refused_exactly_like_a_free_one(client, alpha, beta):
    client.force_login(alpha.admin)
    existing = create_form_answer(client, "beta.head")
    missing = create_form_answer(client, "beta.nobody")
    assert NAMESPACE in existing and NAMESPACE in missing
    assert "занят" not in existing
    assert refusals(existing) == refusals(missing) == [NAMESPACE]


def test_the_new_employee_form_starts_in_the_companys_namespace(client, alpha):
    client.force_login(alpha.admin)
    body = client.get(reverse("user-create")).content.decode()
    assert 'value="alpha."' in body
    assert "Начинается с «alpha.», например alpha.ivanov." in body


def test_the_api_refuses_the_same_way(alpha, beta):
    api = Client(headers={"Authorization": f"Token {alpha.api_key}"})
    answers = [
        api.post(
            reverse("api-user-create"),
            {"username": login, "password": "Sunny-Meadow-42", "role": "quality"},
            content_type="application/json",
        )
        for login in ("beta.admin", "beta.nobody")
    ]
    assert [answer.status_code for answer in answers] == [400, 400]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["fields"] == {"username": [NAMESPACE]}


def test_renaming_into_another_namespace_is_refused_and_a_legacy_login_stays(alpha, beta):
    with tenancy.tenant_context(alpha.company):
        User.objects.filter(pk=alpha.quality.pk).update(username="legacy-quality")
        legacy = User.objects.get(pk=alpha.quality.pk)
        # Editing something else keeps a login made before the namespace.
        services.user_update(
            user=legacy, actor=alpha.admin, username="legacy-quality", first_name="Новое"
        )
        for login in ("beta.head", "beta.nobody"):
            with pytest.raises(ValidationError) as refused:
                services.user_update(user=legacy, actor=alpha.admin, username=login)
            assert refused.value.message_dict == {"username": [NAMESPACE]}


def test_a_company_without_a_namespace_cannot_probe_one_that_has_it(beta):
    gamma = CompanyFactory(name="Гамма")
    with tenancy.tenant_context(gamma):
        for login in ("beta.head", "beta.nobody"):
            with pytest.raises(ValidationError) as refused:
                UserFactory(company=gamma, username=login)
            assert refused.value.message_dict == {"username": [UNUSABLE]}
        # Free-form logins of companies without a namespace: the residual oracle, and
        # still no word of whose it is.
        UserFactory(company=gamma, username="ivanov")
        with pytest.raises(ValidationError, match="уже занят"):
            UserFactory(company=gamma, username="Ivanov")
    delta = CompanyFactory(name="Дельта")
    with tenancy.tenant_context(delta), pytest.raises(ValidationError) as refused:
        UserFactory(company=delta, username="ivanov")
    assert refused.value.message_dict == {"username": [UNUSABLE]}


def test_a_login_taken_after_the_check_is_the_same_refusal(alpha, beta, monkeypatch):
    monkeypatch.setattr(services, "_check_login_free", lambda **kwargs: None)
    with tenancy.tenant_context(alpha.company), pytest.raises(ValidationError) as refused:
        UserFactory(company=alpha.company, username="beta.head")
    assert refused.value.message_dict == {"username": [UNUSABLE]}


def test_a_company_prefix_is_checked(db):
    for prefix in ("Vector", "a.b", "", "-x", "x" * 31):
        with pytest.raises(ValidationError):
            services.company_create(name="Плохая", login_prefix=prefix or "   ")


def test_the_migration_gives_a_company_the_prefix_its_logins_share(db):
    migration = importlib.import_module("accounts.migrations.0009_company_login_prefix")
    shared, mixed = CompanyFactory(name="Общая"), CompanyFactory(name="Разная")
    for company, logins in ((shared, ["omega.a", "omega.b"]), (mixed, ["one.a", "two.b"])):
        with tenancy.tenant_context(company):
            for login in logins:
                UserFactory(company=company, username=login, role=User.Role.QUALITY)

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    with tenancy.tenant_context(None):
        migration.prefixes_from_logins(apps, editor)
    prefixes = dict(
        Company.objects.filter(pk__in=[shared.pk, mixed.pk]).values_list("name", "login_prefix")
    )
    assert prefixes == {"Общая": "omega", "Разная": None}
