"""One figure, every surface (issue 17, point 1): random histories of reports, plans and
absences, then every place that shows a (manager, KPI, month) — the dashboard page, its Excel
file, the print view, the digest, `GET /api/v1/totals/`, «Мои показатели» and the report
form's month to date — shows the same value, plan, readings and colour, those of the one
`rollups.figures.Figure`, in a running month and a finished one."""

import datetime
import html
import re
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from accounts import tenancy
from accounts.models import Company, Team, User
from dashboard.digest import digest_text
from dashboard.selectors.attention import pace_is_telling
from dashboard.templatetags.dashboard_tags import ICONS
from kpi.bands import completion_shown
from kpi.periods import Window
from rollups import services
from rollups.figures import Figure, company_kpis, figures_of_subjects, figures_of_window
from rollups.models import Scope
from tests.rollups.test_properties import apply, build_company

pytestmark = pytest.mark.django_db

report = st.tuples(
    st.just("report"),
    st.integers(0, 4),  # which manager
    st.integers(-45, 0),  # which day, back from today: this month and the one before
    st.lists(st.integers(0, 60), min_size=5, max_size=5),
    st.integers(0, 99),
)
plan = st.tuples(
    st.just("plan"),
    st.integers(0, 4),
    st.sampled_from(["month", "previous month", "week", "role"]),
    st.one_of(st.none(), st.integers(0, 3000)),
)
histories = st.lists(st.one_of(report, report, report, plan), min_size=1, max_size=12)

Cell = tuple[str, str]  # (manager's login, KPI name)


def _text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _n(text: str) -> str:
    """Spaces as the page's text reads them (a thousands separator is a narrow space)."""
    return " ".join(text.split())


def _none(figure: Figure) -> str:
    """A figure with no percent: a running one with a plan has nothing to read yet, any
    other has no plan (none, negative, or zero where higher is better)."""
    plan = figure.plan
    lower = figure.kpi.direction == "lower"
    planned = plan is not None and (plan > 0 or (lower and plan == 0))
    return "пока без оценки" if figure.running and planned else "нет плана"


def expected(figure: Figure) -> dict[str, str]:
    """What every surface must print of the figure: the texts and the light."""
    done = ""
    if figure.running and figure.done_so_far_completion is not None:
        done = figure.done_reading.text
    return {
        "actual": _n(figure.actual_text),
        "plan": _n(figure.plan_text),
        "light": _n(figure.percent_text) if figure.shown_completion is not None else _none(figure),
        "band": figure.shown_band,
        "done": _n(done),
    }


def page_cells(body: str, names: dict[str, str]) -> dict[Cell, dict[str, str]]:
    """The dashboard table's cells: actual / plan, the light's percent, its colour and the
    done-so-far note."""
    cells = {}
    for login, row in re.findall(r'<tr data-manager="([^"]+)">(.*?)</tr>', body, re.S):
        for name, band, inner in re.findall(
            r'<td data-label="([^"]+)" class="band-(\w+)">(.*?)</td>', row, re.S
        ):
            value = re.search(r'<span class="value">(.*?)</span>', inner, re.S)
            plan = re.search(r'<span class="muted">/ (.*?)</span>', inner, re.S)
            # The colour in words follows the percent; «нет плана» is said once, alone.
            light = re.search(r'<span class="band"[^>]*>\S+ (.*?)(?: <span|</span>)', inner, re.S)
            done = re.search(r'done-so-far"[^>]*>· на сегодня (.*?)</span>', inner, re.S)
            cells[(login, html.unescape(name))] = {
                "actual": _text(value.group(1)),
                "plan": _text(plan.group(1)),
                "light": _text(light.group(1)) if light else "",
                "band": band,
                "done": _text(done.group(1)) if done else "",
            }
    return cells


def test_the_page_parser_reads_a_cell():
    body = (
        '<tr data-manager="a.b"><td>x</td><td data-label="Звонки" class="band-green">'
        '<a><span class="value">1&nbsp;200</span> <span class="muted">/ 1&nbsp;100</span><br>'
        '<span class="band" title="по темпу">✓ 105 % <span class="visually-hidden">з</span>'
        '</span> <span class="muted done-so-far" title="t">· на сегодня 98 %</span></a></td></tr>'
    )
    assert page_cells(body, {}) == {
        ("a.b", "Звонки"): {
            "actual": "1 200", "plan": "1 100", "light": "105 %", "band": "green",
            "done": "98 %",
        }
    }  # fmt: skip


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _cell(value: object) -> object:
    """A cell as the figure's number: a duration is a time value in the file ([h]:mm)."""
    if isinstance(value, datetime.timedelta):
        return round(value.total_seconds(), 2)
    return value


def _figure_value(value: Decimal | None, figure: Figure) -> float | None:
    number = _number(value)
    return round(number, 2) if number is not None and figure.kpi.unit == "duration" else number


