import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import tenancy
from crm_sync import services as crm
from kpi.bands import Band
from quality import selectors
from tests.factories import TeamFactory, UserFactory
from tests.quality.conftest import MARCH, build_known_quality


@pytest.fixture
def known(alpha):
    return build_known_quality(alpha)


def test_the_month_average_counts_a_twice_scored_call_once(known):
    with tenancy.tenant_context(known.cast.company):
        months = selectors.month_quality(
            company=known.cast.company, manager_ids=[known.m1.pk, known.m2.pk], month=MARCH
        )
    m1, m2 = months[known.m1.pk], months[known.m2.pk]
    assert (m1.average, m1.calls, m1.band) == (Decimal("45.00"), 2, Band.RED)
    assert (m2.average, m2.calls, m2.band) == (Decimal("100.00"), 1, Band.GREEN)


def test_the_soft_salary_pays_its_share_in_proportion_to_the_average(known):
    with tenancy.tenant_context(known.cast.company):
        months = selectors.month_quality(
            company=known.cast.company, manager_ids=[known.m1.pk, known.m2.pk], month=MARCH
        )
    m1, m2 = months[known.m1.pk], months[known.m2.pk]
    assert (m1.soft_paid, m1.soft_lost, m1.salary_paid) == (
        Decimal("13.50"), Decimal("16.50"), Decimal("83.50")
    )  # fmt: skip
    assert (m2.soft_paid, m2.salary_paid) == (Decimal("30.00"), Decimal("100.00"))


def test_without_a_soft_share_there_is_no_salary_effect(known):
    company = known.cast.company
    with tenancy.tenant_context(company):
        from quality import services

        services.settings_save(company=company, soft_salary_share=Decimal(0), days_back=3)
        m1 = selectors.month_quality(company=company, manager_ids=[known.m1.pk], month=MARCH)
    assert m1[known.m1.pk].soft_paid is None


def test_each_point_shows_conversion_done_and_not_done(known):
    with tenancy.tenant_context(known.cast.company):
        effects = selectors.item_effects(
            company=known.cast.company, viewer=known.cast.admin,
            start=MARCH, end=datetime.date(2026, 3, 31),
        )  # fmt: skip
    [(call_type, items)] = effects
    assert call_type == known.call_type
    table = [
        (e.done_won, e.done_lost, e.done_conversion, e.missed_conversion, e.difference)
        for e in items
    ]
    assert table == [
        (2, 1, Decimal("66.67"), None, None),
        (2, 0, Decimal("100.00"), Decimal("0.00"), Decimal("100.00")),
        (1, 0, Decimal("100.00"), Decimal("50.00"), Decimal("50.00")),
        (1, 0, Decimal("100.00"), Decimal("50.00"), Decimal("50.00")),
        (0, 1, Decimal("0.00"), Decimal("100.00"), Decimal("-100.00")),
    ]


def test_two_controllers_on_one_call_show_their_spread_and_agreement(known):
    with tenancy.tenant_context(known.cast.company):
        [row] = selectors.controller_disagreements(
            company=known.cast.company, viewer=known.cast.quality,
            start=MARCH, end=datetime.date(2026, 3, 31),
        )  # fmt: skip
    assert row.call == known.calls["A"]
    assert (row.spread, row.agreement) == (Decimal("40.00"), Decimal("60.00"))


def test_the_queue_offers_one_call_per_type_and_manager_and_marks_the_done(alpha):
    company = alpha.company
    now = timezone.now()
    with tenancy.tenant_context(company):
        manager2 = alpha.managers[1]
        for external_id, minutes, duration, answered in (
            ("new", 30, 95, True),
            ("old", 90, 300, True),
            ("short", 10, 5, True),
            ("missed", 5, 0, False),
            ("stale", 60 * 24 * 10, 400, True),
        ):
            crm.call_upsert(company=company, source="telephony", data=crm.CallData(
                external_id=external_id, direction="out",
                started_at=now - datetime.timedelta(minutes=minutes), duration=duration,
                answered=answered, manager=manager2,
            ))  # fmt: skip
        today = company.today()
        queue = selectors.daily_queue(company=company, viewer=alpha.quality, day=today)
    assert [t.name for t in queue.call_types] == ["Выявление потребностей", "Работа с возражениями"]
    rows = {row.manager: row for row in queue.rows}
    assert set(rows) == set(alpha.managers)
    # The cast's answered call c1 of manager 1 was scored today as the first type.
    first = rows[alpha.managers[0]].slots
    assert first[0].score is not None and first[0].band == Band.RED
    assert first[1].suggested.external_id == "c1"
    second = rows[manager2].slots
    assert [s.suggested.external_id for s in second] == ["new", "new"]
    assert [c.external_id for c in second[0].alternatives] == ["old"]
    assert rows[alpha.managers[2]].slots[0].suggested is None
    assert queue.left == 3  # manager 3 has no call to score


def test_a_head_checks_only_the_managers_of_their_teams(alpha):
    company = alpha.company
    other_head = UserFactory(company=company, username="alpha.head2", role="head")
    team = TeamFactory(company=company, name="Вторая", head=other_head)
    outsider = UserFactory(company=company, username="alpha.m9", team=team)
    with tenancy.tenant_context(company):
        mine = set(selectors.managers_to_check(company=company, viewer=alpha.head))
        theirs = set(selectors.managers_to_check(company=company, viewer=other_head))
        everyone = set(selectors.managers_to_check(company=company, viewer=alpha.quality))
    assert mine == set(alpha.managers)
    assert theirs == {outsider}
    assert everyone == {*alpha.managers, outsider}
