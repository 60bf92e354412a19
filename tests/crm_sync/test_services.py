import datetime
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts import tenancy
from crm_sync import services as crm
from crm_sync.models import Call, Deal, PipelineStage, StageVisit
from kpi.services import catalogue_adopt
from reports import selectors as report_selectors
from reports.models import ImportedFigure

MSK = zoneinfo.ZoneInfo("Europe/Moscow")
DAY = datetime.date(2026, 11, 10)


def at(hour: int, minute: int = 0, day: datetime.date = DAY) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=MSK)


def call(manager, number, *, direction="out", hour=10, duration=60, answered=True, client=None):
    return crm.CallData(
        external_id=number, direction=direction, started_at=at(hour, int(number[-1])),
        duration=duration, answered=answered, manager=manager, client=client,
    )  # fmt: skip


def imported(company, manager, day=DAY) -> dict[str, Decimal]:
    return {
        f.kpi.code: f.value
        for f in ImportedFigure.objects.filter(company=company, manager=manager, date=day)
    }


@pytest.mark.django_db
def test_call_records_fill_the_days_calls_conversations_talk_time_and_missed_calls(alpha):
    company, manager = alpha.company, alpha.managers[1]
    with tenancy.tenant_context(company):
        catalogue_adopt(company=company, code="missed_calls")
        for data in [
            call(manager, "a1", duration=14),  # short: not a conversation
            call(manager, "a2", duration=15),  # exactly the threshold: a conversation
            call(manager, "a3", duration=300),
            call(manager, "a4", duration=0, answered=False),
            call(manager, "a5", direction="in", duration=45),
            call(manager, "a6", direction="in", duration=0, answered=False),
            call(manager, "a7", hour=23, duration=100),  # 23:07 Moscow: still the 10th
        ]:
            crm.call_upsert(company=company, source="telephony", data=data)
        figures = imported(company, manager)
    telephony = {code: figures[code] for code in crm.TELEPHONY_CODES}
    assert telephony == {
        "calls": 5, "incoming_calls": 2, "long_calls": 4, "talk_time": 14 + 15 + 300 + 45 + 100,
        "missed_calls": 1,
    }  # fmt: skip


@pytest.mark.django_db
def test_the_company_threshold_decides_what_a_conversation_is(alpha):
    company, manager = alpha.company, alpha.managers[1]
    with tenancy.tenant_context(company):
        company.long_call_seconds = 60
        company.save(update_fields=["long_call_seconds"])
        for number, seconds in (("b1", 59), ("b2", 60), ("b3", 61)):
            crm.call_upsert(
                company=company, source="telephony", data=call(manager, number, duration=seconds)
            )
        assert imported(company, manager)["long_calls"] == 2


@pytest.mark.django_db
def test_the_prefilled_report_shows_what_telephony_and_the_crm_said(alpha):
    company, manager = alpha.company, alpha.managers[1]
    with tenancy.tenant_context(company):
        won = PipelineStage.objects.get(company=company, kind=PipelineStage.Kind.WON)
        for number, amount in (("w1", 1000), ("w2", 2500)):
            crm.deal_upsert(company=company, source="amocrm", data=crm.DealData(
                external_id=number, stage=won, created_at=at(9), moved_at=at(15),
                manager=manager, amount=Decimal(amount),
            ))  # fmt: skip
        crm.call_upsert(company=company, source="telephony", data=call(manager, "c1"))
        form = report_selectors.report_form(company=company, manager=manager, day=DAY)
        figures = imported(company, manager)
    assert (figures["deals_won"], figures["deals_sum"], figures["leads"]) == (2, 3500, 2)
    assert figures["calls"] == 1
    prefilled = {row.kpi.code: row for row in form.rows}
    assert (prefilled["calls"].imported, prefilled["calls"].text) == (1, "1")
    assert prefilled["calls"].source == "telephony"


@pytest.mark.django_db
def test_a_record_seen_twice_is_stored_once_and_a_change_updates_it(alpha):
    company, manager = alpha.company, alpha.managers[1]
    with tenancy.tenant_context(company):
        stages = list(PipelineStage.objects.filter(company=company))
        data = crm.DealData(
            external_id="X-1", stage=stages[0], created_at=at(9), manager=manager,
            amount=Decimal(100),
        )  # fmt: skip
        assert crm.deal_upsert(company=company, source="bitrix24", data=data)[1] == "created"
        assert crm.deal_upsert(company=company, source="bitrix24", data=data)[1] == "unchanged"
        data.amount, data.stage, data.moved_at = Decimal(150), stages[2], at(12)
        deal, outcome = crm.deal_upsert(company=company, source="bitrix24", data=data)
        assert outcome == "updated" and deal.amount == 150
        visits = list(
            StageVisit.objects.filter(deal=deal).values_list("stage", "entered_at", "left_at")
        )
        assert visits == [(stages[0].pk, at(9), at(12)), (stages[2].pk, at(12), None)]
        assert Deal.objects.filter(company=company, external_id="X-1").count() == 1
        assert (
            crm.call_upsert(company=company, source="telephony", data=call(manager, "d1"))[1]
            == "created"
        )
        assert (
            crm.call_upsert(company=company, source="telephony", data=call(manager, "d1"))[1]
            == "unchanged"
        )
        assert Call.objects.filter(company=company, external_id="d1").count() == 1


