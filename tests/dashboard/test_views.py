import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from accounts import tenancy
from accounts.models import User
from dashboard import digest
from dashboard.models import DashboardVisit
from reports.models import Reminder
from rollups import services as rollup_services
from tests.dashboard.conftest import file_report
from tests.dashboard.test_charts import charts_are_valid_plotly
from tests.factories import TeamFactory, UserFactory


def month_query(known) -> str:
    return f"?period=month&start={known.start.isoformat()}"


def test_the_page_shows_the_table_and_the_attention_list(client, known):
    client.force_login(known.cast.head)
    body = client.get(reverse("dashboard") + month_query(known)).content.decode()
    # A month over: who needed a conversation as of its last day.
    assert f"Нужен разговор по итогам на {known.end.strftime('%d.%m.%Y')}" in body
    assert 'data-manager="alpha.manager1"' in body
    assert "▼ 30 %" in body and "✓ 110 %" in body and "● 70 %" in body
    assert "План выполняют меньше 60 % команды" in body


def test_managers_and_quality_controllers_may_not_open_it(client, known):
    for user in (known.cast.manager, known.cast.quality):
        client.force_login(user)
        assert client.get(reverse("dashboard")).status_code == 403


def test_a_head_sees_only_the_managers_of_their_own_teams(client, known):
    cast = known.cast
    other_head = UserFactory(company=cast.company, username="alpha.head2", role=User.Role.HEAD)
    other_team = TeamFactory(company=cast.company, name="Другая", head=other_head)
    stranger = UserFactory(company=cast.company, username="alpha.stranger", team=other_team)
    client.force_login(cast.head)
    body = client.get(reverse("dashboard")).content.decode()
    assert "alpha.stranger" not in body
    assert client.get(reverse("dashboard-manager", args=[stranger.code])).status_code == 404
    client.force_login(other_head)
    assert client.get(reverse("dashboard-manager", args=[stranger.code])).status_code == 200


def test_bad_periods_keep_the_page_with_the_reason(client, known):
    client.force_login(known.cast.head)
    response = client.get(reverse("dashboard") + "?period=range&start=2026-05-01&end=2026-04-01")
    assert response.status_code == 200
    assert "Конец диапазона раньше его начала." in response.content.decode()


def dashboard_queries(client, head, query: str = "", **headers) -> int:
    client.force_login(head)
    client.get(reverse("dashboard") + query, headers=headers)  # the visit exists from now on
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("dashboard") + query, headers=headers).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("", {}),
        ("?period=month", {}),
        ("?period=range&start=2026-01-01&end=2026-11-30", {}),
        ("?period=day", {"HX-Request": "true", "HX-Target": "figures"}),
    ],
)
def test_the_number_of_queries_does_not_grow_with_the_team(client, known, query, headers):
    cast = known.cast
    small = dashboard_queries(client, cast.head, query, **headers)
    with tenancy.tenant_context(cast.company):
        for index in range(27):
            manager = UserFactory(
                company=cast.company, username=f"alpha.extra{index}", team=cast.team
            )
            file_report(
                cast, manager, known.days[0],
                {"calls": "10", "long_calls": "1", "leads": "1", "talk_time": "1:00:00"},
            )  # fmt: skip
        assert User.objects.filter(company=cast.company, team=cast.team).count() == 30
    rollup_services.rollup_run(company_id=cast.company.pk)
    assert dashboard_queries(client, cast.head, query, **headers) == small


def test_the_excel_export_has_the_visible_table_with_its_colours(client, known):
    client.force_login(known.cast.head)
    response = client.get(reverse("dashboard-export") + month_query(known))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = {(r[1].value, r[3].value): r for r in sheet.iter_rows(min_row=4) if r[3].value}
    name_a = str(known.cast.managers[0])
    row = rows[(name_a, "Звонки")]
    assert [c.value for c in row[4:8]] == [300, 1000, 30, "красный"]
    assert row[6].fill.start_color.rgb.endswith("F8D7DA")
    assert not any(str(c.value).startswith("=") for r in sheet.iter_rows() for c in r if c.value)
    totals = [r for r in sheet.iter_rows() if r[0].value == "Звонки" and r[1].value == 2100]
    assert totals and totals[0][3].value == 70


def test_the_print_view_says_the_colours_in_words(client, known):
    client.force_login(known.cast.head)
    body = client.get(reverse("dashboard-print") + month_query(known)).content.decode()
    assert "30 % · красный" in body and "110 % · зелёный" in body
    statuses = ("нет отчёта", "выходной", "сдан", "отсутствует")
    assert any(f"<td>{word}" in body for word in statuses) and "<td>missing" not in body


def test_a_figure_opens_with_its_formula_and_days(client, known):
    cast = known.cast
    client.force_login(cast.head)
    url = reverse("dashboard-explain", args=[cast.managers[0].code, "calls"]) + month_query(known)
    body = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "Факт = сумма за 2 дн. с отчётом = 300" in body
    assert known.days[0].strftime("%d.%m.%Y") in body and "<html" not in body


def test_the_drill_down_has_charts_why_red_and_the_history(client, known):
    cast = known.cast
    with tenancy.tenant_context(cast.company):
        file_report(
            cast, cast.managers[0], known.days[0],
            {"calls": "120", "long_calls": "60", "leads": "1", "talk_time": "1:00:00"},
        )  # fmt: skip
    rollup_services.rollup_run(company_id=cast.company.pk)
    client.force_login(cast.head)
    url = reverse("dashboard-manager", args=[cast.managers[0].code])
    response = client.get(url + f"?month={known.start.isoformat()}")
    body = response.content.decode()
    for chart in ("daily-data", "cumulative-data", "weekly-data"):
        assert f'id="{chart}"' in body
    charts_are_valid_plotly(response.context)
    assert "Почему красный" in body and "слабое звено" in body
    assert "100 → 120" in body and "тестовые данные" in body


