"""Every block's figures on the known month of conftest.py, against hand-computed values."""

import datetime
import zoneinfo
from decimal import Decimal

from django.utils import timezone

from accounts import tenancy
from dashboard.selectors.attention import attention_list, sharp_drops
from dashboard.selectors.drilldown import manager_month
from dashboard.selectors.explain import figure_records, formula_lines
from dashboard.selectors.table import team_table
from dashboard.selectors.why_red import why_red
from kpi.calendar import calendar_for
from kpi.periods import Window
from rollups import services as rollup_services
from rollups.figures import company_kpis, figures_of_window
from rollups.models import Scope, Total
from tests.dashboard.conftest import file_report


def month_of(known) -> Window:
    return Window("month", known.start, known.end)


def cells_by_code(group, row) -> dict:
    return {kpi.code: cell.figure for kpi, cell in zip(group.kpis, row.cells, strict=True)}


def table(known, **kwargs):
    cast = known.cast
    with tenancy.tenant_context(cast.company):
        return team_table(company=cast.company, viewer=cast.head, window=month_of(known), **kwargs)


def test_the_team_table_shows_each_managers_month(known):
    result = table(known)
    (group,) = result.groups
    assert [k.code for k in group.kpis][:4] == ["calls", "long_calls", "talk_time", "leads"]
    figures = {row.manager.username: cells_by_code(group, row) for row in group.rows}
    a, b, c = (figures[f"alpha.manager{i}"] for i in (1, 2, 3))
    assert (a["calls"].actual, a["calls"].plan, a["calls"].completion) == (
        300,
        1000,
        Decimal("30.00"),
    )
    assert [a["calls"].shown_band, b["calls"].shown_band, c["calls"].shown_band] == [
        "red",
        "green",
        "yellow",
    ]
    assert b["calls"].completion == Decimal("110.00")
    assert a["talk_time"].actual == 5400  # a day total: 3600 + 1800 seconds
    assert a["leads"].completion == Decimal("2.00")
    assert not a["calls"].running and not a["calls"].at_risk
    # The benchmark on the role: B, the best on calls.
    assert group.best[0].manager.username == "alpha.manager2"


def test_sorting_by_a_kpi_puts_the_best_first_and_colour_has_a_word(known):
    (group,) = table(known, sort="calls", descending=True).groups
    assert [r.manager.username for r in group.rows] == [
        "alpha.manager2", "alpha.manager3", "alpha.manager1",
    ]  # fmt: skip
    (group,) = table(known, sort="calls").groups
    assert group.rows[0].manager.username == "alpha.manager1"
    assert group.rows[0].cells[0].figure.band_label == "красный"


def test_the_team_summary_has_the_share_meeting_plan_and_its_advice(known):
    (summary,) = table(known).summaries
    calls = next(line for line in summary.lines if line.kpi.code == "calls")
    assert (calls.figure.actual, calls.figure.plan) == (2100, 3000)
    assert calls.figure.completion == Decimal("70.00")
    assert calls.figure.share_meeting_plan == Decimal("33.3")
    assert "завышены" in calls.advice
    assert calls.previous is None and calls.year_earlier is None


def test_a_range_adds_days_up_by_each_kpis_rule_and_plans_by_working_days(known):
    cast = known.cast
    day1, day2 = known.days
    with tenancy.tenant_context(cast.company):
        kpis = company_kpis(company=cast.company)
        one_day = figures_of_window(
            company=cast.company, window=Window("range", day1, day1), kpis=kpis,
            scope=Scope.MANAGER, subject_ids=[cast.managers[0].pk],
        )  # fmt: skip
        both = figures_of_window(
            company=cast.company, window=Window("range", known.start, day2), kpis=kpis,
            scope=Scope.MANAGER, subject_ids=[cast.managers[0].pk],
        )  # fmt: skip
    by_code = {f.kpi.code: f for f in one_day.values()}
    # One of the month's working days: 1000 × 1 / working days.
    expected_plan = (Decimal(1000) / known.working_days).quantize(Decimal("0.0001"))
    assert by_code["calls"].actual == 100
    assert by_code["calls"].plan == expected_plan
    by_code = {f.kpi.code: f for f in both.values()}
    assert by_code["calls"].actual == 300
    assert by_code["talk_time"].actual == 5400
    assert by_code["calls"].plan == (Decimal(2000) / known.working_days).quantize(Decimal("0.0001"))


