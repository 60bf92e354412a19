"""The main menu of every page, rendered once per role, language and URLconf.

Its links and their words depend on nothing else (templates/_menu.html gets only the
role's flags), and each of them was a {% url %} and a {% translate %} on every page: a
good part of the header's cost (bench/request_cost.py). The process keeps each rendering;
there are a handful (four flags × two languages).
"""

from functools import lru_cache

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import User

register = template.Library()


@register.simple_tag
def main_menu(user: User) -> SafeString:
    # While developing, an edited _menu.html shows at the next page, as any template does.
    menu = _menu.__wrapped__ if settings.DEBUG else _menu
    return menu(
        reports=bool(user.is_manager and user.sales_role_id),
        quality=user.role == User.Role.QUALITY,
        lead=bool(user.can_administer or user.is_head),
        admin=bool(user.can_administer),
        language=get_language(),
        prefix=get_script_prefix(),
        urlconf=get_urlconf(),
    )


@lru_cache(maxsize=64)
def _menu(
    *, reports: bool, quality: bool, lead: bool, admin: bool, language: str | None,
    prefix: str, urlconf: object,
) -> SafeString:  # fmt: skip
    # language, prefix and urlconf are the key: the active ones render it.
    flags = {"reports": reports, "quality": quality, "lead": lead, "admin": admin}
    return mark_safe(render_to_string("_menu.html", flags))  # noqa: S308 - a template's output


TOGGLE = (
    '\n    <button type="button" class="menu-toggle" aria-expanded="false" aria-controls="menu"'
    ' hidden>\n      <span aria-hidden="true">☰</span> {}\n    </button>'
)
CSRF_INPUT = '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'


@register.simple_tag(takes_context=True)
def topbar(context: template.Context) -> SafeString:
    """base.html's header: the brand, the menu, the language switch, who is logged in.

    Built here, not in the template: every page draws it, and the template language resolving
    its variables and conditions was most of the header's cost (bench/request_cost.py).
    Everything in it is escaped as the template escaped it; the menu is main_menu's."""
    request = context.get("request")
    user = context.get("user")
    authenticated = user is not None and user.is_authenticated
    token = context.get("csrf_token")  # as {% csrf_token %}: nothing without one
    csrf = format_html(CSRF_INPUT, token) if token and token != "NOTPROVIDED" else ""
    home, set_language, profile, logout = _links(prefix=get_script_prefix(), urlconf=get_urlconf())
    language = get_language()
    pressed = ' aria-pressed="true"'
    tools = format_html(
        '<form action="{}" method="post" class="lang">\n        {}\n'
        '        <input name="next" type="hidden" value="{}">\n'
        '        <button name="language" value="ru"{}>RU</button>\n'
        '        <button name="language" value="en"{}>EN</button>\n      </form>',
        set_language,
        csrf,
        request.get_full_path() if request is not None else "",
        mark_safe(pressed if language == "ru" else ""),  # noqa: S308 - a constant
        mark_safe(pressed if language == "en" else ""),  # noqa: S308 - a constant
    )
    toggle = menu = who = ""
    if authenticated:
        toggle = format_html(TOGGLE, _("Меню"))
        menu = format_html("\n    {}", main_menu(user))
        company = user.company
        name = f"{user} · {company}" if company is not None else str(user)
        # The name is the way to one's profile (password, API tokens).
        who = format_html(
            '\n      <a class="who" href="{}" title="{}: {}">{}</a>\n'
            '      <form action="{}" method="post">{}<button class="link">{}</button></form>',
            profile,
            _("Профиль"),
            name,
            name,
            logout,
            csrf,
            _("Выйти"),
        )
    return format_html(
        '<header class="topbar">\n    <a class="brand" href="{}">Salesdesk</a>{}\n'
        '    <div class="menu" id="menu">{}\n    <div class="tools">\n      {}{}\n    </div>\n'
        "    </div>\n  </header>",
        home,
        toggle,
        menu,
        tools,
        who,
    )


@lru_cache(maxsize=16)
def _links(*, prefix: str, urlconf: object) -> tuple[str, str, str, str]:
    # The header's four fixed addresses, per URLconf and script prefix (the key) as the menu's.
    return reverse("home"), reverse("set_language"), reverse("profile"), reverse("logout")
