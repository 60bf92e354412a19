"""The session's user and company, read in one plain statement on every request
(accounts.backends): the same user as the ORM's, and still out at once when deactivated,
suspended, of another company or when the password changes."""

import pytest
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from accounts import tenancy
from accounts.backends import TenantModelBackend
from accounts.middleware import SESSION_COMPANY_KEY
from accounts.models import Company, User


def test_it_reads_the_same_user_and_company_as_the_orm(alpha, django_assert_num_queries):
    backend = TenantModelBackend()
    with tenancy.tenant_context(alpha.company):
        expected = User.objects.select_related("company").get(pk=alpha.head.pk)
        with django_assert_num_queries(1):
            user = backend.get_user(str(alpha.head.pk))  # as the session stores it
            assert user.company.name == alpha.company.name  # read with the user
        for field in User._meta.concrete_fields:
            assert getattr(user, field.attname) == getattr(expected, field.attname), field.name
        for field in Company._meta.concrete_fields:
            assert getattr(user.company, field.attname) == getattr(
                expected.company, field.attname
            ), field.name
        assert user._state.adding is False and user._state.db == "default"
        user.first_name = "Пётр"
        user.save(update_fields=["first_name"])  # a model as the ORM's: it saves
        assert User.objects.get(pk=user.pk).first_name == "Пётр"


def test_another_companys_user_or_no_id_is_nobody(alpha, beta):
    backend = TenantModelBackend()
    with tenancy.tenant_context(alpha.company):
        assert backend.get_user(beta.head.pk) is None
        assert backend.get_user("not a number") is None
        assert backend.get_user(10**12) is None
    with tenancy.operator_context():
        assert backend.get_user(alpha.head.pk) is None  # an operator's context: operators only


@pytest.mark.parametrize("change", ["deactivated", "suspended", "password"])
def test_a_session_ends_at_once(client, alpha, change):
    client.force_login(alpha.manager)
    assert client.get(reverse("profile")).status_code == 200
    with tenancy.tenant_context(alpha.company):
        if change == "deactivated":
            User.objects.filter(pk=alpha.manager.pk).update(is_active=False)
        elif change == "suspended":
            Company.objects.filter(pk=alpha.company.pk).update(suspended_at=timezone.now())
        else:
            manager = User.objects.get(pk=alpha.manager.pk)
            manager.set_password("Another-password-1")
            manager.save()
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("login"))


def test_a_session_pointing_at_another_companys_user_is_nobody(client, alpha, beta):
    client.force_login(alpha.manager)
    session = client.session
    session[SESSION_KEY] = str(beta.manager.pk)
    session[HASH_SESSION_KEY] = beta.manager.get_session_auth_hash()
    session.save()
    assert session[SESSION_COMPANY_KEY] == alpha.company.pk
    response = client.get(reverse("profile"))
    assert response.status_code == 302
