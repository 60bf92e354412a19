import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts import tenancy
from kpi import selectors, services
from kpi.models import KPI, PlanChange

D = Decimal
JAN = datetime.date(2026, 1, 1)


@pytest.fixture
def ctx(alpha):
    with tenancy.tenant_context(alpha.company):
        yield alpha


def k(cast, code):
    return KPI.objects.get(company=cast.company, code=code)


def set_plan(cast, code, value, **target):
    return services.plan_set(
        company=cast.company, kpi=k(cast, code), start=JAN, value=D(value), **target
    )


def day(cast, manager, code, date):
    return selectors.day_plan(company=cast.company, manager=manager, kpi=k(cast, code), day=date)


def test_the_role_default_applies_until_a_manager_has_an_own_plan(ctx):
    hunter = ctx.manager.sales_role
    set_plan(ctx, "calls", 1500, sales_role=hunter)
    second = ctx.managers[1]
    assert selectors.month_plan(
        company=ctx.company, manager=second, kpi=k(ctx, "calls"), month=JAN
    ) == D(1500)
    set_plan(ctx, "calls", 3000, manager=second)
    assert selectors.month_plan(
        company=ctx.company, manager=second, kpi=k(ctx, "calls"), month=JAN
    ) == D(3000)


def test_a_day_plan_is_the_month_plan_over_its_working_days(ctx):
    set_plan(ctx, "calls", 1500, manager=ctx.manager)
    assert day(ctx, ctx.manager, "calls", datetime.date(2026, 1, 12)) == D(100)  # 1500 / 15
    assert day(ctx, ctx.manager, "calls", datetime.date(2026, 1, 3)) == D(0)  # holiday
    week = selectors.period_plan(
        company=ctx.company,
        manager=ctx.manager,
        kpi=k(ctx, "calls"),
        start=datetime.date(2026, 1, 12),
        end=datetime.date(2026, 1, 18),
    )
    assert week == D(500)


def test_absences_move_the_plan_onto_the_remaining_days(ctx):
    set_plan(ctx, "calls", 1500, manager=ctx.manager)
    services.absence_create(
        company=ctx.company,
        manager=ctx.manager,
        kind="vacation",
        start=datetime.date(2026, 1, 12),
        end=datetime.date(2026, 1, 16),
    )
    assert day(ctx, ctx.manager, "calls", datetime.date(2026, 1, 20)) == D(150)  # 1500 / 10
    assert day(ctx, ctx.manager, "calls", datetime.date(2026, 1, 13)) == D(0)


def test_averaged_and_ratio_targets_are_the_same_at_every_period(ctx):
    closer = ctx.managers[1]
    set_plan(ctx, "avg_check", 80000, manager=closer)
    set_plan(ctx, "response_time", 600, manager=closer)
    assert day(ctx, closer, "avg_check", datetime.date(2026, 1, 12)) == D(80000)
    assert day(ctx, closer, "response_time", datetime.date(2026, 1, 12)) == D(600)


def test_a_week_across_two_months_takes_its_share_of_each(ctx):
    calls = k(ctx, "calls")
    services.plan_set(
        company=ctx.company, kpi=calls, start=datetime.date(2025, 12, 1), value=D(2200),
        manager=ctx.manager,
    )  # fmt: skip
    set_plan(ctx, "calls", 1500, manager=ctx.manager)
    week = selectors.period_plan(
        company=ctx.company,
        manager=ctx.manager,
        kpi=calls,
        start=datetime.date(2025, 12, 29),
        end=datetime.date(2026, 1, 4),
    )
    # December 2025 has 22 working days (the 31st is a day off): 29 and 30 → 2 × 100.
    assert week == D(200)


def test_a_weekly_plan_wins_for_its_week(ctx):
    set_plan(ctx, "calls", 1500, manager=ctx.manager)
    services.plan_set(
        company=ctx.company, kpi=k(ctx, "calls"), start=datetime.date(2026, 1, 14),
        value=D(420), manager=ctx.manager, period="week",
    )  # fmt: skip
    week = selectors.period_plan(
        company=ctx.company,
        manager=ctx.manager,
        kpi=k(ctx, "calls"),
        start=datetime.date(2026, 1, 12),
        end=datetime.date(2026, 1, 18),
    )
    assert week == D(420)


