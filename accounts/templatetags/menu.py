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
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

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
