import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from django import template
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from dashboard.templatetags.dashboard_tags import readings
from kpi.models import KPI
from kpi.templatetags.kpi_tags import kpi_figure
from kpi.values import format_date, format_plan, format_value
from reports.selectors import FormRow, KpiStanding, RecentReport
from salesdesk.html import html_text

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
    # Plain strings, escaped as format_html_join would (without its lazy-text checks).
    figures = "; ".join(
        f"{html_text(value.kpi.name)}: {html_text(kpi_figure(value.value, value.kpi))}"
        for value in report.values
    )
    return format_html(
        '<tr><td><a href="{}">{}, {}</a></td>\n      <td>{}</td></tr>',
        reverse("report-detail", args=[report.code]),
        date_format(report.date, "D"),
        format_date(report.date, year=False),
        mark_safe(figures),  # noqa: S308 - escaped above
    )


@lru_cache(maxsize=8)
def _labels(language: str | None) -> dict:
    """The words of «Мои показатели»' standings (a phone's card names each cell) and of the
    form's rows, translated and escaped once per language: every row repeats them."""
    return {
        "week": html_text(_("Неделя")),
        "month": html_text(_("Месяц")),
        "plan": html_text(_("План на месяц")),
        "need": html_text(_("Что нужно")),
        "day_plan": html_text(_("план на день")),
        "left": html_text(_("осталось")),
        "so_far": html_text(_("с начала месяца")),
        "duration": html_text(_("ч:мм:сс или минуты")),
        "crm": html_text(_("из CRM")),
        "telephony": html_text(_("из телефонии")),
        "computed": html_text(_("считается сам из ваших цифр")),
        # get_unit_display() without its per-call dict of the choices.
        "units": {unit: html_text(label) for unit, label in KPI.Unit.choices},
    }


@register.simple_tag
def standing_row(standing: KpiStanding) -> str:
    """A KPI's <tr>: the week and the month (actual and readings), the month's plan and
    what each remaining working day needs (⚠ while the month is behind)."""
    kpi = standing.kpi
    labels = _labels(translation.get_language())
    if standing.per_day_needed is not None:
        need = _("%(need)s в день") % {"need": format_value(standing.per_day_needed, kpi)}
        needed = ("⚠ " if standing.behind else "") + html_text(need)
    else:
        needed = "✓" if standing.month_plan is not None else ""
    week = html_text(format_value(standing.week_actual, kpi))
    month = html_text(format_value(standing.month_actual, kpi))
    plan = html_text(format_plan(standing.month_plan, kpi))
    # Names and figures escaped here, the labels in _labels; readings() escapes its own.
    return mark_safe(  # noqa: S308
        f"<tr>\n      <td>{html_text(kpi.name)}</td>\n"
        f'      <td data-label="{labels["week"]}">{week} {readings(standing.week)}</td>\n'
        f'      <td data-label="{labels["month"]}">{month} {readings(standing.month)}</td>\n'
        f'      <td data-label="{labels["plan"]}">{plan}</td>\n'
        f'      <td data-label="{labels["need"]}">{needed}</td>\n    </tr>'
    )


# The end-of-day form's rows, built in Python for the same reason: a row per KPI in every
# form request (and the live check's one row), and the template language resolving its
# dozens of variables and filters was most of the form's rendering time.


def _row_field(
    row: FormRow, *, editable: bool, first: bool, invalid: bool, check_url: str, labels: dict
) -> str:
    code = html_text(row.kpi.code)
    if row.computed:
        return (
            f'<output id="id_{code}">{html_text(format_value(row.mtd_actual, row.kpi))}</output>\n'
            f'      <small class="muted">{labels["computed"]}</small>'
        )
    if not editable:
        return (
            f'<input id="id_{code}" value="{html_text(row.text)}" readonly aria-readonly="true" '
            f'aria-describedby="day-lock meta-{code}">'
        )
    mode = "text" if row.kpi.unit == KPI.Unit.DURATION else "decimal"
    flags = ("autofocus " if first else "") + ('aria-invalid="true" ' if invalid else "")
    return (
        f'<input id="id_{code}" name="{code}" value="{html_text(row.text)}" inputmode="{mode}"\n'
        f'             autocomplete="off" {flags}aria-describedby="meta-{code}"\n'
        f'             hx-post="{html_text(check_url)}" hx-trigger="change" '
        'hx-target="closest .report-row" hx-swap="outerHTML" hx-include="closest form">'
    )


