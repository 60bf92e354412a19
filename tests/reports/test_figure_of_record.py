"""The figure of record (reports/figures.py): per KPI the company chooses whether the CRM's
figure, the manager's, or the manager's checked against the CRM counts, and every surface
(stored totals, dashboard, funnel, end-of-day form, API) shows that one; a difference is
flagged with both values.

The issue's November: closer B (alpha.managers[1]) typed 5 won deals for 455 421,73 ₽ on
five days; the CRM has 12 won deals for 986 800 ₽ in the month (two on each of those days,
one on each of two days B did not report). Plans: 15 deals, 1 200 000 ₽, so 5 is red
(33 %) and 12 green (80 %).
"""

import datetime
import re
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import F
from django.urls import reverse

from accounts import tenancy
from accounts.models import SalesRole, User
from crm_sync import services as crm
from crm_sync.models import PipelineStage
from funnel.selectors import FunnelScope, funnel_of
from kpi import services as kpi_services
from kpi.models import KPI
from reports import services as report_services
from reports.models import ImportedFigure
from reports.selectors import day_statuses, report_form
from rollups import services as rollup_services
from rollups.models import Bucket, Total
from tests.conftest import Cast
from tests.reports.test_api import api
from tests.rollups.reference import expected_totals, stored_totals

MSK = zoneinfo.ZoneInfo("Europe/Moscow")
NOVEMBER = datetime.date(2026, 11, 1)
REPORTED = [datetime.date(2026, 11, d) for d in (2, 3, 5, 6, 9)]
UNREPORTED = [datetime.date(2026, 11, 10), datetime.date(2026, 11, 11)]
TYPED_SUMS = ["91084.35", "91084.35", "91084.35", "91084.34", "91084.34"]  # 455 421,73
CRM_AMOUNTS = [Decimal(80000)] * 11 + [Decimal(106800)]  # 986 800


def _won(company, manager, day: datetime.date, number: int, amount: Decimal, repeat=False):
    stages = list(PipelineStage.objects.filter(company=company))
    won = next(s for s in stages if s.kind == PipelineStage.Kind.WON)
    moment = datetime.datetime.combine(day, datetime.time(12), tzinfo=MSK)
    crm.deal_upsert(company=company, source="file", data=crm.DealData(
        external_id=f"{manager.pk}-{number}", stage=won, title=f"Сделка {number}",
        created_at=moment - datetime.timedelta(days=3), moved_at=moment, manager=manager,
        amount=amount, is_repeat=repeat,
    ))  # fmt: skip


def _kpi(cast: Cast, code: str) -> KPI:
    return KPI.objects.get(company=cast.company, code=code)


def record_set(cast: Cast, record: str, codes=("deals_won", "deals_sum")) -> None:
    with tenancy.tenant_context(cast.company):
        for code in codes:
            kpi_services.kpi_update(kpi=_kpi(cast, code), actor=cast.admin, record=record)


def settle(cast: Cast) -> None:
    """Runs the rollup the changes queued: nothing is left for the nightly check."""
    rollup_services.rollup_run(company_id=cast.company.pk)
    with tenancy.tenant_context(cast.company):
        assert not Bucket.objects.filter(company=cast.company, marks__gt=F("done")).exists()
        today = cast.company.local_time().date()
        assert stored_totals(cast.company) == expected_totals(cast.company, today)
    assert rollup_services.totals_reconcile(company_id=cast.company.pk).drift == 0


@pytest.fixture
def november(alpha: Cast) -> User:
    company, manager = alpha.company, alpha.managers[1]
    with tenancy.tenant_context(company):
        closer = SalesRole.objects.get(company=company, kind=SalesRole.Kind.CLOSER)
        User.objects.filter(pk=manager.pk).update(sales_role=closer)
        manager.refresh_from_db()
        for code, plan in (("deals_won", 15), ("deals_sum", 1200000)):
            kpi_services.plan_set(
                company=company, kpi=_kpi(alpha, code), start=NOVEMBER, value=Decimal(plan),
                manager=manager,
            )  # fmt: skip
        number = 0
        for day in REPORTED:
            for _deal in range(2):
                _won(company, manager, day, number, CRM_AMOUNTS[number])
                number += 1
        for day in UNREPORTED:
            _won(company, manager, day, number, CRM_AMOUNTS[number])
            number += 1
        for day, deal_sum in zip(REPORTED, TYPED_SUMS, strict=True):
            report_services.report_submit(
                company=company, manager=manager, day=day,
                values={"meetings": "2", "deals_won": "1", "deals_sum": deal_sum},
                actor=alpha.admin, confirmed=True, reason="тестовые данные",
            )  # fmt: skip
    rollup_services.rollup_run(company_id=company.pk)
    return manager