@pytest.mark.django_db
def test_bad_figures_are_refused_in_russian_and_nothing_is_stored(alpha):
    company = alpha.company
    with tenancy.tenant_context(company):
        stage = PipelineStage.objects.filter(company=company).first()
        with pytest.raises(ValidationError, match="отрицательной"):
            crm.deal_upsert(company=company, source="file", data=crm.DealData(
                external_id="neg", stage=stage, created_at=at(9), amount=Decimal(-1),
            ))  # fmt: skip
        with pytest.raises(ValidationError, match="раньше"):
            crm.deal_upsert(company=company, source="file", data=crm.DealData(
                external_id="early", stage=stage, created_at=at(9), closed_at=at(8),
            ))  # fmt: skip
        assert not Deal.objects.filter(company=company, external_id__in=["neg", "early"]).exists()


@pytest.mark.django_db
def test_three_missed_calls_in_a_row_hand_the_open_deal_to_marketing(alpha):
    company, manager = alpha.company, alpha.managers[1]
    with tenancy.tenant_context(company):
        client = crm.client_resolve(company=company, name="ООО Тишина", phone="8 (900) 111-22-33")
        stage = PipelineStage.objects.filter(company=company).first()
        deal, _ = crm.deal_upsert(company=company, source="file", data=crm.DealData(
            external_id="quiet", stage=stage, created_at=at(8), manager=manager, client=client,
        ))  # fmt: skip
        miss = {"answered": False, "duration": 0, "client": client}
        crm.call_upsert(company=company, source="telephony", data=call(manager, "m1", **miss))
        crm.call_upsert(company=company, source="telephony", data=call(manager, "m2", **miss))
        # The client called back in between: the streak starts again.
        crm.call_upsert(company=company, source="telephony",
                        data=call(manager, "m3", direction="in", client=client))  # fmt: skip
        crm.call_upsert(company=company, source="telephony", data=call(manager, "m4", **miss))
        crm.call_upsert(company=company, source="telephony", data=call(manager, "m5", **miss))
        deal.refresh_from_db()
        assert deal.status == Deal.Status.OPEN
        crm.call_upsert(company=company, source="telephony", data=call(manager, "m6", **miss))
        deal.refresh_from_db()
        assert deal.status == Deal.Status.RETARGETING
        assert deal.retargeting_reason == "3 недозвона подряд"
        assert not deal.visits.filter(left_at__isnull=True).exists()


@pytest.mark.django_db
def test_the_missed_calls_limit_is_the_companys(alpha):
    company, manager = alpha.company, alpha.managers[1]
    with tenancy.tenant_context(company):
        company.missed_calls_limit = 2
        company.save(update_fields=["missed_calls_limit"])
        client = crm.client_resolve(company=company, name="ИП Занят", phone="+79001112244")
        stage = PipelineStage.objects.filter(company=company).first()
        deal, _ = crm.deal_upsert(company=company, source="file", data=crm.DealData(
            external_id="busy", stage=stage, created_at=at(8), manager=manager, client=client,
        ))  # fmt: skip
        miss = {"answered": False, "duration": 0, "client": client}
        crm.call_upsert(company=company, source="telephony", data=call(manager, "n1", **miss))
        crm.call_upsert(company=company, source="telephony", data=call(manager, "n2", **miss))
        deal.refresh_from_db()
        assert deal.status == Deal.Status.RETARGETING


@pytest.mark.django_db
def test_one_phone_written_two_ways_is_one_client(alpha):
    with tenancy.tenant_context(alpha.company):
        first = crm.client_resolve(company=alpha.company, name="А", phone="8 (912) 345-67-89")
        second = crm.client_resolve(company=alpha.company, name="", phone="+7 912 3456789")
    assert first == second and first.phone == "79123456789"


@pytest.mark.django_db
def test_credentials_are_stored_encrypted_and_shown_masked(alpha):
    from accounts import crypto
    from crm_sync.models import CRMConnection

    with tenancy.tenant_context(alpha.company):
        connection = CRMConnection.objects.get(company=alpha.company, vendor="amocrm")
        connection = crm.connection_save(
            company=alpha.company, vendor="amocrm", base_url="https://a.amocrm.ru",
            token="secret-token-123456", connection=connection,
        )  # fmt: skip
        assert "secret-token" not in connection.credentials
        assert crm.connection_token(connection) == "secret-token-123456"
    assert crypto.masked("secret-token-123456") == "••••••••3456"