def check_month(
    company: Company, admin: User, managers: list[User], month: Window, client: Client
) -> None:
    kpis = company_kpis(company=company)
    by_name = {kpi.name: kpi for kpi in kpis.values()}
    people = {m.pk: m for m in managers}
    figures = figures_of_window(
        company=company, window=month, kpis=kpis, scope=Scope.MANAGER,
        subject_ids=[m.pk for m in managers],
    )  # fmt: skip
    query = month.query()

    # The dashboard page: every cell it fills is the Figure's.
    client.force_login(admin)
    body = client.get(f"{reverse('dashboard')}?{query}").content.decode()
    shown = page_cells(body, {})
    for (login, name), cell in shown.items():
        manager = next(m for m in managers if m.username == login)
        figure = figures[(manager.pk, by_name[name].pk)]
        assert cell == expected(figure), (login, name)
    assert {(people[m].username, kpis[k].name) for m, k in figures} >= set(shown)
    assert shown or not figures  # the parser found the cells it compares

    # The Excel file: both readings, which one colours, and the same light.
    book = load_workbook(
        BytesIO(client.get(f"{reverse('dashboard-export')}?{query}").content), read_only=True
    )
    rows = list(book.active.iter_rows(values_only=True))
    header = list(rows[2])
    column = {title: header.index(title) for title in header if title}
    names = {str(m): m for m in managers}
    for row in rows[3:]:
        if row[1] not in names or row[column["KPI"]] not in by_name or row[4] is None:
            if not row or row[0] == "KPI":
                break
            continue
        figure = figures[(names[row[1]].pk, by_name[row[column["KPI"]]].pk)]
        assert _cell(row[column["Факт"]]) == _figure_value(figure.actual, figure)
        assert _cell(row[column["План"]]) == _figure_value(figure.plan, figure)
        assert row[column["Выполнение, %"]] == _number(figure.reading.percent)
        assert row[column["Цвет"]] == figure.band_label
        assert row[column["Цвет по"]] == figure.band_basis
        assert row[column["Выполнено на сегодня, %"]] == _number(figure.done_reading.percent)
        assert row[column["По темпу, %"]] == (
            _number(figure.pace_reading.percent) if figure.running else None
        )

    # The print view: actual / plan, the light and, while the month runs, done so far.
    printed = client.get(f"{reverse('dashboard-print')}?{query}").content.decode()
    for manager in managers:
        for (manager_id, kpi_id), figure in figures.items():
            if manager_id != manager.pk:
                continue
            row = re.search(
                rf"<tr><td>{re.escape(html.escape(str(manager)))}.*?</tr>", printed, re.S
            )
            if row is None:  # not in a role group this month
                continue
            text = _text(row.group(0))
            want = _n(f"{figure.actual_text} / {figure.plan_text} ·")
            assert want in text
            if figure.shown_completion is not None:
                assert _n(f"{figure.percent_text} · {figure.band_label}") in text
            if figure.running and figure.done_so_far_completion is not None:
                assert _n(f"на сегодня {figure.done_reading.text}") in text

    # The API: the same numbers, the same light, and which reading it is.
    api = client.get(f"{reverse('api-total-list')}?period=month&start={month.start}").json()
    codes = {str(m.code): m for m in managers}
    for item in api:
        if item["scope"] != "manager" or item["subject"] not in codes:
            continue
        kpi = next(k for k in kpis.values() if k.code == item["kpi"])
        figure = figures[(codes[item["subject"]].pk, kpi.pk)]
        assert item["band"] == figure.shown_band
        assert item["band_reading"] == str(figure.band_reading)
        assert _whole(item["done_so_far_completion"]) == completion_shown(
            figure.done_so_far_completion
        )
        assert _whole(item["pace_completion"]) == completion_shown(figure.pace_completion)
        assert _maybe(item["actual"]) == figure.actual
        assert _maybe(item["plan"]) == figure.plan

    check_teams(company, admin, month, client, body, api)
    if not month.contains(company.local_time().date()):
        return

    # The digest names each red light of the running month with its percent, once its pace
    # has days enough behind it (dashboard.selectors.attention.pace_is_telling).
    text = digest_text(company=company, head=admin, now=None)
    for (manager_id, _kpi_id), figure in figures.items():
        if figure.shown_band == "red" and pace_is_telling(figure):
            assert _n(f"{figure.kpi.name} {figure.percent_text}") in _n(text)

    # «Мои показатели» (the month and the running week) and the form's month to date, as
    # the manager sees them.
    today = company.local_time().date()
    weeks = figures_of_window(
        company=company, window=Window.around("week", today), kpis=kpis, scope=Scope.MANAGER,
        subject_ids=[m.pk for m in managers],
    )  # fmt: skip
    for manager in managers:
        client.force_login(manager)
        mine = client.get(reverse("my-kpis")).content.decode()
        form = client.get(reverse("report-form", args=[today.isoformat()])).content.decode()
        for (manager_id, kpi_id), figure in figures.items():
            if manager_id != manager.pk:
                continue
            kpi = kpis[kpi_id]
            row = re.search(rf"<td>{re.escape(html.escape(kpi.name))}</td>(.*?)</tr>", mine, re.S)
            if row is None:  # no longer in the role's set
                continue
            cell = re.search(r'data-label="Месяц">(.*?)</td>', row.group(1), re.S)
            month_text = _text(cell.group(1))
            assert month_text.startswith(_n(figure.actual_text)), (month_text, figure)
            if figure.shown_completion is not None:
                assert _n(f"{figure.percent_text} · {figure.band_label}") in month_text
            assert f'class="badge {figure.shown_band}"' in cell.group(1)
            if figure.done_so_far_completion is not None:
                assert _n(f"на сегодня {figure.done_reading.text}") in month_text
            week_figure = weeks.get((manager.pk, kpi_id))
            week_cell = re.search(r'data-label="Неделя">(.*?)</td>', row.group(1), re.S)
            if week_figure is not None:
                week_text = _text(week_cell.group(1))
                assert week_text.startswith(_n(week_figure.actual_text)), week_text
                assert f'class="badge {week_figure.shown_band}"' in week_cell.group(1)
                if week_figure.shown_completion is not None:
                    assert _n(week_figure.percent_text) in week_text
            plan_cell = re.search(r'data-label="План на месяц">(.*?)</td>', row.group(1), re.S)
            assert _text(plan_cell.group(1)) == _n(figure.plan_text)
            meta = re.search(rf'id="meta-{kpi.code}">(.*?)</div>', form, re.S)
            if meta is None:  # a ratio has no input, a computed row shows its month
                continue
            meta_text = _text(meta.group(1))
            assert _n(f"с начала месяца: {figure.actual_text}") in meta_text
            if figure.shown_completion is not None:
                assert _n(f"{figure.percent_text} · {figure.band_label}") in meta_text
                assert f'class="badge {figure.shown_band}"' in meta.group(1)