def month_total(cast: Cast, manager: User, code: str) -> Total:
    with tenancy.tenant_context(cast.company):
        return Total.objects.get(
            company=cast.company, scope="manager", subject_id=manager.pk,
            kpi__code=code, period="month", start=NOVEMBER,
        )  # fmt: skip


def dashboard_cell(client, cast: Cast, manager: User, kpi_name: str) -> str:
    client.force_login(cast.head)
    body = client.get(reverse("dashboard") + f"?period=month&start={NOVEMBER}").content.decode()
    row = re.search(rf'<tr data-manager="{manager.username}">(.*?)</tr>', body, re.S).group(1)
    return re.search(rf'<td data-label="{kpi_name}"[^>]*>(.*?)</td>', row, re.S).group(1)


def explain(client, manager: User, code: str) -> str:
    """The cell's explanation (the client is logged in as the head)."""
    url = reverse("dashboard-explain", args=[manager.code, code])
    return client.get(url + f"?period=month&start={NOVEMBER}").content.decode()


def funnel_lines(cast: Cast, manager: User) -> dict:
    with tenancy.tenant_context(cast.company):
        funnel = funnel_of(
            scope=FunnelScope(company=cast.company, manager=manager),
            start=NOVEMBER, end=datetime.date(2026, 11, 30),
            today=cast.company.local_time().date(),
        )  # fmt: skip
    return funnel, {line.kpi.code: line for line in funnel.record}


def api_total(cast: Cast, manager: User, code: str) -> dict:
    response = api(cast.api_key).get(
        reverse("api-total-list"), {"period": "month", "start": NOVEMBER.isoformat()}
    )
    assert response.status_code == 200, response.content
    return next(
        row for row in response.json()
        if row["scope"] == "manager" and row["subject"] == str(manager.code) and row["kpi"] == code
    )  # fmt: skip


def form_row(cast: Cast, manager: User, day: datetime.date, code: str):
    with tenancy.tenant_context(cast.company):
        form = report_form(company=cast.company, manager=manager, day=day)
    return next(row for row in form.rows if row.kpi.code == code)


def test_the_issues_november_with_the_crm_as_record_shows_the_crms_deals_everywhere(
    alpha, november, client
):
    record_set(alpha, KPI.Record.SOURCE)
    settle(alpha)
    won, money = (
        month_total(alpha, november, "deals_won"),
        month_total(alpha, november, "deals_sum"),
    )
    assert (won.actual, won.band) == (12, "green")
    assert money.actual == Decimal(986800)
    # Days without a report count the CRM's figures: the two with won deals, and the
    # weekend the last two deals were created in (0 won); the report's status stays missing.
    assert won.days_reported == len(REPORTED) + 4
    cell = dashboard_cell(client, alpha, november, "Выигранные сделки")
    assert '<span class="value">12</span>' in cell
    funnel, lines = funnel_lines(alpha, november)
    assert funnel.won == 12 and lines["deals_won"].value == 12
    assert lines["deals_sum"].value == Decimal(986800) == funnel.won_sum
    row = api_total(alpha, november, "deals_won")
    assert Decimal(row["actual"]) == 12 and row["band"] == "green"
    # The manager's 5 differ from the CRM's 12: flagged, though the CRM's count.
    assert row["differs"] is True
    assert (Decimal(row["manager_value"]), Decimal(row["source_value"])) == (5, 12)
    assert 'class="differs"' in cell and "в отчётах 5" in cell
    explained = explain(client, november, "deals_won")
    # The days it counted are the CRM's, the unreported ones too.
    assert explained.count("из CRM") >= len(REPORTED) + 2 and "нет отчёта" in explained
    month_end = form_row(alpha, november, datetime.date(2026, 11, 30), "deals_won")
    assert month_end.mtd_actual == 12
    day = form_row(alpha, november, REPORTED[0], "deals_won")
    assert day.counts_source and day.imported == 2 and day.mismatch


