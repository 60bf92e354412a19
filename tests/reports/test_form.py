"""The form a manager fills before leaving, through the real views."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts import tenancy
from kpi.models import KPI
from reports import services
from reports.models import DailyReport, ReportChange, ReportDraft, ReportValue
from tests.reports.conftest import FIGURES

HX = {"HX-Request": "true"}


def url(day, name="report-form"):
    return reverse(name, args=[day.isoformat()])


def test_the_form_shows_plan_what_is_left_and_the_month(client, hunter_plans, today):
    cast = hunter_plans
    client.force_login(cast.managers[1])
    page = client.get(url(today)).content.decode()
    assert "Звонки" in page and "план на день" in page
    assert "осталось" in page
    assert "с начала месяца" in page


def test_a_typo_is_caught_inline_and_the_draft_survives_a_reload(client, alpha, today):
    client.force_login(alpha.managers[1])
    response = client.post(
        url(today, "report-check"), {**FIGURES, "calls": "6o"},
        headers={**HX, "HX-Trigger-Name": "calls"},
    )  # fmt: skip
    row = response.content.decode()
    assert row.lstrip().startswith('<div class="report-row')
    assert "«6o» — не число" in row
    reloaded = client.get(url(today)).content.decode()
    assert 'value="6o"' in reloaded
    fixed = client.post(
        url(today, "report-check"), {**FIGURES, "calls": "60"},
        headers={**HX, "HX-Trigger-Name": "calls"},
    )  # fmt: skip
    assert "не число" not in fixed.content.decode()


def test_submitting_goes_to_the_managers_page_with_the_completion(client, hunter_plans, today):
    cast = hunter_plans
    client.force_login(cast.managers[1])
    response = client.post(url(today), {**FIGURES, "version": "0"})
    assert response.status_code == 302 and response.headers["Location"] == reverse("my-kpis")
    page = client.get(reverse("my-kpis")).content.decode()
    assert "Мои показатели" in page
    assert "trend-data" in page
    with tenancy.tenant_context(cast.company):
        assert DailyReport.objects.filter(manager=cast.managers[1], date=today).exists()


def test_a_failed_submission_keeps_everything_typed(client, alpha, today):
    client.force_login(alpha.managers[1])
    response = client.post(url(today), {**FIGURES, "calls": "-3", "version": "0"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "не может быть отрицательным" in body
    assert 'value="-3"' in body and 'value="1:30:00"' in body
    with tenancy.tenant_context(alpha.company):
        assert ReportDraft.objects.get(manager=alpha.managers[1], date=today).data["talk_time"] == (
            "1:30:00"
        )


def test_two_tabs_the_second_sees_the_conflict(client, alpha, today):
    client.force_login(alpha.managers[1])
    client.get(url(today))
    client.get(url(today))  # both tabs opened before either submitted: version 0
    assert client.post(url(today), {**FIGURES, "version": "0"}).status_code == 302
    second = client.post(url(today), {**FIGURES, "calls": "45", "version": "0"})
    body = second.content.decode()
    assert "уже отправлен из другой вкладки" in body
    assert "сохранено 60, у вас 45" in body
    assert 'name="version" value="1"' in body  # sending again is a deliberate correction


def test_the_mismatch_with_telephony_is_shown_to_both(client, alpha, today):
    with tenancy.tenant_context(alpha.company):
        calls = KPI.objects.get(company=alpha.company, code="calls")
        services.imported_figure_set(
            company=alpha.company, manager=alpha.managers[2], day=today, kpi=calls,
            source="telephony", value=Decimal(28),
        )  # fmt: skip
    client.force_login(alpha.managers[2])
    form = client.get(url(today)).content.decode()
    assert 'value="28"' in form and "из телефонии" in form
    client.post(url(today), {**FIGURES, "calls": "40", "version": "0"})
    form = client.get(url(today)).content.decode()
    assert "Вы указали 40, а телефония показывает 28" in form
    client.force_login(alpha.head)
    team = client.get(reverse("team-reports")).content.decode()
    assert "Звонки: в отчёте 40, из телефонии — 28" in team


def test_the_head_sees_history_and_corrects_with_a_reason(client, alpha, today):
    yesterday_report = None
    with tenancy.tenant_context(alpha.company):
        yesterday_report = DailyReport.objects.get(manager=alpha.manager)
    detail = reverse("report-detail", args=[yesterday_report.code])
    client.force_login(alpha.head)
    page = client.get(detail).content.decode()
    assert "Лид из почты" in page  # the cast's correction
    no_reason = client.post(
        detail, {**FIGURES, "version": str(yesterday_report.version), "reason": ""}
    )
    assert "Укажите причину исправления" in no_reason.content.decode()
    done = client.post(
        detail, {**FIGURES, "version": str(yesterday_report.version), "reason": "Сверка с АТС"}
    )
    assert done.status_code == 302
    client.force_login(alpha.manager)
    assert "Сверка с АТС" in client.get(detail).content.decode()


def test_who_may_see_a_report(client, alpha, beta):
    with tenancy.tenant_context(alpha.company):
        report = DailyReport.objects.get(manager=alpha.manager)
    detail = reverse("report-detail", args=[report.code])
    client.force_login(alpha.managers[1])
    assert client.get(detail).status_code == 403
    client.force_login(alpha.quality)
    assert client.get(detail).status_code == 403
    client.force_login(beta.admin)
    assert client.get(detail).status_code == 404


def test_only_managers_fill_reports(client, alpha, today):
    client.force_login(alpha.head)
    assert client.get(url(today)).status_code == 403


def test_the_head_closes_a_month(client, alpha, today):
    client.force_login(alpha.head)
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    response = client.post(
        reverse("close-month"), {"month": last_month.isoformat(), "confirm": "yes"}, follow=True
    )
    assert "закрыт" in response.content.decode()
    this_month = client.post(
        reverse("close-month"),
        {"month": today.replace(day=1).isoformat(), "confirm": "yes"},
        follow=True,
    )
    assert "Закрыть можно только прошедший месяц" in this_month.content.decode()


def _shown(page: str) -> dict[str, str]:
    """What the form's figure inputs show: what a browser sends back unless the user types."""
    inputs = re.findall(r'<input id="id_\w+" name="(\w+)" value="([^"]*)"', page)
    return {name: value for name, value in inputs if name != "reason"}


