"""The rules of the end-of-day report, on PostgreSQL, through the service every path uses."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from reports import services
from reports.models import DailyReport, ReportChange, ReportDraft, ReportValue
from tests.reports.conftest import FIGURES

D = Decimal


def submit(ctx, day, values=None, actor=None, manager=None, **options):
    return services.report_submit(
        company=ctx.company,
        manager=manager or ctx.managers[1],
        day=day,
        values=FIGURES if values is None else values,
        actor=actor or manager or ctx.managers[1],
        **options,
    )


def stored(ctx, day, manager=None):
    return dict(
        ReportValue.objects.filter(
            report__manager=manager or ctx.managers[1], report__date=day
        ).values_list("kpi__code", "value")
    )


def test_a_report_is_saved_with_every_figure_read_as_typed(ctx, today):
    submission = submit(ctx, today, {**FIGURES, "calls": "1 060"})
    assert submission.created
    assert stored(ctx, today) == {
        "calls": D(1060), "long_calls": D(25), "talk_time": D(5400), "leads": D(4),
    }  # fmt: skip


def test_one_report_per_manager_per_day_is_a_database_constraint(ctx, today):
    submit(ctx, today)
    with pytest.raises(IntegrityError), transaction.atomic():
        DailyReport(
            company=ctx.company, manager=ctx.managers[1], date=today, submitted_at=timezone.now()
        ).save()


def test_a_future_date_is_refused(ctx, today):
    with pytest.raises(ValidationError, match="за будущий день"):
        submit(ctx, today + datetime.timedelta(days=1))


def test_past_days_are_open_for_the_company_window_then_only_the_head_corrects(ctx, today):
    window = ctx.company.report_backdate_days
    submit(ctx, today - datetime.timedelta(days=window))
    old = today - datetime.timedelta(days=window + 1)
    with pytest.raises(ValidationError, match="может руководитель отдела продаж"):
        submit(ctx, old)
    # The head files it, and a later correction by the head needs a reason.
    submit(ctx, old, actor=ctx.head, manager=ctx.managers[1], version=0)
    with pytest.raises(ValidationError, match="причину"):
        submit(ctx, old, {**FIGURES, "calls": "61"}, actor=ctx.head, manager=ctx.managers[1],
               version=1)  # fmt: skip
    assert stored(ctx, old)["calls"] == D(60)


def test_a_stranger_to_the_team_may_not_report_for_a_manager(ctx, today):
    with pytest.raises(PermissionDenied):
        submit(ctx, today, actor=ctx.quality, manager=ctx.managers[1])


def test_weekend_work_can_be_reported(ctx, today):
    ctx.company.report_backdate_days = 7
    ctx.company.save(update_fields=["report_backdate_days"])
    saturday = today - datetime.timedelta(days=(today.weekday() - 5) % 7)
    assert saturday.weekday() == 5
    assert submit(ctx, saturday).created


def test_every_change_after_submission_keeps_its_history(ctx, today):
    first = submit(ctx, today)
    submit(ctx, today, {**FIGURES, "calls": "65"}, version=first.report.version)
    submit(
        ctx, today, {**FIGURES, "calls": "64"}, actor=ctx.head, manager=ctx.managers[1],
        version=first.report.version + 1, reason="Звонок не дозвонился",
    )  # fmt: skip
    history = list(ReportChange.objects.filter(report=first.report).order_by("id"))
    assert [(c.kpi.code, c.old_value, c.new_value, c.changed_by, c.reason) for c in history] == [
        ("calls", D(60), D(65), ctx.managers[1], ""),
        ("calls", D(65), D(64), ctx.head, "Звонок не дозвонился"),
    ]
    assert DailyReport.objects.get(pk=first.report.pk).version == 3


def test_the_second_tab_gets_a_conflict_with_both_values(ctx, today):
    submit(ctx, today, version=0)  # the first tab
    with pytest.raises(services.ReportConflict) as conflict:
        submit(ctx, today, {**FIGURES, "calls": "45"}, version=0)  # the second tab
    message = conflict.value.message
    assert "уже отправлен из другой вкладки" in message
    assert "сохранено 60, у вас 45" in message
    assert stored(ctx, today)["calls"] == D(60)


def test_a_refused_submission_leaves_the_callers_transaction_usable(ctx, today, monkeypatch):
    """report_submit takes no savepoint of its own: each refusal (a conflict, a missing
    reason, a race lost at the insert) is raised outside its block, and the request that
    asked goes on to render the page in the same transaction."""
    first = submit(ctx, today, version=0)
    with transaction.atomic():  # the request's transaction (ATOMIC_REQUESTS)
        with pytest.raises(services.ReportConflict):
            submit(ctx, today, {**FIGURES, "calls": "45"}, version=0)
        with pytest.raises(ValidationError, match="причину"):
            submit(
                ctx, today, {**FIGURES, "calls": "45"}, actor=ctx.head,
                manager=ctx.managers[1], version=first.report.version,
            )  # fmt: skip
        # Another tab inserted between the read and the insert: the constraint decides.
        monkeypatch.setattr(services, "_REPORT_LOCKED", lambda **values: [])
        with pytest.raises(services.ReportConflict):
            submit(ctx, today, {**FIGURES, "calls": "45"}, version=0)
        assert stored(ctx, today)["calls"] == D(60)  # still a usable transaction


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("calls", "-5", "не может быть отрицательным"),
        ("calls", "сорок", "«сорок» — не число"),
        ("talk_time", "полтора часа", "Не понимаю длительность"),
        ("leads", "", "Заполните «Созданные лиды»"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_saved(
    ctx, today, field, typed, message
):
    with pytest.raises(ValidationError) as refusal:
        submit(ctx, today, {**FIGURES, field: typed})
    assert message in refusal.value.message_dict[field][0]
    assert not DailyReport.objects.filter(manager=ctx.managers[1], date=today).exists()


@pytest.mark.parametrize(
    ("typed", "seconds"), [("1:30:00", 5400), ("90 мин", 5400), ("90", 5400), ("1 ч 15 мин", 4500)]
)
def test_durations_in_every_usual_form(ctx, today, typed, seconds):
    submit(ctx, today, {**FIGURES, "talk_time": typed})
    assert stored(ctx, today)["talk_time"] == D(seconds)


def test_money_with_commas_and_spaces(ctx, today):
    closer = ctx.managers[2]
    from accounts.models import SalesRole, User

    User.objects.filter(pk=closer.pk).update(
        sales_role=SalesRole.objects.get(company=ctx.company, kind="closer")
    )
    closer.refresh_from_db()
    values = {"meetings": "2", "deals_won": "1", "deals_sum": "150 000,50"}
    services.report_submit(
        company=ctx.company, manager=closer, day=today, values=values, actor=closer
    )
    assert stored(ctx, today, closer) == {
        "meetings": D(2), "deals_won": D(1), "deals_sum": D("150000.50"),
    }  # fmt: skip  # the average check is computed, not typed


def test_far_above_the_usual_asks_to_confirm(ctx, today):
    from tests.reports.conftest import working_day_before

    day = today
    for back in range(1, 6):
        past = working_day_before(today, ctx, back)
        DailyReport.objects.filter(manager=ctx.managers[1], date=past).delete()
        services.report_submit(
            company=ctx.company, manager=ctx.managers[1], day=past, values=FIGURES,
            actor=ctx.head, version=0,
        )  # fmt: skip
    with pytest.raises(services.NeedsConfirmation) as question:
        submit(ctx, day, {**FIGURES, "calls": "600"})
    assert "намного больше обычного" in question.value.questions["calls"]
    assert not DailyReport.objects.filter(manager=ctx.managers[1], date=day).exists()
    submit(ctx, day, {**FIGURES, "calls": "600"}, confirmed=True)
    assert stored(ctx, day)["calls"] == D(600)


def test_a_closed_month_is_read_only_except_for_an_admin_with_a_reason(ctx, today):
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=15)
    first = submit(ctx, last_month, actor=ctx.head, manager=ctx.managers[1], version=0)
    services.month_close(company=ctx.company, month=last_month, actor=ctx.head)
    with pytest.raises(ValidationError, match="Месяц закрыт"):
        submit(ctx, last_month, {**FIGURES, "calls": "1"}, actor=ctx.head,
               manager=ctx.managers[1], version=first.report.version, reason="x")  # fmt: skip
    with pytest.raises(ValidationError, match="причину"):
        submit(ctx, last_month, {**FIGURES, "calls": "1"}, actor=ctx.admin,
               manager=ctx.managers[1], version=first.report.version)  # fmt: skip
    submit(ctx, last_month, {**FIGURES, "calls": "1"}, actor=ctx.admin, manager=ctx.managers[1],
           version=first.report.version, reason="Ошибка выгрузки")  # fmt: skip
    assert stored(ctx, last_month)["calls"] == D(1)


def test_a_figure_accepted_from_telephony_is_marked_so(ctx, today):
    from kpi.models import KPI

    calls = KPI.objects.get(company=ctx.company, code="calls")
    services.imported_figure_set(
        company=ctx.company, manager=ctx.managers[1], day=today, kpi=calls,
        source="telephony", value=D(60),
    )  # fmt: skip
    submit(ctx, today)
    sources = dict(
        ReportValue.objects.filter(report__manager=ctx.managers[1], report__date=today).values_list(
            "kpi__code", "source"
        )
    )
    assert sources["calls"] == "telephony" and sources["leads"] == "manual"


def test_submitting_clears_the_draft(ctx, today):
    services.draft_save(
        company=ctx.company, manager=ctx.managers[1], day=today, data={"calls": "5"}
    )
    submit(ctx, today)
    assert not ReportDraft.objects.filter(manager=ctx.managers[1], date=today).exists()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"calls": "1e30"}, "не число"),
        ({"calls": "10 001"}, "не больше 10"),
        ({"talk_time": "24:00:01"}, "не больше 24 ч"),
        ({"calls": "1,5"}, "целое число"),
        ({"calls": D("1E+30")}, "не больше 10"),
        ({"talk_time": D(86401)}, "не больше 24 ч"),
    ],
)
def test_figures_beyond_their_bounds_are_refused_even_when_confirmed(ctx, today, values, message):
    with pytest.raises(ValidationError, match=message):
        submit(ctx, today, {**FIGURES, **values}, confirmed=True)
    assert not DailyReport.objects.filter(manager=ctx.managers[1], date=today).exists()


def test_a_number_is_in_the_kpis_unit_and_text_is_read_as_typed(ctx, today):
    submit(ctx, today, {**FIGURES, "talk_time": D(5168)})
    assert stored(ctx, today)["talk_time"] == D(5168)  # seconds, not minutes


def test_figures_sent_back_as_stored_are_no_change(ctx, today):
    first = submit(ctx, today)
    # The same figures as typed differently: a decimal comma, minutes for 1:30:00.
    same = {"calls": "60,0", "long_calls": "25", "talk_time": "90", "leads": "4"}
    again = submit(ctx, today, same, actor=ctx.head, version=first.report.version)
    assert again.changed == 0  # and no reason asked: nothing was corrected
    assert not ReportChange.objects.filter(report=first.report).exists()
    assert DailyReport.objects.get(pk=first.report.pk).version == first.report.version
    one = submit(
        ctx, today, {**same, "leads": "5"}, actor=ctx.head, version=first.report.version,
        reason="Лид из чата",
    )  # fmt: skip
    assert one.changed == 1
    assert [(c.kpi.code, c.old_value, c.new_value) for c in first.report.changes.all()] == [
        ("leads", D(4), D(5))
    ]