def test_since_the_last_visit_shows_new_reds_and_corrections(client, known):
    cast = known.cast
    client.force_login(cast.head)
    first = client.get(reverse("dashboard")).content.decode()
    assert "Это ваш первый визит" in first
    today = cast.company.local_time().date()
    with tenancy.tenant_context(cast.company):
        from kpi import services as kpi_services
        from kpi.models import KPI

        calls = KPI.objects.get(company=cast.company, code="calls")
        kpi_services.plan_set(
            company=cast.company, kpi=calls, start=today, value=Decimal(100000),
            manager=cast.managers[1],
        )  # fmt: skip
        file_report(
            cast, cast.managers[1], today,
            {"calls": "1", "long_calls": "1", "leads": "1", "talk_time": "0:10:00"},
        )  # fmt: skip
        file_report(
            cast, cast.managers[1], today,
            {"calls": "2", "long_calls": "1", "leads": "1", "talk_time": "0:10:00"},
        )  # fmt: skip
        visit = DashboardVisit.objects.get(company=cast.company, user=cast.head)
        visit.last_seen_at -= datetime.timedelta(hours=2)
        visit.baseline_at = visit.last_seen_at
        visit.save()
    rollup_services.rollup_run(company_id=cast.company.pk)
    body = client.get(reverse("dashboard")).content.decode()
    assert "Звонки стал красным" in body
    assert "исправлен отчёт" in body and "Звонки 1 → 2" in body
    # The polling partial neither shows nor moves the visit.
    partial = client.get(
        reverse("dashboard"), headers={"HX-Request": "true", "HX-Target": "figures"}
    )
    assert 'id="figures"' in partial.content.decode()
    assert "С вашего прошлого визита" not in partial.content.decode()


def test_a_past_months_page_records_the_running_months_bands_as_seen(client, known):
    """«С вашего прошлого визита» compares the running month: a head who opens a month
    over records this month's bands, not that month's, whether the page renders its
    figures block or draws the one kept for its state."""
    from dashboard.selectors.visits import month_bands
    from kpi.periods import Window
    from rollups.figures import company_kpis, figures_of_window
    from rollups.models import Scope

    cast = known.cast
    today = cast.company.local_time().date()
    with tenancy.tenant_context(cast.company):
        file_report(
            cast, cast.managers[1], today,
            {"calls": "1", "long_calls": "1", "leads": "1", "talk_time": "0:10:00"},
        )  # fmt: skip
    rollup_services.rollup_run(company_id=cast.company.pk)
    with tenancy.tenant_context(cast.company):
        running = figures_of_window(
            company=cast.company, window=Window.around("month", today),
            kpis=company_kpis(company=cast.company), scope=Scope.MANAGER,
            subject_ids=[m.pk for m in cast.managers],
        )  # fmt: skip
    expected = month_bands(figures=running)
    assert expected, "the running month shows a band"
    client.force_login(cast.head)
    for _visit in ("rendered", "kept"):
        assert client.get(reverse("dashboard") + month_query(known)).status_code == 200
        with tenancy.tenant_context(cast.company):
            visit = DashboardVisit.objects.get(company=cast.company, user=cast.head)
        assert visit.seen_month == today.replace(day=1)
        assert visit.seen_bands == expected


def test_the_digest_goes_once_to_each_head_who_wants_it(known):
    cast = known.cast
    company = cast.company
    with tenancy.tenant_context(company):
        from kpi.calendar import calendar_for

        calendar = calendar_for(company=company)
        day = next(
            known.end + datetime.timedelta(days=i)
            for i in range(1, 20)
            if calendar.is_working(known.end + datetime.timedelta(days=i))
            and (known.end + datetime.timedelta(days=i)).weekday() != 0
        )
        morning = company.local_time().replace(
            year=day.year, month=day.month, day=day.day, hour=9, minute=30
        )
        assert digest.send_digests(company=company, now=morning - datetime.timedelta(hours=2)) == []
        assert digest.send_digests(company=company, now=morning) == ["alpha.head"]
        assert digest.send_digests(company=company, now=morning) == []
        # The claim holds the message its delivery sends (tests/dashboard/test_digest.py).
        (claimed,) = Reminder.objects.filter(company=company, kind="digest")
        DashboardVisit.objects.create(
            company=company, user=cast.head, baseline_at=morning, baseline_month=day,
            last_seen_at=morning, digest=DashboardVisit.Digest.WEEKLY,
        )  # fmt: skip
        later = morning + datetime.timedelta(days=1)
        assert digest.send_digests(company=company, now=later) == []  # not a Monday
    assert claimed.user_id == cast.head.pk and claimed.email_state == "pending"
    assert claimed.subject == "Сводка для руководителя"
    assert "Кому нужен разговор сегодня" in claimed.text
    assert str(cast.managers[0]) in claimed.text and "/dashboard/" in claimed.text


def test_the_digest_choice_is_saved(client, known):
    client.force_login(known.cast.head)
    client.get(reverse("dashboard"))
    response = client.post(reverse("dashboard-digest"), {"digest": "weekly"})
    assert response.status_code == 302
    with tenancy.tenant_context(known.cast.company):
        assert DashboardVisit.objects.get(user=known.cast.head).digest == "weekly"
    client.post(reverse("dashboard-digest"), {"digest": "hourly"})
    body = client.get(reverse("dashboard")).content.decode()
    assert "Выберите, как часто присылать сводку." in body
