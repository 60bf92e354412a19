"""base.html's header, drawn in Python (accounts/templatetags/menu.py topbar): the same
links, forms and words as the template drew, escaped, for a visitor and for each role."""

from django.urls import reverse

from accounts import tenancy
from accounts.models import User


def header(page: str) -> str:
    return page.split('<header class="topbar">', 1)[1].split("</header>", 1)[0]


def test_a_visitor_gets_the_brand_and_the_language_switch_only(client, db):
    page = header(client.get(reverse("login") + "?next=/my/").content.decode())
    assert f'<a class="brand" href="{reverse("home")}">Salesdesk</a>' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert '<input name="next" type="hidden" value="/login/?next=/my/">' in page
    assert '<button name="language" value="ru" aria-pressed="true">RU</button>' in page
    assert '<button name="language" value="en">EN</button>' in page
    assert "menu-toggle" not in page and 'class="who"' not in page and "Выйти" not in page


def test_a_manager_gets_the_menu_their_name_escaped_and_logout(client, alpha):
    with tenancy.tenant_context(alpha.company):
        User.objects.filter(pk=alpha.manager.pk).update(first_name="<b>Анна</b>", last_name="")
    client.force_login(alpha.manager)
    page = header(client.get(reverse("profile")).content.decode())
    assert 'class="menu-toggle"' in page and "☰</span> Меню" in page
    assert 'href="/my/"' in page  # the role's menu
    name = f"&lt;b&gt;Анна&lt;/b&gt; · {alpha.company.name}"
    assert f'<a class="who" href="{reverse("profile")}" title="Профиль: {name}">{name}</a>' in page
    assert "<b>" not in page
    logout = f'<form action="{reverse("logout")}" method="post"><input type="hidden"'
    assert logout in page and '<button class="link">Выйти</button></form>' in page
    # Both forms carry the request's token, and the switch posts back to this page.
    assert page.count('name="csrfmiddlewaretoken"') == 2
    response = client.post(reverse("logout"))
    assert response.status_code == 302


def test_the_header_follows_the_language(client, alpha):
    client.force_login(alpha.head)
    client.cookies["django_language"] = "en"
    page = header(client.get(reverse("profile")).content.decode())
    assert '<button name="language" value="en" aria-pressed="true">EN</button>' in page
    assert "Menu" in page and "Log out" in page and "Профиль" not in page
    assert 'href="/dashboard/"' in page
