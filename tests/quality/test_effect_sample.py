"""A checklist point's effect on conversion is a finding only with a sample behind it."""

from quality.selectors import MIN_EFFECT_CALLS, ItemEffect


def test_it_is_a_finding_only_with_enough_calls_on_each_side():
    few = ItemEffect(item=None, done_won=2, done_lost=1, missed_won=0, missed_lost=1)
    assert few.difference is not None  # 66,7 % against 0 %: +66,7 points from four calls
    assert (few.done_calls, few.missed_calls) == (3, 1)
    assert not few.enough_calls
    half = MIN_EFFECT_CALLS // 2
    many = ItemEffect(
        item=None, done_won=MIN_EFFECT_CALLS, done_lost=half, missed_won=half, missed_lost=half
    )
    assert many.enough_calls
    one_sided = ItemEffect(item=None, done_won=MIN_EFFECT_CALLS * 3, missed_won=1)
    assert not one_sided.enough_calls
