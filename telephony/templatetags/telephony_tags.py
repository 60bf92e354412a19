from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def pbx_user(value: str) -> str:
    """ "ext:101" as «внутр. 101»: how the PBX named an employee, readable."""
    kind, _sep, rest = str(value).partition(":")
    labels = {"ext": _("внутр. %(value)s"), "sip": _("SIP %(value)s"), "tel": _("тел. +%(value)s")}
    return labels[kind] % {"value": rest} if kind in labels else str(value)
