from decimal import Decimal

import pytest

from kpi.bands import COMPLETION_CAP, Band, band_for, completion, kpi_band

D = Decimal


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (D("0"), Band.RED),
        (D("59.99"), Band.RED),
        (D("60"), Band.YELLOW),
        (D("79.99"), Band.YELLOW),
        (D("80"), Band.GREEN),
        (D("150"), Band.GREEN),
        (None, Band.NONE),
    ],
)
def test_default_band_boundaries(value, band):
    assert band_for(value, red_below=D(60), green_from=D(80)) == band


def test_higher_is_better_completion():
    assert completion(actual=D(45), plan=D(60), direction="higher") == D("75.00")
    assert completion(actual=D(0), plan=D(60), direction="higher") == D("0.00")


def test_lower_is_better_completion():
    # Receivables: plan 400 000, actual 500 000 → 80 %.
    assert completion(actual=D(500000), plan=D(400000), direction="lower") == D("80.00")
    assert completion(actual=D(200000), plan=D(400000), direction="lower") == D("200.00")


def test_zero_cases_are_defined():
    assert completion(actual=D(10), plan=D(0), direction="higher") is None  # no plan
    assert completion(actual=None, plan=D(10), direction="higher") is None  # nothing reported
    assert completion(actual=D(10), plan=None, direction="higher") is None
    assert completion(actual=D(0), plan=D(400), direction="lower") == COMPLETION_CAP
    assert completion(actual=D(5), plan=D(0), direction="lower") == D("0.00")
    assert completion(actual=D(0), plan=D(0), direction="lower") == COMPLETION_CAP
    assert completion(actual=D(10**9), plan=D(1), direction="higher") == COMPLETION_CAP


def test_a_kpi_overrides_the_company_bands(alpha):
    from accounts import tenancy
    from kpi.models import KPI

    with tenancy.tenant_context(alpha.company):
        calls = KPI.objects.select_related("company").get(code="calls")
        assert kpi_band(calls, actual=D(70), plan=D(100)) == (D("70.00"), Band.YELLOW)
        calls.band_red_below, calls.band_green_from = D(50), D(70)
        assert kpi_band(calls, actual=D(70), plan=D(100)) == (D("70.00"), Band.GREEN)
        assert kpi_band(calls, actual=D("49.49"), plan=D(100))[1] == Band.RED
        # The stored band is the colour of the percent printed: 49.99 shows as «50 %».
        assert kpi_band(calls, actual=D("49.99"), plan=D(100))[1] == Band.YELLOW