def test_a_period_is_compared_with_the_one_before(known):
    cast = known.cast
    next_month = Window.around("month", known.end + datetime.timedelta(days=1))
    with tenancy.tenant_context(cast.company):
        day = next(
            d for d in (next_month.start + datetime.timedelta(days=i) for i in range(10))
            if d.weekday() < 5
        )  # fmt: skip
        file_report(
            cast, cast.managers[0], day,
            {"calls": "450", "long_calls": "1", "leads": "1", "talk_time": "1:00:00"},
        )  # fmt: skip
    rollup_services.rollup_run(company_id=cast.company.pk)
    with tenancy.tenant_context(cast.company):
        result = team_table(company=cast.company, viewer=cast.head, window=next_month)
    row = next(r for r in result.groups[0].rows if r.manager == cast.managers[0])
    assert row.cells[0].previous.actual == 300
    assert row.cells[0].change == 50  # 450 against 300


def at(known, day: datetime.date, hour: int) -> datetime.datetime:
    zone = zoneinfo.ZoneInfo(known.cast.company.timezone)
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=zone)


def attention(known, now: datetime.datetime):
    cast = known.cast
    with tenancy.tenant_context(cast.company):
        return attention_list(company=cast.company, viewer=cast.head, now=now)


def test_the_attention_list_puts_the_worst_first_with_the_reasons(known):
    # On the third working day at noon. Red months: A on calls (30 %) and leads (2 %), B on
    # leads (20 %), C on leads (5 %); C has no report for day 2. Each red KPI and each
    # missing report weighs 3: A 6, C 6 (A's worst figure is lower), B 3.
    third = Window("month", known.start, known.end)
    with tenancy.tenant_context(known.cast.company):
        day3 = calendar_for(company=known.cast.company).working_days(third.start, third.end)[2]
    items = attention(known, at(known, day3, 12))
    assert [i.manager.username for i in items] == [
        "alpha.manager1", "alpha.manager3", "alpha.manager2",
    ]  # fmt: skip
    # The known month is over: its light is its completion, and the reason says so.
    assert items[0].reasons == ["красные KPI за месяц: Звонки 30 %, Созданные лиды 2 %"]
    assert items[1].reasons == [
        f"нет отчёта: {known.days[1].strftime('%d.%m')}",
        "красные KPI за месяц: Созданные лиды 5 %",
    ]
    assert (items[0].severity, items[1].severity, items[2].severity) == (6, 6, 3)
    # After the reminder time nobody has reported today: 3 more for everyone (A 9, C 9, B 6).
    items = attention(known, at(known, day3, 19))
    assert [i.manager.username for i in items] == [
        "alpha.manager1", "alpha.manager3", "alpha.manager2",
    ]  # fmt: skip
    assert (items[0].severity, items[1].severity, items[2].severity) == (9, 9, 6)
    assert items[1].reasons[0] == f"нет отчёта: {known.days[1].strftime('%d.%m')}, сегодня"
    assert items[2].reasons[0] == "нет отчёта: сегодня"


def test_a_sharp_drop_against_the_managers_own_weeks(known):
    cast = known.cast
    today = datetime.date(2026, 12, 2)
    last_monday = datetime.date(2026, 11, 23)
    with tenancy.tenant_context(cast.company):
        kpis = company_kpis(company=cast.company)
        calls = next(k for k in kpis.values() if k.code == "calls")
        for weeks_back, value in enumerate([Decimal(50), 100, 90, 110, 100]):
            start = last_monday - datetime.timedelta(days=7 * weeks_back)
            Total(
                company=cast.company, scope=Scope.MANAGER, subject_id=cast.managers[1].pk,
                kpi=calls, period="week", start=start, end=start + datetime.timedelta(days=6),
                value_sum=0, value_count=0, days_reported=1, completion=value, band="",
                computed_at=timezone.now(),
            ).save()  # fmt: skip
        drops = sharp_drops(
            company=cast.company, today=today, kpis=kpis, manager_ids=[cast.managers[1].pk]
        )
    ((kpi, last, usual),) = drops[cast.managers[1].pk]
    assert (kpi.code, last, usual) == ("calls", 50, 100)  # (100 + 90 + 110 + 100) / 4