def _version(page: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page).group(1)


STORED = {"calls": "57", "long_calls": "20", "talk_time": "1:10:00", "leads": "4"}


@pytest.fixture
def draft_beside_the_report(alpha):
    """The cast's filed report (yesterday) and, beside it, the manager's different typing
    (left by a refused correction or a live check that arrived after the submission)."""
    with tenancy.tenant_context(alpha.company):
        report = DailyReport.objects.get(manager=alpha.manager)
        ReportDraft(
            company=alpha.company, manager=alpha.manager, date=report.date,
            data={"calls": "99", "long_calls": "21", "talk_time": "2:00:00", "leads": "9"},
        ).save()  # fmt: skip
    return report


def test_a_correction_form_shows_the_stored_figures_not_the_managers_draft(
    client, alpha, draft_beside_the_report
):
    report = draft_beside_the_report
    for corrector in (alpha.head, alpha.admin):
        client.force_login(corrector)
        page = client.get(reverse("report-detail", args=[report.code])).content.decode()
        assert _shown(page) == STORED
    client.force_login(alpha.manager)  # the filed report in the manager's own form, too
    assert _shown(client.get(url(report.date)).content.decode()) == STORED


def test_a_correction_of_one_figure_writes_and_logs_that_one(
    client, alpha, draft_beside_the_report
):
    report = draft_beside_the_report
    detail = reverse("report-detail", args=[report.code])
    client.force_login(alpha.admin)
    page = client.get(detail).content.decode()
    with tenancy.tenant_context(alpha.company):
        before = set(ReportChange.objects.filter(report=report).values_list("pk", flat=True))
    sent = {**_shown(page), "leads": "5", "version": _version(page), "reason": "Лид из чата"}
    assert client.post(detail, sent).status_code == 302
    with tenancy.tenant_context(alpha.company):
        new = ReportChange.objects.filter(report=report).exclude(pk__in=before)
        assert [(c.kpi.code, c.old_value, c.new_value) for c in new] == [
            ("leads", Decimal(4), Decimal(5))
        ]
        values = dict(ReportValue.objects.filter(report=report).values_list("kpi__code", "value"))
    assert values == {"calls": 57, "long_calls": 20, "talk_time": 4200, "leads": 5}


def test_a_correction_that_changes_nothing_says_so_and_keeps_the_version(client, alpha):
    with tenancy.tenant_context(alpha.company):
        report = DailyReport.objects.get(manager=alpha.manager)
        changes = ReportChange.objects.filter(report=report).count()
    detail = reverse("report-detail", args=[report.code])
    client.force_login(alpha.head)
    page = client.get(detail).content.decode()
    sent = {**_shown(page), "version": _version(page), "reason": ""}  # no change: no reason
    answer = client.post(detail, sent, follow=True).content.decode()
    assert "Ничего не изменилось" in answer
    with tenancy.tenant_context(alpha.company):
        assert DailyReport.objects.get(pk=report.pk).version == report.version
        assert ReportChange.objects.filter(report=report).count() == changes


def test_a_live_check_that_arrives_after_the_submission_keeps_no_draft(client, alpha, today):
    client.force_login(alpha.managers[1])
    assert client.post(url(today), {**FIGURES, "version": "0"}).status_code == 302
    # The check the last field's change sent as the form went, answered after it.
    late = client.post(
        url(today, "report-check"), {**FIGURES, "calls": "99", "version": "0"},
        headers={**HX, "HX-Trigger-Name": "calls"},
    )  # fmt: skip
    assert late.status_code == 200
    with tenancy.tenant_context(alpha.company):
        assert not ReportDraft.objects.filter(manager=alpha.managers[1], date=today).exists()
    assert _shown(client.get(url(today)).content.decode())["calls"] == "60"
