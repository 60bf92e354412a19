"""Copying last month and the uplift say what they will overwrite, and write only that."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts import tenancy
from kpi import selectors, services
from kpi.models import KPI

D = Decimal
JAN = datetime.date(2026, 1, 1)
FEB = datetime.date(2026, 2, 1)
HX = {"HX-Request": "true"}


@pytest.fixture
def edited(alpha):
    """January's plans, and February's already edited by hand for one manager."""
    with tenancy.tenant_context(alpha.company):
        calls = KPI.objects.get(company=alpha.company, code="calls")
        for month, value, target in (
            (JAN, 1000, {"manager": alpha.manager}),
            (JAN, 1200, {"sales_role": alpha.manager.sales_role}),
            (FEB, 900, {"manager": alpha.manager}),
        ):
            services.plan_set(
                company=alpha.company, kpi=calls, start=month, value=D(value), **target
            )
    return alpha


def feb_plan(cast, manager=None):
    with tenancy.tenant_context(cast.company):
        calls = KPI.objects.get(company=cast.company, code="calls")
        cell = selectors.plan_grid_cell(
            company=cast.company, kpi=calls, month=FEB, manager=manager or cast.manager,
            sales_role=None,
        )  # fmt: skip
        return cell.value


def copy_url(cast):
    return reverse("plan-copy", args=[cast.team.code, 2026, 2])


def uplift_url(cast):
    return reverse("plan-uplift", args=[cast.team.code, 2026, 2])


def test_copy_over_edited_plans_asks_first_and_writes_only_when_confirmed(client, edited):
    client.force_login(edited.admin)
    asked = client.post(copy_url(edited))
    page = asked.content.decode()
    assert asked.status_code == 200
    assert "Будет изменено планов: 2, из них уже заполнены: 1." in page
    assert "900" in page and "→ 1\u202f000" in page and "Да, скопировать" in page
    assert feb_plan(edited) == D(900)  # nothing written by asking
    with tenancy.tenant_context(edited.company):
        preview = selectors.plans_copy_preview(company=edited.company, team=edited.team, month=FEB)
    assert f'value="{preview.digest}"' in page
    done = client.post(copy_url(edited), {"digest": preview.digest}, follow=True)
    assert "Скопировано планов из прошлого месяца: 2." in done.content.decode()
    assert feb_plan(edited) == D(1000)


def test_a_heads_copy_leaves_the_role_default_to_the_admin(client, edited):
    client.force_login(edited.head)
    page = client.post(copy_url(edited)).content.decode()
    assert "Будет изменено планов: 1, из них уже заполнены: 1." in page
    digest = page.split('name="digest" value="')[1].split('"')[0]
    client.post(copy_url(edited), {"digest": digest})
    assert feb_plan(edited) == D(1000)
    with tenancy.tenant_context(edited.company):
        role = edited.manager.sales_role
        calls = KPI.objects.get(company=edited.company, code="calls")
        cell = selectors.plan_grid_cell(
            company=edited.company, kpi=calls, month=FEB, manager=None, sales_role=role
        )
    assert cell.value is None  # January's role default was not copied by the head


def test_the_confirmation_comes_as_a_block_of_the_grid_with_htmx(client, edited):
    client.force_login(edited.admin)
    block = client.post(copy_url(edited), headers=HX).content.decode()
    assert block.lstrip().startswith('<section class="card plan-confirm"')
    assert "<html" not in block
    grid = client.get(reverse("plan-grid", args=[edited.team.code, 2026, 2])).content.decode()
    assert 'id="plan-confirm"' in grid and 'hx-target="#plan-confirm"' in grid


def test_a_stale_preview_asks_again_and_writes_nothing(client, edited):
    client.force_login(edited.head)
    page = client.post(copy_url(edited)).content.decode()
    old_digest = page.split('name="digest" value="')[1].split('"')[0]
    with tenancy.tenant_context(edited.company):
        services.plan_set(
            company=edited.company, kpi=KPI.objects.get(company=edited.company, code="calls"),
            start=FEB, value=D(950), manager=edited.manager,
        )  # fmt: skip
    again = client.post(copy_url(edited), {"digest": old_digest})
    body = again.content.decode()
    assert again.status_code == 409
    assert "Планы изменились, пока вы смотрели" in body
    assert "950" in body
    assert feb_plan(edited) == D(950)
    new_digest = body.split('name="digest" value="')[1].split('"')[0]
    assert new_digest != old_digest
    client.post(copy_url(edited), {"digest": new_digest})
    assert feb_plan(edited) == D(1000)


def test_the_service_refuses_a_digest_that_is_not_the_current_state(edited):
    with tenancy.tenant_context(edited.company):
        with pytest.raises(services.PreviewOutdated) as outdated:
            services.plans_copy_previous_month(
                company=edited.company, team=edited.team, month=FEB, digest="stale"
            )
        assert [c.old for c in outdated.value.preview.overwritten] == [D(900)]
    assert feb_plan(edited) == D(900)


def test_the_uplift_asks_first_and_a_stale_one_asks_again(client, edited):
    client.force_login(edited.admin)
    asked = client.post(uplift_url(edited), {"percent": "10"})
    page = asked.content.decode()
    assert asked.status_code == 200
    assert "Будет изменено планов: 1, из них уже заполнены: 1." in page
    assert "990" in page and "Да, изменить" in page
    assert feb_plan(edited) == D(900)
    digest = page.split('name="digest" value="')[1].split('"')[0]
    # The same digest with another percentage is not what was shown.
    other = client.post(uplift_url(edited), {"percent": "20", "digest": digest})
    assert other.status_code == 409 and "1\u202f080" in other.content.decode()
    assert feb_plan(edited) == D(900)
    client.post(uplift_url(edited), {"percent": "10", "digest": digest})
    assert feb_plan(edited) == D(990)


def test_a_bad_uplift_percentage_is_refused_with_the_reason(client, edited):
    client.force_login(edited.admin)
    refused = client.post(uplift_url(edited), {"percent": "900"}, headers=HX)
    assert refused.status_code == 422
    assert "500" in refused.content.decode()
    assert feb_plan(edited) == D(900)