def test_every_change_is_kept_with_who_and_the_old_value(ctx):
    set_plan(ctx, "calls", 1500, manager=ctx.manager, actor=ctx.admin)
    set_plan(ctx, "calls", 1800, manager=ctx.manager, actor=ctx.head)
    set_plan(ctx, "calls", 1800, manager=ctx.manager, actor=ctx.head)  # no change, no record
    changes = list(
        PlanChange.objects.filter(company=ctx.company, manager=ctx.manager, start=JAN).order_by(
            "id"
        )
    )
    assert [(c.old_value, c.new_value, c.changed_by) for c in changes] == [
        (None, D(1500), ctx.admin),
        (D(1500), D(1800), ctx.head),
    ]


def test_a_negative_plan_is_refused(ctx):
    with pytest.raises(ValidationError, match="отрицательным"):
        set_plan(ctx, "calls", -1, manager=ctx.manager)


def test_copy_last_month_and_uplift(ctx):
    hunter = ctx.manager.sales_role
    set_plan(ctx, "calls", 1000, manager=ctx.manager)
    set_plan(ctx, "calls", 1200, sales_role=hunter)
    feb = datetime.date(2026, 2, 1)
    preview = selectors.plans_copy_preview(company=ctx.company, team=ctx.team, month=feb)
    assert (
        services.plans_copy_previous_month(
            company=ctx.company, team=ctx.team, month=feb, digest=preview.digest
        )
        == 2
    )
    uplift = selectors.plans_uplift_preview(
        company=ctx.company, team=ctx.team, month=feb, percent=D(10)
    )
    services.plans_uplift(
        company=ctx.company, team=ctx.team, month=feb, percent=D(10), digest=uplift.digest
    )
    calls = k(ctx, "calls")
    assert selectors.month_plan(
        company=ctx.company, manager=ctx.manager, kpi=calls, month=feb
    ) == D(1100)
    assert selectors.month_plan(
        company=ctx.company, manager=ctx.managers[1], kpi=calls, month=feb
    ) == D(1320)


def test_uplift_leaves_lower_is_better_plans(ctx):
    receivables = k(ctx, "receivables")
    services.plan_set(
        company=ctx.company, kpi=receivables, start=JAN, value=D(400000),
        sales_role=ctx.manager.sales_role,
    )  # fmt: skip
    uplift = selectors.plans_uplift_preview(
        company=ctx.company, team=ctx.team, month=JAN, percent=D(10)
    )
    services.plans_uplift(
        company=ctx.company, team=ctx.team, month=JAN, percent=D(10), digest=uplift.digest
    )
    assert selectors.plan_grid_cell(
        company=ctx.company, kpi=receivables, month=JAN, manager=None,
        sales_role=ctx.manager.sales_role,
    ).value == D(400000)  # fmt: skip


