"""The 403 page: the menu of the user's own pages and the reason, in Russian and English."""

from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from django.views.defaults import permission_denied

from accounts import tenancy


def test_a_manager_on_a_head_page_gets_the_menu_and_the_reason(client, alpha):
    client.force_login(alpha.manager)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 403
    page = response.content.decode()
    assert 'aria-label="Главное меню"' in page
    assert f'href="{reverse("my-kpis")}"' in page  # the manager's own pages, to go on from
    assert "Это страница руководителя отдела продаж и администратора." in page
    assert f'<a href="{reverse("home")}">На главную</a>' in page


def test_the_page_speaks_english(client, alpha):
    client.force_login(alpha.manager)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("dashboard")).content.decode()
    assert "Access denied" in page
    assert "This page is for heads of sales and admins." in page
    assert 'aria-label="Main menu"' in page


def test_a_refusal_without_a_reason_says_the_role_has_no_access(alpha):
    request = RequestFactory().get("/somewhere/")
    request.user = alpha.manager
    for language, sentence in (
        ("ru", "У вашей роли нет доступа к этой странице."),
        ("en", "Your role has no access to this page."),
    ):
        with tenancy.tenant_context(alpha.company), translation.override(language):
            response = permission_denied(request, PermissionDenied())
        page = response.content.decode()
        assert response.status_code == 403
        assert sentence in page
        assert f'href="{reverse("my-kpis")}"' in page
