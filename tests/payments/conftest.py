"""The CRM the payments of the recorded 1C files and OData answers belong to (the tables in
tests/payments/test_import.py): three deals of November 2026, their two managers closers."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest

from accounts import tenancy
from accounts.models import SalesRole, User
from crm_sync import services as crm
from crm_sync.models import PipelineStage
from kpi import services as kpi_services
from kpi.models import KPI
from tests.conftest import Cast

MSK = zoneinfo.ZoneInfo("Europe/Moscow")


def deal_add(company, manager, number: str, client: str, amount: int, expected_day: int) -> None:
    stage = PipelineStage.objects.filter(company=company, kind=PipelineStage.Kind.OPEN).first()
    crm.deal_upsert(company=company, source="file", data=crm.DealData(
        external_id=number, stage=stage, title=f"Сделка {number}", manager=manager,
        created_at=datetime.datetime(2026, 10, 1, 12, tzinfo=MSK), amount=Decimal(amount),
        client=crm.client_resolve(company=company, name=client),
        expected_payment_on=datetime.date(2026, 11, expected_day),
    ))  # fmt: skip


@pytest.fixture
def november_deals(alpha: Cast) -> Cast:
    """The three deals; both managers closers; the KPIs' sources as the catalogue has them."""
    company = alpha.company
    with tenancy.tenant_context(company):
        closer = SalesRole.objects.get(company=company, kind=SalesRole.Kind.CLOSER)
        User.objects.filter(pk__in=[m.pk for m in alpha.managers[:2]]).update(sales_role=closer)
        for manager in alpha.managers[:2]:
            manager.refresh_from_db()
        m1, m2 = alpha.managers[:2]
        deal_add(company, m1, "D-101", "Ромашка", 150000, 15)
        deal_add(company, m2, "D-202", "Смирнов Андрей Петрович", 80000, 25)
        deal_add(company, m2, "D-303", "Берёзка-Опт", 40000, 20)
    return alpha


@pytest.fixture
def crm_november(november_deals: Cast) -> Cast:
    """The same with «Сумма сделок» and «Дебиторская задолженность» counted from 1C."""
    with tenancy.tenant_context(november_deals.company):
        for code in ("deals_sum", "receivables"):
            kpi = KPI.objects.get(company=november_deals.company, code=code)
            kpi_services.kpi_update(
                kpi=kpi, actor=november_deals.admin, source=KPI.Source.ACCOUNTING,
                record=KPI.Record.SOURCE,
            )  # fmt: skip
    return november_deals