def test_the_managers_figure_as_record_counts_what_was_typed_and_flags_nothing(
    alpha, november, client
):
    record_set(alpha, KPI.Record.MANAGER)
    settle(alpha)
    won, money = (
        month_total(alpha, november, "deals_won"),
        month_total(alpha, november, "deals_sum"),
    )
    assert (won.actual, won.band) == (5, "red")
    assert money.actual == Decimal("455421.73")
    cell = dashboard_cell(client, alpha, november, "Выигранные сделки")
    assert '<span class="value">5</span>' in cell and 'class="differs"' not in cell
    _funnel, lines = funnel_lines(alpha, november)
    assert lines["deals_won"].value == 5 and lines["deals_won"].sides is None
    row = api_total(alpha, november, "deals_won")
    assert Decimal(row["actual"]) == 5 and row["differs"] is False
    assert row["manager_value"] is None and row["source_value"] is None
    assert form_row(alpha, november, datetime.date(2026, 11, 30), "deals_won").mtd_actual == 5
    day = form_row(alpha, november, REPORTED[0], "deals_won")
    assert not day.counts_source and not day.mismatch


def test_the_managers_figure_checked_counts_it_and_flags_both_values_everywhere(
    alpha, november, client
):
    record_set(alpha, KPI.Record.CHECKED)
    settle(alpha)
    won = month_total(alpha, november, "deals_won")
    assert (won.actual, won.band) == (5, "red")
    cell = dashboard_cell(client, alpha, november, "Выигранные сделки")
    assert '<span class="value">5</span>' in cell
    assert 'class="differs"' in cell and "CRM: 12" in cell
    assert "В отчётах 5, CRM — 12; считается: отчёт менеджера" in cell
    assert "≠ В отчётах 5, CRM — 12; считается: отчёт менеджера" in explain(
        client, november, "deals_won"
    )
    money = dashboard_cell(client, alpha, november, "Сумма выигранных сделок")
    assert "CRM: 986\u202f800,00\xa0₽" in money
    _funnel, lines = funnel_lines(alpha, november)
    sides = lines["deals_won"].sides
    assert lines["deals_won"].value == 5 and (sides.manager_value, sides.source_value) == (5, 12)
    page = client.get(
        reverse("funnel") + f"?period=month&start={NOVEMBER}&manager={november.code}"
    ).content.decode()
    record = re.search(r'<tr data-kpi="deals_won">(.*?)</tr>', page, re.S).group(1)
    assert "В отчётах 5, CRM — 12" in record
    row = api_total(alpha, november, "deals_won")
    assert Decimal(row["actual"]) == 5 and row["differs"] is True
    assert (Decimal(row["manager_value"]), Decimal(row["source_value"])) == (5, 12)
    team = (
        api(alpha.api_key)
        .get(reverse("api-total-list"), {"period": "month", "start": NOVEMBER.isoformat()})
        .json()
    )
    team_won = next(r for r in team if r["scope"] == "team" and r["kpi"] == "deals_won")
    assert team_won["differs"] is True and Decimal(team_won["source_value"]) == 12
    with tenancy.tenant_context(alpha.company):
        statuses = day_statuses(company=alpha.company, viewer=alpha.head, day=REPORTED[0])
    texts = next(s.mismatches for s in statuses if s.manager == november)
    assert any(
        "Выигранные сделки: в отчёте 1, из CRM — 2; считается: отчёт менеджера" in text
        for text in texts
    )
    day = form_row(alpha, november, REPORTED[0], "deals_won")
    assert day.mismatch and not day.counts_source


