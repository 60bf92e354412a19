import datetime
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from dashboard.templatetags.dashboard_tags import readings
from kpi.templatetags.kpi_tags import kpi_figure
from kpi.values import format_date, format_plan, format_value
from reports.selectors import KpiStanding, RecentReport

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


# The rows of «Мои показатели», built in Python: the page draws a row per KPI and per
# recent report, and the template language resolving each cell's variables and filters was
# most of its rendering time (bench/request_cost.py). The figures are written by the helpers
# the filters call (kpi.values), so the page reads as before.


@register.simple_tag
def recent_report_row(report: RecentReport) -> str:
    """A recent report's <tr>: its day, a link to it, and each figure with its KPI."""
    figures = format_html_join(
        "; ",
        "{}: {}",
        ((value.kpi.name, kpi_figure(value.value, value.kpi)) for value in report.values),
    )
    return format_html(
        '<tr><td><a href="{}">{}, {}</a></td>\n      <td>{}</td></tr>',
        reverse("report-detail", args=[report.code]),
        date_format(report.date, "D"),
        format_date(report.date, year=False),
        figures,
    )


@register.simple_tag
def standing_row(standing: KpiStanding) -> str:
    """A KPI's <tr>: the week and the month (actual and readings), the month's plan and
    what each remaining working day needs (⚠ while the month is behind)."""
    kpi = standing.kpi
    if standing.per_day_needed is not None:
        need = _("%(need)s в день") % {"need": format_value(standing.per_day_needed, kpi)}
        needed = format_html("{}{}", "⚠ " if standing.behind else "", need)
    else:
        needed = "✓" if standing.month_plan is not None else ""
    return format_html(
        "<tr>\n      <td>{}</td>\n"
        '      <td data-label="{}">{} {}</td>\n'
        '      <td data-label="{}">{} {}</td>\n'
        '      <td data-label="{}">{}</td>\n'
        '      <td data-label="{}">{}</td>\n    </tr>',
        kpi.name,
        _("Неделя"), format_value(standing.week_actual, kpi), readings(standing.week),
        _("Месяц"), format_value(standing.month_actual, kpi), readings(standing.month),
        _("План на месяц"), format_plan(standing.month_plan, kpi),
        _("Что нужно"), needed,
    )  # fmt: skip
