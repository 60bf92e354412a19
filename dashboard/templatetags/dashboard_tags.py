import datetime
from functools import lru_cache

from django import template
from django.utils.formats import date_format, localize
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from dashboard.selectors.attention import Attention, at_risk_shown
from dashboard.selectors.explain import formula_lines
from dashboard.selectors.strip import ReportStrip
from dashboard.selectors.table import (
    REPORT_STATUSES,
    Cell,
    ManagerRow,
    RoleGroup,
    SummaryLine,
    TeamTable,
)
from kpi.bands import Band
from kpi.models import KPI
from kpi.periods import Window
from kpi.values import format_date, format_value
from reports.figures import Sides, source_counts
from rollups.figures import WAITING_LABEL, Figure, ReadingKind
from salesdesk.html import html_text

register = template.Library()

ICONS = {"red": "▼", "yellow": "●", "green": "✓", "none": "·"}


@register.filter
def formula(figure: Figure | None) -> str:
    """The figure's formula as one line, for the hover title of a cell."""
    return "; ".join(formula_lines(figure)) if figure else ""


@register.filter
def risk_shown(figure: Figure | None) -> bool:
    return at_risk_shown(figure)


@register.filter
def status_text(status: str) -> str:
    return str(REPORT_STATUSES.get(status, status))


@register.filter
def band_icon(band: str) -> str:
    """A shape per colour, so that colour is never the only signal."""
    return ICONS.get(band, "·")


@register.filter
def get_item(mapping: dict, key: object) -> object:
    return mapping.get(key) if mapping else None


# The team table's rows are drawn here rather than in the template: a row has a dozen
# conditionals per KPI, and 100 managers × 5 KPIs through the template engine cost most of
# the dashboard's time. Every piece of text is escaped; the labels are translated once.


@lru_cache(maxsize=8)
def _labels(language: str | None) -> dict[str, str]:
    return {
        "submitted": format_html('<span class="badge green">✓ {}</span>', _("сдан")),
        "late": format_html('<span class="badge yellow">⏱ {}</span>', _("с опозданием")),
        "absent": format_html('<span class="badge">{}</span>', _("отсутствует")),
        "day_off": format_html('<span class="muted">{}</span>', _("выходной")),
        "missing": format_html('<span class="badge red">✗ {}</span>', _("нет отчёта")),
        "not_joined": format_html('<span class="muted">{}</span>', _("ещё не работал")),
        "no_plan": escape(_("нет плана")),
        "waiting": escape(WAITING_LABEL),
        "risk": format_html('<span title="{}">⚠</span>', _("Прогноз ниже плана")),
        "row_risk": format_html(
            ' <span class="badge red" title="{}">⚠ {}</span>',
            _("План под угрозой"),
            _("под угрозой"),
        ),
        "change": escape(_("К прошлому периоду")),
        "actual": escape(_("Факт")),
        "plan": escape(_("План")),
        "completion": escape(_("Выполнение")),
        "previous": escape(_("Прошлый период")),
        "year": escape(_("Год назад")),
        "share": escape(_("Выполняют план")),
        "done": escape(_("на сегодня %(c)s")),
        "pace": escape(_("по темпу")),
        "done_title": escape(_("выполнено на сегодня: факт против плана на сегодня")),
        **{str(band): escape(band.label) for band in Band},
    }


def _cell(cell: Cell, url: str, labels: dict[str, str], names: dict[int, str]) -> str:
    figure = cell.figure
    if figure is None:
        return '<td><span class="muted">—</span></td>'
    band = figure.shown_band
    shown = figure.shown_completion
    percent = figure.percent_text if shown is not None else _no_reading(figure, labels)
    # The colour in words for a screen reader; with no percent, «нет плана» or «пока без
    # оценки» is already the text (said once).
    hidden = f' <span class="visually-hidden">{labels[band]}</span>' if shown is not None else ""
    extra = _done_so_far(figure, labels)
    if at_risk_shown(figure):
        extra += " " + labels["risk"]
    if cell.sides is not None:
        extra += "<br>" + differs_mark(cell.sides)
    if cell.change is not None:
        arrow = f"▲ +{cell.change}" if cell.change >= 0 else f"▼ {cell.change}"
        extra += f' <span class="muted change-arrow" title="{labels["change"]}">{arrow} %</span>'
    # Every label above is escaped once in _labels; names and figures are escaped here.
    url = html_text(url)
    return (
        f'<td data-label="{names[figure.kpi.pk]}" class="band-{band}">'
        f'<a class="figure" href="{url}" hx-get="{url}">'
        f'<span class="value">{html_text(figure.actual_text)}</span> '
        f'<span class="muted">/ {html_text(figure.plan_text)}</span><br>'
        f'<span class="band"{_pace_title(figure, labels)}>{ICONS.get(band, "·")} {percent}'
        f"{hidden}</span>{extra}</a></td>"
    )


