"""An invitation goes out through the real Celery worker and lets the new user in."""

import re

import pytest
from django.urls import reverse

from accounts import services, tenancy
from accounts.models import SalesRole, User


@pytest.mark.django_db(transaction=True)
def test_an_invited_manager_gets_the_email_and_sets_a_password(client, clear_mail):
    from tests.conftest import make_cast

    cast = make_cast("inv", "Приглашающая")
    with tenancy.tenant_context(cast.company):
        hunter = SalesRole.objects.get(company=cast.company, kind="hunter")
        services.user_create(
            company=cast.company,
            username="inv.newbie",
            password=None,
            first_name="Нина",
            email="nina@example.com",
            role=User.Role.MANAGER,
            sales_role=hunter,
        )
    # The task is queued on commit and run by the worker process.
    (mail,) = clear_mail.sent_mail()
    assert mail["To"] == "nina@example.com"
    assert mail["Subject"] == "Приглашение в Salesdesk: Приглашающая"
    body = mail.get_content()
    assert "Ваш логин: inv.newbie" in body
    path = re.search(r"http://127\.0\.0\.1:8000(/invite/\S+/)", body).group(1)

    page = client.get(path)
    assert page.status_code == 200
    assert "inv.newbie" in page.content.decode()
    mismatch = client.post(path, {"new_password1": "Sunny-Meadow-42", "new_password2": "other"})
    assert "не совпадают" in mismatch.content.decode()
    done = client.post(
        path, {"new_password1": "Sunny-Meadow-42", "new_password2": "Sunny-Meadow-42"}
    )
    assert done.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    # The link works once.
    client.post(reverse("logout"))
    assert client.get(path).status_code == 404


def test_an_invitation_needs_an_email_or_a_password(alpha):
    from django.core.exceptions import ValidationError

    with tenancy.tenant_context(alpha.company), pytest.raises(ValidationError, match="e-mail"):
        services.user_create(
            company=alpha.company, username="alpha.x", password=None, role=User.Role.QUALITY
        )


def test_a_link_with_another_companys_user_is_not_found(client, alpha, beta):
    with tenancy.tenant_context(beta.company):
        url = services.invitation_url(user=beta.manager)
    path = re.sub(r"^https?://[^/]+", "", url)
    foreign = path.replace(str(beta.company.code), str(alpha.company.code))
    assert client.get(foreign).status_code == 404
    assert client.get(path).status_code == 200