def _sentence(template: str, **values: str) -> SafeString:
    """A translated sentence with its figures escaped, as {% blocktranslate %} writes it."""
    return mark_safe(template % {name: escape(value) for name, value in values.items()})  # noqa: S308


def _row_notes(row: FormRow) -> list[SafeString]:
    """The mismatch with the source and which figure counts, under the field."""
    notes = []
    by_phone = row.imported_source == "telephony"
    if row.mismatch or row.counts_source:
        recorded = format_value(row.imported, row.kpi)
    if row.mismatch:
        typed = Truncator(row.text).chars(31)
        if by_phone:
            said = _("Вы указали %(typed)s, а телефония показывает %(recorded)s.")
        else:
            said = _("Вы указали %(typed)s, а CRM показывает %(recorded)s.")
        if row.counts_source:
            then = _("В итоги идёт цифра источника, руководитель увидит обе.")
        else:
            then = _("Руководитель увидит расхождение.")
        notes.append(
            format_html(
                '<p class="warning mismatch" role="status">{} {}</p>',
                _sentence(said, typed=typed, recorded=recorded),
                then,
            )
        )
    if row.counts_source:
        if by_phone:
            counted = _("В итоги идёт цифра телефонии: %(recorded)s.")
        else:
            counted = _("В итоги идёт цифра CRM: %(recorded)s.")
        notes.append(
            format_html(
                '<p class="muted record" role="status">{}</p>',
                _sentence(counted, recorded=recorded),
            )
        )
    return notes


@register.simple_tag
def report_row(
    row: FormRow,
    *,
    editable: bool,
    check_url: str,
    first: bool = False,
    errors: dict[str, str] | None = None,
    questions: dict[str, str] | None = None,
    warning: str | None = None,
) -> str:
    """One KPI's row of the end-of-day form: its field (or computed figure), the day's plan
    and what is left, the month so far with its readings, and the row's messages."""
    labels = _labels(translation.get_language())
    kpi = row.kpi
    code = html_text(kpi.code)
    error = (errors or {}).get(kpi.code)
    question = (questions or {}).get(kpi.code)
    if kpi.unit == KPI.Unit.DURATION:
        unit = labels["duration"]
    else:
        unit = labels["units"].get(kpi.unit) or html_text(kpi.unit)
    meta = []
    if row.day_plan is not None:
        meta.append(f"{labels['day_plan']}: {html_text(format_plan(row.day_plan, kpi))}")
    if row.left_today is not None:
        left = html_text(format_value(row.left_today, kpi))
        meta.append(f' · <strong class="left">{labels["left"]}: {left}</strong>')
    meta.append(f" · {labels['so_far']}: {html_text(format_value(row.mtd_actual, kpi))}")
    if row.month.running or row.completion is not None:
        meta.append(f" {html_text(readings(row.month))}")
    field = _row_field(
        row, editable=editable, first=first, invalid=bool(error), check_url=check_url,
        labels=labels,
    )  # fmt: skip
    parts = [
        f'<div class="report-row band-{html_text(row.band)}{" computed" if row.computed else ""}" '
        f'id="row-{code}">\n    <label for="id_{code}">{html_text(kpi.name)}\n'
        f'      <span class="muted">({unit})</span></label>\n    {field}'
    ]
    if row.source in ("crm", "telephony"):
        parts.append(f'<span class="badge source">{labels[row.source]}</span>')
    parts.append(f'<div class="meta" id="meta-{code}">\n      {"".join(meta)}\n    </div>')
    parts += _row_notes(row)
    if error:
        parts.append(f'<p class="error" role="alert">{html_text(error)}</p>')
    if question:
        parts.append(f'<p class="warning" role="alert">{html_text(question)}</p>')
    if warning:
        parts.append(f'<p class="warning" role="status">{html_text(warning)}</p>')
    # Every part is escaped above (html_text), the notes by format_html, readings() by itself.
    return mark_safe("\n    ".join(parts) + "\n  </div>")  # noqa: S308