def _no_reading(figure: Figure, labels: dict[str, str]) -> str:
    """What a figure with no percent says instead: it has no plan, or nothing to read yet."""
    return labels["waiting"] if figure.waiting else labels["no_plan"]


def _pace_title(figure: Figure, labels: dict[str, str]) -> str:
    """A running figure's light is its pace: the percent says so on hover."""
    return f' title="{labels["pace"]}"' if figure.band_reading == ReadingKind.PACE else ""


def _done_so_far(figure: Figure, labels: dict[str, str]) -> str:
    """A running figure's other reading, done so far, beside the pace that colours it."""
    if not figure.running or figure.done_so_far_completion is None:
        return ""
    done = labels["done"] % {"c": figure.done_reading.text}
    return f' <span class="muted done-so-far" title="{labels["done_title"]}">· {done}</span>'


@register.simple_tag
def differs_mark(sides: Sides) -> str:
    """The flag of a figure its source disagrees with: the other figure in sight, both in
    the title (the figure shown is the figure of record, reports/figures.py)."""
    if source_counts(sides.kpi):
        other = _("в отчётах %(value)s") % {"value": format_value(sides.manager_value, sides.kpi)}
    else:
        other = f"{sides.source_label}: {format_value(sides.source_value, sides.kpi)}"
    return format_html(
        '<span class="differs" title="{}">≠ {}<span class="visually-hidden">. {}</span></span>',
        sides.text,
        other,
        sides.text,
    )


@register.simple_tag
def manager_rows(
    rows: list[ManagerRow],
    managers_url: str,
    window: Window,
    kpi_names: dict[int, str],
    report_label: str = "",
) -> str:
    """The role's managers' <tr>s: name, the report day's status (its column's heading as
    the phone's label), a cell per KPI that opens its formula. One tag for the group: what
    every row shares (the labels, the window's query) is worked out once."""
    labels = _labels(get_language())
    query = window.query()
    month = window.start.isoformat()
    label = html_text(report_label or _("Отчёт сегодня"))
    html = []
    for row in rows:
        base = f"{managers_url}{row.manager.code}/"
        cells = "".join(
            _cell(
                cell,
                f"{base}explain/{cell.figure.kpi.code}/?{query}" if cell.figure else "",
                labels,
                kpi_names,
            )
            for cell in row.cells
        )
        risk = labels["row_risk"] if row.at_risk else ""
        status = labels.get(row.status, labels["missing"])
        html.append(
            f'<tr data-manager="{html_text(row.manager.username)}"><td>'
            f'<a href="{html_text(base)}?month={month}">{html_text(row.manager)}</a>{risk}</td>'
            f'<td data-label="{label}">{status}</td>{cells}</tr>'
        )
    # Names escaped here (html_text), the labels in _labels, the cells in _cell.
    return mark_safe("\n".join(html))  # noqa: S308


@register.simple_tag
def sort_headers(kpis: list[KPI], table: TeamTable, window: Window, report_label: str) -> str:
    """A role group's column headings, each a link that sorts the table by it: the name and
    the status ascending first, a KPI best first; the KPI sorted by shows its arrow."""
    query = html_text(window.query())

    def heading(key: str, label: str, *, best_first: bool, arrow: str = "") -> str:
        if best_first:
            descending = table.sort != key or not table.descending
        else:
            descending = table.sort == key and not table.descending
        href = f"?{query}&sort={html_text(key)}{'&dir=desc' if descending else ''}"
        return (
            f'<th><a href="{href}" hx-get="{href}" hx-target="#figures" hx-swap="outerHTML" '
            f'hx-push-url="true">{label}{arrow}</a></th>'
        )

    cells = [
        heading("name", html_text(_("Менеджер")), best_first=False),
        heading("status", html_text(report_label), best_first=False),
    ]
    for kpi in kpis:
        arrow = (" ↓" if table.descending else " ↑") if table.sort == kpi.code else ""
        cells.append(heading(kpi.code, html_text(kpi.name), best_first=True, arrow=arrow))
    return mark_safe("\n        ".join(cells))  # noqa: S308 - every label and key is escaped