def check_teams(
    company: Company, admin: User, month: Window, client: Client, body: str, api: list[dict]
) -> None:
    """Each team's and the company's line on the dashboard and in the API: one figure."""
    kpis = company_kpis(company=company)
    teams = {team.pk: team for team in Team.objects.filter(company=company)}
    figures = figures_of_subjects(
        company=company, window=month, kpis=kpis,
        subjects={Scope.TEAM: list(teams), Scope.COMPANY: [company.pk]},
    )  # fmt: skip
    names = {Scope.COMPANY: {company.pk: company.name}}
    names[Scope.TEAM] = {pk: team.name for pk, team in teams.items()}
    codes = {str(team.code): (Scope.TEAM, pk) for pk, team in teams.items()}
    codes[str(company.code)] = (Scope.COMPANY, company.pk)
    checked = 0
    for (scope, subject, kpi_id), figure in figures.items():
        section = re.search(
            rf'<section aria-label="{re.escape(html.escape(names[scope][subject]))}">(.*?)'
            "</section>",
            body,
            re.S,
        )
        line = section and re.search(
            rf"<tr><td>{re.escape(html.escape(figure.kpi.name))}</td>(.*?)</tr>",
            section.group(1),
            re.S,
        )
        if line:  # a KPI of no role's set today is not in the summary
            checked += 1
            cell = re.search(
                r'data-label="Выполнение" class="band-(\w*)">(.*?)</td>', line.group(1), re.S
            )
            assert cell.group(1) == figure.shown_band
            text = _text(cell.group(2))
            if figure.shown_completion is not None:
                assert text.startswith(_n(f"{ICONS[figure.shown_band]} {figure.percent_text}"))
            if figure.running and figure.done_so_far_completion is not None:
                assert _n(f"на сегодня {figure.done_reading.text}") in text
            plan = re.search(r'data-label="План">(.*?)</td>', line.group(1), re.S)
            assert _text(plan.group(1)) == _n(figure.plan_text)
    assert checked or not figures  # the parser found the lines it compares
    for item in api:
        if item["scope"] == "manager" or item["subject"] not in codes:
            continue
        kpi = next(k for k in kpis.values() if k.code == item["kpi"])
        figure = figures[(*codes[item["subject"]], kpi.pk)]
        assert item["band"] == figure.shown_band
        assert item["band_reading"] == str(figure.band_reading)
        assert _maybe(item["plan_to_date"]) == figure.plan_to_date
        assert _whole(item["done_so_far_completion"]) == completion_shown(
            figure.done_so_far_completion
        )
        assert _whole(item["pace_completion"]) == completion_shown(figure.pace_completion)


def _maybe(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _whole(value: str | None) -> Decimal | None:
    return completion_shown(_maybe(value))


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # Each example builds a company and renders seven surfaces: a failure is reported as
    # found, not shrunk for minutes.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(histories)
def test_every_surface_shows_the_same_figure(history):
    with transaction.atomic():
        company, admin, managers = build_company()
        with tenancy.tenant_context(company):
            for operation in history:
                apply(company, admin, managers, operation)
            services.rollup_run(company_id=company.pk)
            today = company.local_time().date()
            running = Window.around("month", today)
            finished = Window.around("month", running.start - datetime.timedelta(days=1))
        client = Client()
        for month in (running, finished):
            with tenancy.tenant_context(company):
                check_month(company, admin, managers, month, client)
        transaction.set_rollback(True)