def test_a_week_that_met_its_plan_is_no_sharp_drop(known):
    """167 % after a usual 286 % fell by more than the points, but the plan was met."""
    cast = known.cast
    today, last_monday = datetime.date(2026, 12, 2), datetime.date(2026, 11, 23)
    with tenancy.tenant_context(cast.company):
        kpis = company_kpis(company=cast.company)
        calls = next(k for k in kpis.values() if k.code == "calls")
        for weeks_back, value in enumerate([Decimal(167), 300, 280, 280]):
            start = last_monday - datetime.timedelta(days=7 * weeks_back)
            Total(
                company=cast.company, scope=Scope.MANAGER, subject_id=cast.managers[1].pk,
                kpi=calls, period="week", start=start, end=start + datetime.timedelta(days=6),
                value_sum=0, value_count=0, days_reported=1, completion=value, band="",
                computed_at=timezone.now(),
            ).save()  # fmt: skip
        drops = sharp_drops(
            company=cast.company, today=today, kpis=kpis, manager_ids=[cast.managers[1].pk]
        )
    assert drops == {}


def test_why_red_names_the_weakest_link_of_the_managers_chain(known):
    cast = known.cast
    window = month_of(known)
    with tenancy.tenant_context(cast.company):
        kpis = company_kpis(company=cast.company)
        data = manager_month(
            company=cast.company, manager=cast.managers[0], month=window, kpis=kpis
        )
        diagnoses = why_red(
            company=cast.company, manager=cast.managers[0], window=window, kpis=kpis,
            role_kpis=data.kpis, figures=data.figures,
        )  # fmt: skip
    by_code = {d.kpi.code: d for d in diagnoses}
    assert set(by_code) == {"calls", "leads"}
    leads = by_code["leads"]
    assert [s.kpi.code for s in leads.steps] == ["calls", "long_calls", "leads"]
    volume, talks, conversion = leads.steps
    assert (volume.completion, volume.team_completion) == (Decimal("30.00"), Decimal("70.00"))
    assert (talks.conversion, talks.team_conversion) == (Decimal("50.0"), Decimal("21.4"))
    assert (conversion.conversion, conversion.team_conversion) == (Decimal("1.3"), Decimal("6.0"))
    assert leads.weakest is conversion
    assert by_code["calls"].weakest is by_code["calls"].steps[0]


def test_a_figure_explains_its_formula_and_the_days_it_counted(known):
    cast = known.cast
    window = month_of(known)
    with tenancy.tenant_context(cast.company):
        kpis = company_kpis(company=cast.company)
        calls = next(k for k in kpis.values() if k.code == "calls")
        records = figure_records(
            company=cast.company, manager=cast.managers[0], kpi=calls, window=window
        )
        figure = figures_of_window(
            company=cast.company, window=window, kpis=kpis, scope=Scope.MANAGER,
            subject_ids=[cast.managers[0].pk],
        )[(cast.managers[0].pk, calls.pk)]  # fmt: skip
    assert [(r.day, r.value) for r in records] == list(zip(known.days, [100, 200], strict=True))
    lines = formula_lines(figure)
    assert lines[0] == "Факт = сумма за 2 дн. с отчётом = 300"
    assert lines[-2] == "Выполнение = факт ÷ план × 100 = 30,0 %"
    assert lines[-1] == "Цвет — по выполнению: 30 %, красный"


def test_a_range_of_a_last_value_kpi_takes_its_latest_reported_day(known):
    cast = known.cast
    day1, day2 = known.days
    with tenancy.tenant_context(cast.company):
        kpis = company_kpis(company=cast.company)
        receivables = next(k for k in kpis.values() if k.code == "receivables")
        for day, value in ((day2, Decimal(700)), (day1, Decimal(900))):
            Total(
                company=cast.company, scope=Scope.MANAGER, subject_id=cast.managers[0].pk,
                kpi=receivables, period="day", start=day, end=day, value_sum=value,
                value_count=1, days_reported=1, last_value=value, actual=value, band="",
                computed_at=timezone.now(),
            ).save()  # fmt: skip
        found = figures_of_window(
            company=cast.company, window=Window("range", known.start, known.end), kpis=kpis,
            scope=Scope.MANAGER, subject_ids=[cast.managers[0].pk],
        )  # fmt: skip
    assert found[(cast.managers[0].pk, receivables.pk)].actual == 700