@register.simple_tag
def best_row(group: RoleGroup) -> str:
    """The best on the role of each KPI: who, the figure and its percent."""
    cells = []
    for kpi, best in group.best_of_kpis:
        text = (
            html_text(f"{best.manager}: {best.figure.actual_text} ({best.figure.percent_text})")
            if best
            else "—"
        )
        cells.append(f'<td data-label="{html_text(kpi.name)}">{text}</td>')
    return mark_safe(  # noqa: S308 - every name and figure is escaped
        f'<tr class="best">\n        <td colspan="2">{html_text(_("Лучший на роли"))}</td>\n'
        f"        {''.join(cells)}\n      </tr>"
    )


@register.simple_tag
def summary_tiles(lines: list[SummaryLine]) -> str:
    """A summary's tiles, a KPI each: fact against plan, the bar, the readings (⚠ while
    the plan is at risk)."""
    items = []
    for line in lines:
        figure = line.figure
        name = f'<span class="tile-name">{html_text(line.kpi.name)}</span>'
        if figure is None:
            items.append(f'<li class="tile">\n        {name}\n        <span class="muted">—</span>')
            continue
        band = html_text(figure.shown_band)
        risk = " ⚠" if at_risk_shown(figure) else ""
        items.append(
            f'<li class="tile band-{band}">\n        {name}\n'
            f'        <span class="tile-value">{html_text(figure.actual_text)} '
            f'<span class="muted">/ {html_text(figure.plan_text)}</span></span>\n'
            f'        <span class="bar" role="img" aria-label="{html_text(figure.percent_text)}">'
            f'<span class="fill {band}" style="width: {bar_width(figure)}%"></span></span>\n'
            f'        <span class="tile-reading">{readings(figure)}{risk}</span>'
        )
    # Every name and figure is escaped above; readings() escapes its own.
    return mark_safe("".join(f"{item}\n      </li>\n      " for item in items))  # noqa: S308


@register.simple_tag
def summary_row(line: SummaryLine) -> str:
    """A team's KPI against the period before and a year earlier, with its plan advice."""
    labels = _labels(get_language())
    figure = line.figure
    dash = "—"
    band = figure.shown_band if figure else ""
    if figure is not None and figure.shown_completion is not None:
        risk = " ⚠" if at_risk_shown(figure) else ""
        completion = (
            f"<span{_pace_title(figure, labels)}>{ICONS.get(band, '·')} {figure.percent_text}"
            f" · {labels[band]}</span>{risk}{_done_so_far(figure, labels)}"
        )
    else:
        completion = dash
    share = dash
    if figure is not None and figure.share_meeting_plan is not None:
        # The plan advice is said once under the table (Summary.advice), not on every line.
        share = f"{figure.share_meeting_plan:.0f} %" + (" ⚠" if line.advice else "")

    def text(found: Figure | None) -> str:
        return html_text(found.actual_text) if found else dash

    actual = text(figure) + (f"<br>{differs_mark(line.sides)}" if line.sides else "")

    return mark_safe(  # noqa: S308 - every dynamic part is escaped above
        f"<tr><td>{html_text(line.kpi.name)}</td>"
        f'<td data-label="{labels["actual"]}">{actual}</td>'
        f'<td data-label="{labels["plan"]}">{html_text(figure.plan_text) if figure else dash}</td>'
        f'<td data-label="{labels["completion"]}" class="band-{band}">{completion}</td>'
        f'<td data-label="{labels["previous"]}">{text(line.previous)}</td>'
        f'<td data-label="{labels["year"]}">{text(line.year_earlier)}</td>'
        f'<td data-label="{labels["share"]}">{share}</td></tr>'
    )


@register.simple_tag
def readings(figure: Figure | None) -> str:
    """A figure's light and, while its period runs, which reading colours it and the other
    one, named as on every surface: «✓ 105 % · зелёный по темпу · на сегодня 98 %»."""
    if figure is None or (figure.shown_completion is None and not figure.running):
        return "—"
    labels = _labels(get_language())
    band = figure.shown_band
    light = (
        f"{ICONS.get(band, '·')} {figure.percent_text} · {labels[band]}"
        if figure.shown_completion is not None
        else _no_reading(figure, labels)
    )
    note = ""
    # Which reading colours the light, while there is one.
    if figure.running and not figure.waiting:
        note = f' <span class="muted reading-note">{labels["pace"]}</span>'
    return mark_safe(  # noqa: S308 - labels are escaped in _labels, the rest is numbers
        f'<span class="badge {band}">{light}</span>{note}{_done_so_far(figure, labels)}'
    )


