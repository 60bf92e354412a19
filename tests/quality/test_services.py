from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts import tenancy
from quality import services
from quality.models import CallScore, CallType, ChecklistItem, ItemMark
from tests.quality.conftest import build_known_quality


@pytest.fixture
def known(alpha):
    return build_known_quality(alpha)


def test_a_score_is_the_weight_of_the_points_done_over_all_weight(known):
    with tenancy.tenant_context(known.cast.company):
        assert {k: s.score for k, s in known.scores.items()} == {
            "A1": Decimal("80.00"),
            "A2": Decimal("40.00"),
            "B1": Decimal("30.00"),
            "E1": Decimal("100.00"),
        }
        marks = ItemMark.objects.filter(score=known.scores["B1"]).order_by("item__position")
        assert [(m.done, m.weight) for m in marks] == [
            (True, 1), (False, 3), (False, 2), (False, 2), (True, 2)
        ]  # fmt: skip


def test_scoring_the_same_call_again_corrects_the_score_instead_of_adding_one(known):
    company = known.cast.company
    with tenancy.tenant_context(company):
        again = services.call_score_save(
            company=company, call=known.calls["B"], call_type=known.call_type,
            controller=known.cast.quality, done_items={known.items[1].pk}, comment="Исправил",
        )  # fmt: skip
        assert again.pk == known.scores["B1"].pk
        assert again.score == Decimal("30.00")  # point 1 weighs 3 of 10
        assert CallScore.objects.filter(call=known.calls["B"]).count() == 1
        assert ItemMark.objects.filter(score=again, done=True).count() == 1


def test_a_new_weight_does_not_rewrite_old_scores(known):
    company = known.cast.company
    with tenancy.tenant_context(company):
        services.checklist_item_save(
            call_type=known.call_type, item=known.items[0], text="Представился", weight=10
        )
        known.scores["A1"].refresh_from_db()
        assert known.scores["A1"].score == Decimal("80.00")
        rescored = services.call_score_save(
            company=company, call=known.calls["E"], call_type=known.call_type,
            controller=known.second_controller, done_items={known.items[0].pk},
        )  # fmt: skip
        assert rescored.score == Decimal("52.63")  # 10 of 19


def test_a_scored_point_is_retired_and_an_unscored_one_deleted(known):
    with tenancy.tenant_context(known.cast.company):
        services.checklist_item_remove(item=known.items[4])
        known.items[4].refresh_from_db()
        assert known.items[4].active is False
        fresh = services.checklist_item_save(call_type=known.call_type, text="Новый", weight=1)
        services.checklist_item_remove(item=fresh)
        assert not ChecklistItem.objects.filter(pk=fresh.pk).exists()


def test_refusals_are_explained_and_change_nothing(known):
    company = known.cast.company
    with tenancy.tenant_context(company):
        call = known.calls["B"]
        other_type = CallType.objects.get(company=company, name="Работа с возражениями")
        with pytest.raises(ValidationError, match="не из этого чек-листа"):
            services.call_score_save(
                company=company, call=call, call_type=other_type, controller=known.cast.quality,
                done_items={known.items[0].pk},
            )  # fmt: skip
        empty = services.call_type_save(company=company, name="Пустой")
        with pytest.raises(ValidationError, match="нет пунктов"):
            services.call_score_save(
                company=company, call=call, call_type=empty, controller=known.cast.quality,
                done_items=set(),
            )  # fmt: skip
        call.manager = None
        with pytest.raises(ValidationError, match="нет менеджера"):
            services.call_score_save(
                company=company, call=call, call_type=known.call_type,
                controller=known.cast.quality, done_items=set(),
            )  # fmt: skip
        with pytest.raises(ValidationError, match="уже есть"):
            services.call_type_save(company=company, name="выявление потребностей")
        assert not CallScore.objects.filter(call=call, call_type=other_type).exists()


def test_a_late_score_lands_in_the_filed_report_of_the_calls_day_with_its_history(known):
    from kpi import services as kpi_services
    from kpi.models import KPI
    from reports import services as report_services
    from reports.models import ImportedFigure, ReportChange, ReportValue

    company, m1 = known.cast.company, known.m1
    day = known.scores["B1"].call_date  # 11 March: call B, scored 30 %
    with tenancy.tenant_context(company):
        quality = kpi_services.catalogue_adopt(company=company, code="call_quality")
        calls = KPI.objects.get(company=company, code="calls")
        kpi_services.role_kpis_set(
            company=company, sales_role=m1.sales_role, kpis=[calls, quality],
            effective_from=day.replace(day=1),
        )  # fmt: skip
        filed = report_services.report_submit(
            company=company, manager=m1, day=day, values={"calls": "40", "call_quality": ""},
            actor=known.cast.head,
        )  # fmt: skip
        assert not ReportValue.objects.filter(report=filed.report, kpi=quality).exists()
        # The controller scores the call again the next morning: 2 of 10 → 20 %.
        services.call_score_save(
            company=company, call=known.calls["B"], call_type=known.call_type,
            controller=known.cast.quality, done_items={known.items[4].pk},
        )  # fmt: skip
        value = ReportValue.objects.get(report=filed.report, kpi=quality)
        assert (value.value, value.source) == (Decimal("20.00"), "quality")
        change = ReportChange.objects.get(report=filed.report, kpi=quality)
        assert (change.old_value, change.new_value, change.reason) == (
            None, Decimal("20.00"), "Оценка контроля качества"
        )  # fmt: skip
        filed.report.refresh_from_db()
        assert filed.report.version == 2
        # 10 March (call A) has no report: its average only prefills the form.
        services.call_score_save(
            company=company, call=known.calls["A"], call_type=known.call_type,
            controller=known.second_controller, done_items={known.items[0].pk, known.items[1].pk},
        )  # fmt: skip
        figure = ImportedFigure.objects.get(manager=m1, kpi=quality, date=day.replace(day=10))
        assert figure.value == Decimal("60.00")
