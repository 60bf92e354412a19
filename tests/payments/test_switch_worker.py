"""The rebuild a KPI's switch to 1C queues runs on the real worker once the switch commits,
and the worker's rollup then carries it into the totals."""

import datetime
import time
from decimal import Decimal

import pytest

from accounts import tenancy
from accounts.models import SalesRole, User
from kpi import services as kpi_services
from kpi.models import KPI
from payments import services as payment_services
from reports.models import ImportedFigure
from rollups.models import Total
from tests.conftest import make_cast
from tests.payments.conftest import deal_add

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_the_switch_to_1c_is_rebuilt_on_the_worker(celery_worker):
    cast = make_cast("pay", "Оплаты")
    company, manager = cast.company, cast.managers[0]
    day = datetime.date(2026, 11, 3)
    with tenancy.tenant_context(company):
        closer = SalesRole.objects.get(company=company, kind=SalesRole.Kind.CLOSER)
        User.objects.filter(pk=manager.pk).update(sales_role=closer)
        deal_add(company, manager, "D-101", "Ромашка", 150000, 15)
        payment_services.payment_upsert(
            company=company, source="file",
            data=payment_services.PaymentData(
                external_id="00000101/2026", paid_on=day, amount=Decimal(100000),
                payer_name="ООО «Ромашка»",
            ),
        )  # fmt: skip
        deals_sum = KPI.objects.get(company=company, code="deals_sum")
        kpi_services.kpi_update(
            kpi=deals_sum, actor=cast.admin, source=KPI.Source.ACCOUNTING,
            record=KPI.Record.SOURCE,
        )  # fmt: skip
    figure = total = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (figure and total):
        with tenancy.tenant_context(company):
            figure = ImportedFigure.objects.filter(
                company=company, manager=manager, date=day, kpi=deals_sum, source="accounting"
            ).first()
            total = Total.objects.filter(
                company=company, scope="manager", subject_id=manager.pk, kpi=deals_sum,
                period="month", start=day.replace(day=1),
            ).first()  # fmt: skip
        time.sleep(0.3)
    assert figure is not None and figure.value == 100000
    assert total is not None and total.actual == 100000