@lru_cache(maxsize=8)
def _strip_marks(language: str | None) -> dict[str, str]:
    """Each status of the report strip, rendered: the css class, the mark and the words (the
    same as «Отчёты команды» says them). Built once per language: the strip has a mark for
    every manager and day, and translating them each time was most of its cost."""
    marks = {
        "submitted": ("green", "✓", _("сдан")),
        "late": ("yellow", "✓", _("сдан с опозданием")),
        "missing": ("red", "✗", _("нет отчёта")),
        "absent": ("off", "○", _("отсутствует")),
        "day_off": ("off", "–", _("выходной")),
        "not_joined": ("off", "·", _("ещё не работал")),
        "pending": ("pending", "…", _("ещё не сдан")),
        "future": ("future", "", _("ещё не наступил")),
    }
    html = (
        '<span class="strip-mark {}" title="{}">{}<span class="visually-hidden"> {}</span></span>'
    )
    return {
        status: format_html(html, css, words, mark, words)
        for status, (css, mark, words) in marks.items()
    }


@register.filter
def strip_mark(status: str) -> str:
    marks = _strip_marks(get_language())
    return marks.get(status, marks["missing"])


@register.filter
def bar_width(figure: Figure | None) -> int:
    """How much of a progress bar the figure fills: its shown completion, 0–100."""
    if figure is None or figure.shown_completion is None:
        return 0
    return max(0, min(100, int(figure.shown_completion)))


@register.filter
def score_width(score: object) -> int:
    return 0 if score is None else max(0, min(100, int(score)))  # type: ignore[call-overload]


@register.simple_tag
def strip_rows(strip: ReportStrip, managers_url: str) -> str:
    """The report strip's rows, a manager each: a mark per day (as strip_mark draws it)."""
    marks = _strip_marks(get_language())
    rows = []
    for row in strip.rows:
        # The marks are escaped once in _strip_marks.
        days = "".join(f"<td>{marks.get(status, marks['missing'])}</td>" for status in row.days)
        manager = row.manager
        rows.append(
            f'<tr data-strip-manager="{html_text(manager.username)}"><th scope="row">'
            f'<a href="{html_text(f"{managers_url}{manager.code}/")}">{html_text(manager)}</a>'
            f"</th>{days}</tr>"
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - names escaped here, marks in _strip_marks


@register.simple_tag
def attention_items(attention: list[Attention], managers_url: str) -> str:
    """Who needs a conversation: a manager each (a link to their page, their role), the
    first reason, and the others folded."""
    items = []
    for item in attention:
        manager = item.manager
        role = manager.sales_role
        html = (
            f'<li><a href="{html_text(f"{managers_url}{manager.code}/")}">'
            f"<strong>{html_text(manager)}</strong></a>"
            + (f' <span class="muted">{html_text(role)}</span>' if role else "")
            + "\n        <ul>"
            + "".join(f"<li>{html_text(reason)}</li>" for reason in item.reasons[:1])
            + "</ul>\n        "
        )
        if len(item.reasons) > 1:
            more = _("остальные причины (%(n)s)") % {"n": len(item.reasons) - 1}
            html += (
                '<details class="fold more-reasons" '
                f'data-fold="reasons-{html_text(manager.username)}" open>'
                f"<summary>{html_text(more)}</summary>\n        <ul>"
                + "".join(f"<li>{html_text(reason)}</li>" for reason in item.reasons[1:])
                + "</ul></details>"
            )
        items.append(html + "</li>")
    return mark_safe("\n      ".join(items))  # noqa: S308 - every name and reason is escaped


@register.simple_tag
def strip_header(days: list[datetime.date]) -> str:
    """The report strip's day headings: the weekday, and the day without the year."""
    return mark_safe(  # noqa: S308 - a date's words and numbers, escaped
        "".join(
            f'<th scope="col">{html_text(date_format(day, "D"))}<br>'
            f'<span class="muted">{html_text(format_date(day, year=False))}</span></th>'
            for day in days
        )
    )


@register.simple_tag
def leader_items(rows: list[ManagerRow]) -> str:
    """The role's leaderboard: rank, name, score and its bar (ManagerRow.score)."""
    items = []
    for rank, row in enumerate(rows, start=1):
        score = f"{localize(row.score)} %" if row.score is not None else "—"
        items.append(
            f'<li><span class="leader-name">{rank}. {html_text(row.manager)}</span> '
            f'<span class="leader-score">{html_text(score)}</span>\n'
            f'          <span class="bar"><span class="fill" '
            f'style="width: {score_width(row.score)}%"></span></span></li>'
        )
    return mark_safe("\n".join(items))  # noqa: S308 - names and scores escaped here
