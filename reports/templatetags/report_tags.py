import datetime
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def day_words(day: datetime.date, today: datetime.date | None = None) -> str:
    """A day as a sentence says it: «6 декабря, воскресенье» (Russian writes weekdays in
    lower case), «Sunday, 6 December»; the year only when it is not this year's."""
    date = date_format(day, "j E" if today is None or day.year == today.year else "j E Y")
    weekday = date_format(day, "l")
    if (translation.get_language() or "ru").startswith("ru"):
        return f"{date}, {weekday.lower()}"
    return f"{weekday}, {date}"


@register.filter
def days_count(days: Decimal | float | int | None) -> str:
    """A number of days, whole and in words: «10 дней», «2 дня», «21 день»; «1 day»."""
    if days is None:
        return ""
    n = int(Decimal(str(days)).to_integral_value(rounding=ROUND_HALF_UP))
    if not (translation.get_language() or "ru").startswith("ru"):
        return _("%(n)d день") % {"n": n} if n == 1 else _("%(n)d дней") % {"n": n}
    if n % 10 == 1 and n % 100 != 11:
        return _("%(n)d день") % {"n": n}
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return _("%(n)d дня") % {"n": n}
    return _("%(n)d дней") % {"n": n}
