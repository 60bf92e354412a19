"""Closing a month says what it means and asks; an admin reopens one, with a reason."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts import tenancy
from accounts.models import AuditEvent
from reports import services
from reports.models import ClosedMonth, DailyReport
from tests.reports.conftest import FIGURES, working_day_before

HX = {"HX-Request": "true"}


@pytest.fixture
def last_month(today):
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def is_closed(cast, month):
    with tenancy.tenant_context(cast.company):
        return ClosedMonth.objects.filter(company=cast.company, month=month).exists()


def test_closing_a_month_says_what_it_means_and_asks_first(client, ctx, last_month):
    # Days before joining are no missed reports: the cast has worked here since before then.
    ctx.managers[2].date_joined = ctx.company.day_start(last_month)
    ctx.managers[2].save(update_fields=["date_joined"])
    day = working_day_before(last_month.replace(day=28), ctx)
    services.report_submit(
        company=ctx.company, manager=ctx.managers[1], day=day, values=FIGURES, actor=ctx.head
    )
    client.force_login(ctx.head)
    asked = client.post(reverse("close-month"), {"month": last_month.isoformat()})
    page = asked.content.decode()
    assert asked.status_code == 200
    assert not is_closed(ctx, last_month)
    with tenancy.tenant_context(ctx.company):
        reports = DailyReport.objects.filter(date__year=day.year, date__month=day.month).count()
    assert f"Отчётов за месяц: {reports}," in page
    assert "дней без отчёта" in page and str(ctx.managers[2]) in page
    assert "исправить их может только администратор" in page
    assert 'name="confirm" value="yes"' in page
    client.post(reverse("close-month"), {"month": last_month.isoformat(), "confirm": "yes"})
    assert is_closed(ctx, last_month)
    with tenancy.tenant_context(ctx.company):
        assert AuditEvent.objects.filter(action="month_closed", target=f"{last_month:%m.%Y}")


def test_the_question_comes_as_a_block_with_htmx_and_as_a_page_without(client, alpha, last_month):
    client.force_login(alpha.head)
    params = {"month": last_month.isoformat()}
    block = client.get(reverse("close-month"), params, headers=HX).content.decode()
    assert block.lstrip().startswith('<section class="card month-close"')
    page = client.get(reverse("close-month"), params).content.decode()
    assert "<html" in page and "Да, закрыть" in page
    assert not is_closed(alpha, last_month)


def test_an_admin_reopens_a_closed_month_with_a_reason(client, ctx, last_month):
    services.month_close(company=ctx.company, month=last_month, actor=ctx.head)
    client.force_login(ctx.admin)
    team_page = client.get(reverse("team-reports")).content.decode()
    assert "Открыть заново" in team_page
    without = client.post(
        reverse("reopen-month"), {"month": last_month.isoformat(), "reason": "  "}, follow=True
    )
    assert "Укажите причину" in without.content.decode()
    assert is_closed(ctx, last_month)
    done = client.post(
        reverse("reopen-month"),
        {"month": last_month.isoformat(), "reason": "Пропущен отчёт Петровой"},
        follow=True,
    )
    assert "открыт заново" in done.content.decode()
    assert not is_closed(ctx, last_month)
    event = AuditEvent.objects.filter(company=ctx.company, action="month_reopened").get()
    assert event.actor == ctx.admin
    assert event.target == f"{last_month:%m.%Y}: Пропущен отчёт Петровой"
    day = working_day_before(last_month.replace(day=28), ctx)
    services.report_submit(
        company=ctx.company, manager=ctx.managers[1], day=day, values=FIGURES, actor=ctx.head
    )  # the head corrects the reopened month again


def test_a_head_cannot_reopen_a_month(client, ctx, last_month):
    services.month_close(company=ctx.company, month=last_month, actor=ctx.head)
    client.force_login(ctx.head)
    team_page = client.get(reverse("team-reports")).content.decode()
    assert "Открыть заново" not in team_page
    assert "может только администратор" in team_page
    refused = client.post(
        reverse("reopen-month"), {"month": last_month.isoformat(), "reason": "Хочу поправить"}
    )
    assert refused.status_code == 403
    assert is_closed(ctx, last_month)
    with pytest.raises(PermissionDenied):
        services.month_reopen(company=ctx.company, month=last_month, actor=ctx.head, reason="x")


def test_reopening_needs_a_reason_and_a_closed_month(ctx, last_month):
    services.month_close(company=ctx.company, month=last_month, actor=ctx.head)
    with pytest.raises(ValidationError, match="причину"):
        services.month_reopen(company=ctx.company, month=last_month, actor=ctx.admin, reason="")
    services.month_reopen(company=ctx.company, month=last_month, actor=ctx.admin, reason="Ошибка")
    with pytest.raises(ValidationError, match="не закрыт"):
        services.month_reopen(
            company=ctx.company, month=last_month, actor=ctx.admin, reason="Ещё раз"
        )
