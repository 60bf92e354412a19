"""Issue 17: the dashboard's deal KPIs came from what managers typed, the funnel counted the
CRM's deals, and neither said so (Волков: 5 won on the dashboard, 12 in the funnel; the
farmers: 0 repeat deals while the CRM had one each). Now the two agree or the difference is
flagged with both figures. Built with the product's writers only, so the same test runs on
the code before the figure of record existed, and fails there."""

import datetime
import re
import zoneinfo
from decimal import Decimal

from django.urls import reverse

from accounts import tenancy
from accounts.models import SalesRole, User
from crm_sync import services as crm
from crm_sync.models import PipelineStage
from reports import services as report_services
from rollups import services as rollup_services
from tests.funnel.conftest import build_known_funnel

MSK = zoneinfo.ZoneInfo("Europe/Moscow")


def _cell(body: str, manager: User, kpi_name: str) -> str:
    row = re.search(rf'<tr data-manager="{manager.username}">(.*?)</tr>', body, re.S).group(1)
    return re.search(rf'<td data-label="{kpi_name}"[^>]*>(.*?)</td>', row, re.S).group(1)


def _value(cell: str) -> str:
    return re.search(r'<span class="value">(.*?)</span>', cell).group(1)


def test_the_dashboard_and_the_funnel_do_not_silently_disagree_on_deals_won(alpha, client):
    known = build_known_funnel(alpha)  # typed 1 won deal in March; the CRM has 2
    client.force_login(alpha.head)
    march = "period=month&start=2026-03-01"
    body = client.get(reverse("dashboard") + f"?{march}").content.decode()
    cell = _cell(body, known.manager, "Выигранные сделки")
    funnel = client.get(
        reverse("funnel") + f"?{march}&manager={known.manager.code}"
    ).content.decode()
    assert "выиграно 2" in funnel
    assert _value(cell) == "2" or ('class="differs"' in cell and "CRM: 2" in cell)
    assert 'class="differs"' not in cell or "В отчётах 1, CRM — 2" in cell


def test_the_farmers_repeat_deal_is_counted_or_flagged(alpha, client):
    company = alpha.company
    day = datetime.date(2026, 12, 1)
    farmers = alpha.managers[1:]
    with tenancy.tenant_context(company):
        farmer = SalesRole.objects.get(company=company, kind=SalesRole.Kind.FARMER)
        User.objects.filter(pk__in=[m.pk for m in farmers]).update(sales_role=farmer)
        won = next(
            s for s in PipelineStage.objects.filter(company=company)
            if s.kind == PipelineStage.Kind.WON
        )  # fmt: skip
        for number, manager in enumerate(farmers):
            manager.refresh_from_db()
            moment = datetime.datetime.combine(day, datetime.time(12), tzinfo=MSK)
            crm.deal_upsert(company=company, source="file", data=crm.DealData(
                external_id=f"repeat-{number}", stage=won, title="Повторная",
                created_at=moment - datetime.timedelta(days=5), moved_at=moment,
                manager=manager, amount=Decimal(50000), is_repeat=True,
            ))  # fmt: skip
            report_services.report_submit(
                company=company, manager=manager, day=day,
                values={"repeat_deals": "0", "repeat_sum": "0", "receivables": "100000"},
                actor=alpha.admin, confirmed=True, reason="тестовые данные",
            )  # fmt: skip
    rollup_services.rollup_run(company_id=company.pk)
    client.force_login(alpha.head)
    body = client.get(reverse("dashboard") + "?period=month&start=2026-12-01").content.decode()
    for manager in farmers:
        cell = _cell(body, manager, "Повторные сделки")
        assert _value(cell) == "1" or ('class="differs"' in cell and "CRM: 1" in cell)