def test_totals_are_current_right_after_the_setting_changes_both_ways(alpha, november):
    record_set(alpha, KPI.Record.CHECKED)
    settle(alpha)
    record_set(alpha, KPI.Record.SOURCE)
    with tenancy.tenant_context(alpha.company):
        assert Bucket.objects.filter(company=alpha.company, marks__gt=F("done")).exists()
    settle(alpha)
    assert month_total(alpha, november, "deals_won").actual == 12
    record_set(alpha, KPI.Record.CHECKED)
    settle(alpha)
    assert month_total(alpha, november, "deals_won").actual == 5


def test_totals_are_current_right_after_a_crm_import(alpha, november):
    record_set(alpha, KPI.Record.SOURCE)
    settle(alpha)
    with tenancy.tenant_context(alpha.company):
        # A deal won on a day nobody reported, imported after the month's totals were built.
        _won(alpha.company, november, datetime.date(2026, 11, 12), 99, Decimal(13200))
    settle(alpha)
    assert month_total(alpha, november, "deals_won").actual == 13
    assert month_total(alpha, november, "deals_sum").actual == Decimal(1000000)


def test_the_issues_december_farmers_repeat_deal_counts_from_the_crm(alpha, client):
    """Both farmers reported 0 repeat deals on a day the CRM has one each."""
    company = alpha.company
    farmers = alpha.managers[1:]
    day = datetime.date(2026, 12, 1)
    with tenancy.tenant_context(company):
        farmer = SalesRole.objects.get(company=company, kind=SalesRole.Kind.FARMER)
        User.objects.filter(pk__in=[m.pk for m in farmers]).update(sales_role=farmer)
        for number, manager in enumerate(farmers):
            manager.refresh_from_db()
            _won(company, manager, day, 500 + number, Decimal(50000), repeat=True)
            report_services.report_submit(
                company=company, manager=manager, day=day,
                values={"repeat_deals": "0", "repeat_sum": "0", "receivables": "100000"},
                actor=alpha.admin,
                confirmed=True, reason="тестовые данные",
            )  # fmt: skip
    record_set(alpha, KPI.Record.SOURCE, codes=("repeat_deals", "repeat_sum"))
    settle(alpha)
    with tenancy.tenant_context(company):
        for manager in farmers:
            total = Total.objects.get(
                company=company, scope="manager", subject_id=manager.pk,
                kpi__code="repeat_deals", period="day", start=day,
            )  # fmt: skip
            assert total.actual == 1


def test_the_source_as_record_is_refused_for_a_kpi_without_a_source(alpha):
    with tenancy.tenant_context(alpha.company):
        meetings = _kpi(alpha, "meetings")
        assert meetings.source == KPI.Source.MANUAL and meetings.record == KPI.Record.MANAGER
        with pytest.raises(ValidationError) as refusal:
            kpi_services.kpi_update(kpi=meetings, actor=alpha.admin, record=KPI.Record.SOURCE)
        assert "только для KPI, цифры которого приходят из CRM или телефонии" in str(
            refusal.value.message_dict["record"]
        )
        meetings.refresh_from_db()
        assert meetings.record == KPI.Record.MANAGER
        # A KPI a source supplies starts checked against it.
        assert _kpi(alpha, "deals_won").record == KPI.Record.CHECKED
    response = api(alpha.api_key).patch(
        reverse("api-kpi-update", args=[meetings.uid]),
        {"record": "source"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "record" in response.json()["fields"]


def test_the_kpi_form_and_api_expose_the_figure_of_record(alpha, client):
    client.force_login(alpha.admin)
    with tenancy.tenant_context(alpha.company):
        won = _kpi(alpha, "deals_won")
    page = client.get(reverse("kpi-edit", args=[won.uid])).content.decode()
    assert "Цифра учёта" in page and 'value="checked" selected' in page
    rows = api(alpha.api_key).get(reverse("api-kpi-list")).json()
    assert next(r for r in rows if r["code"] == "deals_won")["record"] == "checked"
    assert next(r for r in rows if r["code"] == "meetings")["record"] == "manager"
    with tenancy.tenant_context(alpha.company):
        assert ImportedFigure.objects.filter(company=alpha.company).exists()