def test_the_grid_cell_saves_with_htmx_and_refuses_bad_input(client, alpha):
    client.force_login(alpha.admin)
    with tenancy.tenant_context(alpha.company):
        calls = k(alpha, "calls")
        talk = k(alpha, "talk_time")
    url = reverse("plan-cell", args=[alpha.team.code, 2026, 1])
    saved = client.post(
        url, {"kpi": calls.uid, "manager": alpha.manager.code, "value": "1 500"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    body = saved.content.decode()
    assert saved.status_code == 200
    assert body.lstrip().startswith('<td class="plan-cell')
    assert 'value="1500"' in body and "сохранено" in body
    bad = client.post(
        url, {"kpi": calls.uid, "manager": alpha.manager.code, "value": "много"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert bad.status_code == 422
    assert "не число" in bad.content.decode()
    duration = client.post(
        url, {"kpi": talk.uid, "manager": alpha.manager.code, "value": "100 ч"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert 'value="100:00:00"' in duration.content.decode()
    with tenancy.tenant_context(alpha.company):
        assert selectors.month_plan(
            company=alpha.company, manager=alpha.manager, kpi=calls, month=JAN
        ) == D(1500)
        assert selectors.month_plan(
            company=alpha.company, manager=alpha.manager, kpi=talk, month=JAN
        ) == D(360000)


def test_the_grid_shows_role_blocks_and_history(client, alpha):
    client.force_login(alpha.admin)
    with tenancy.tenant_context(alpha.company):
        set_plan(alpha, "calls", 1500, manager=alpha.manager, actor=alpha.admin)
    page = client.get(reverse("plan-grid", args=[alpha.team.code, 2026, 1])).content.decode()
    assert "План роли по умолчанию" in page
    assert str(alpha.manager) in page
    assert "1\u202f500" in page  # in the history


def test_only_admins_and_the_teams_head_plan(client, alpha, beta):
    url = reverse("plan-grid", args=[alpha.team.code, 2026, 1])
    client.force_login(alpha.head)
    assert client.get(url).status_code == 200
    client.force_login(alpha.manager)
    assert client.get(url).status_code == 403
    client.force_login(beta.admin)
    assert client.get(url).status_code == 404


def test_the_plans_api(alpha):
    api = Client(headers={"Authorization": f"Token {alpha.api_key}"})
    response = api.post(
        reverse("api-plan-set"),
        {
            "kpi": "calls",
            "start": "2026-01-20",
            "manager": str(alpha.manager.code),
            "value": "1500",
        },
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["start"] == "2026-01-01"
    listed = api.get(reverse("api-plan-list"), {"month": "2026-01-01"}).json()
    assert [(p["kpi"], p["value"]) for p in listed] == [("calls", "1500.0000")]
    both = api.post(
        reverse("api-plan-set"),
        {"kpi": "calls", "start": "2026-01-20", "value": "1"},
        content_type="application/json",
    )
    assert both.status_code == 400


@pytest.mark.parametrize(
    ("code", "text", "message"),
    [
        ("calls", "1e30", "не число"),
        ("talk_time", "1e30", "Не понимаю длительность"),
        ("talk_time", "1" * 40, "Слишком большой план"),
        ("calls", "310 001", "Слишком большой план"),
        ("calls", "z" * 5000, "слишком длинное"),
    ],
)
def test_a_plan_cell_beyond_the_bounds_is_refused(client, alpha, code, text, message):
    client.force_login(alpha.admin)
    with tenancy.tenant_context(alpha.company):
        kpi = k(alpha, code)
    response = client.post(
        reverse("plan-cell", args=[alpha.team.code, 2026, 1]),
        {"kpi": kpi.uid, "manager": alpha.manager.code, "value": text},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    error = response.content.decode().split('class="error"')[1][:400]
    assert message in error and "z" * 31 not in error
    with tenancy.tenant_context(alpha.company):
        assert (
            selectors.plan_grid_cell(
                company=alpha.company, kpi=kpi, month=JAN, manager=alpha.manager, sales_role=None
            ).value
            is None
        )


def test_the_plans_api_and_the_service_hold_plans_to_the_bounds(alpha):
    api = Client(headers={"Authorization": f"Token {alpha.api_key}"})
    payload = {"kpi": "calls", "start": "2026-01-20", "manager": str(alpha.manager.code)}
    for value in ("310001", "1e30", "12.5"):
        response = api.post(
            reverse("api-plan-set"), {**payload, "value": value}, content_type="application/json"
        )
        assert response.status_code == (200 if value == "12.5" else 400), value
    with tenancy.tenant_context(alpha.company), pytest.raises(ValidationError, match="Слишком"):
        set_plan(alpha, "talk_time", 86400 * 31 + 1, manager=alpha.manager)


def test_an_uplift_that_would_leave_the_bounds_changes_nothing(client, alpha):
    role = alpha.manager.sales_role
    with tenancy.tenant_context(alpha.company):
        set_plan(alpha, "calls", 300_000, sales_role=role)
        set_plan(alpha, "leads", 100, sales_role=role)
        with pytest.raises(ValidationError, match="допустимые границы"):
            services.plans_uplift_preview(
                company=alpha.company, team=alpha.team, month=JAN, percent=D(10)
            )
    client.force_login(alpha.admin)
    response = client.post(
        reverse("plan-uplift", args=[alpha.team.code, 2026, 1]), {"percent": "10"}
    )
    assert response.status_code == 422
    assert "допустимые границы" in response.content.decode()
    with tenancy.tenant_context(alpha.company):
        leads = selectors.plan_grid_cell(
            company=alpha.company, kpi=k(alpha, "leads"), month=JAN, manager=None, sales_role=role
        )
    assert leads.value == D(100)
