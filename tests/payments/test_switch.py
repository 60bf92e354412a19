"""A KPI switched to «бухгалтерия (1С)» after the payments came in takes them as its figures,
and switched back it leaves them: the switch rebuilds the days 1C has money for (on the
worker, the admin told so) and the totals follow through their one marking entry.

The payments are those of tests/payments/test_import.py's file, imported while «Сумма
сделок» still counted the CRM's won deals (none won in November): by hand,

| KPI «Сумма сделок», November | 03.11   | 10.11  | 20.11 | month   |
|------------------------------|---------|--------|-------|---------|
| manager 0 (Ромашка, D-101)   | 100 000 | 25 000 |       | 125 000 |
| manager 1 (Смирнов, D-202)   |         | 50 000 |       | 50 000  |
(20.11: «Берёзка» pays 40 000 and is linked to no client: nobody's.) The form of each day
offers that figure, marked as 1C's, and it is the one that counts. Back on the CRM (checked,
as the catalogue has it): nothing of 1C is offered or counted, and the month's totals are
what they were before the switch.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts import tenancy
from accounts.models import User
from kpi import services as kpi_services
from kpi.models import KPI
from payments import tasks
from payments.models import Payment
from reports.models import ImportedFigure
from reports.selectors import report_form
from rollups import services as rollup_services
from rollups.models import Total
from tests.conftest import Cast
from tests.payments.test_import import imported

NOVEMBER = datetime.date(2026, 11, 1)
DAYS = (datetime.date(2026, 11, 3), datetime.date(2026, 11, 10), datetime.date(2026, 11, 20))
KPI_FORM = {
    "code": "deals_sum", "name_ru": "Сумма выигранных сделок", "name_en": "Deals won, sum",
    "unit": "money", "direction": "higher", "aggregation": "sum", "decimals": 2,
}  # fmt: skip


@pytest.fixture
def rebuild_here(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """The rebuild the switch queues, run in this process when the switch commits (the
    worker's own run: tests/payments/test_switch_worker.py)."""
    queued: list[tuple] = []

    def delay(*arguments: object) -> None:
        queued.append(arguments)
        tasks.figures_rebuild.apply(args=arguments).get()

    monkeypatch.setattr(tasks.figures_rebuild, "delay", delay)
    return queued


def _switch(client: Client, cast: Cast, capture, **fields: str) -> str:
    with tenancy.tenant_context(cast.company):
        deals_sum = KPI.objects.get(company=cast.company, code="deals_sum")
    client.force_login(cast.admin)
    with capture(execute=True):
        response = client.post(
            reverse("kpi-edit", args=[deals_sum.uid]), {**KPI_FORM, **fields}, follow=True
        )
    assert response.status_code == 200
    rollup_services.rollup_run(company_id=cast.company.pk)
    return response.content.decode()


def _form(cast: Cast, manager: User) -> dict[datetime.date, tuple[Decimal | None, str, bool]]:
    """What the end-of-day form offers for «Сумма сделок» on each day: (figure, its source,
    whether it counts)."""
    shown = {}
    for day in DAYS:
        [row] = [
            row
            for row in report_form(company=cast.company, manager=manager, day=day).rows
            if row.kpi.code == "deals_sum"
        ]
        shown[day] = (row.imported, row.imported_source, row.counts_source)
    return shown


def _month(cast: Cast, manager: User) -> Decimal | None:
    total = Total.objects.filter(
        company=cast.company, scope="manager", subject_id=manager.pk, kpi__code="deals_sum",
        period="month", start=NOVEMBER,
    ).first()  # fmt: skip
    return total.actual if total else None


def test_switching_to_1c_and_back_rebuilds_the_days_figures(
    client, november_deals, rebuild_here, django_capture_on_commit_callbacks
):
    cast = november_deals
    m0, m1 = cast.managers[:2]
    imported(client, cast)
    with tenancy.tenant_context(cast.company):
        assert Payment.objects.filter(company=cast.company, source="file").count() == 5
        deals_sum = KPI.objects.get(company=cast.company, code="deals_sum")
        assert (deals_sum.source, deals_sum.record) == ("crm", "checked")
    rollup_services.rollup_run(company_id=cast.company.pk)
    with tenancy.tenant_context(cast.company):
        before = (_month(cast, m0), _month(cast, m1))
        # Imported while the KPI counted the CRM: no figure of 1C yet.
        assert not ImportedFigure.objects.filter(
            company=cast.company, kpi__code="deals_sum", source="accounting"
        ).exists()

    page = _switch(client, cast, django_capture_on_commit_callbacks,
                   source="accounting", record="source")  # fmt: skip
    assert "пересчитываются в фоне" in page  # the admin is told
    assert len(rebuild_here) == 1
    with tenancy.tenant_context(cast.company):
        accounting = ("accounting", True)
        assert _form(cast, m0) == {
            DAYS[0]: (Decimal(100000), *accounting), DAYS[1]: (Decimal(25000), *accounting),
            DAYS[2]: (None, "", False),
        }  # fmt: skip
        assert _form(cast, m1) == {
            DAYS[0]: (None, "", False), DAYS[1]: (Decimal(50000), *accounting),
            DAYS[2]: (None, "", False),
        }  # fmt: skip
        assert (_month(cast, m0), _month(cast, m1)) == (Decimal(125000), Decimal(50000))

    page = _switch(client, cast, django_capture_on_commit_callbacks,
                   source="crm", record="checked")  # fmt: skip
    assert "пересчитываются в фоне" in page
    with tenancy.tenant_context(cast.company):
        nothing = {day: (None, "", False) for day in DAYS}
        assert _form(cast, m0) == nothing and _form(cast, m1) == nothing
        assert not ImportedFigure.objects.filter(
            company=cast.company, kpi__code="deals_sum", source="accounting"
        ).exists()
        # The month is the manager's figures again, as before the switch.
        assert (_month(cast, m0), _month(cast, m1)) == before


def test_1c_takes_money_kpis_only(alpha):
    with tenancy.tenant_context(alpha.company):
        calls = KPI.objects.get(company=alpha.company, code="calls")
        with pytest.raises(ValidationError, match="Из 1С приходят только деньги"):
            kpi_services.kpi_update(kpi=calls, actor=alpha.admin, source=KPI.Source.ACCOUNTING)
