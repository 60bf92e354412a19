"""Plan completion and its traffic-light band (DOMAIN.md: red < 60 %, yellow, green ≥ 80 %)."""

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from kpi.models import KPI

HUNDRED = Decimal(100)
# Past this a completion says nothing more, and a tiny or zero actual of a
# lower-is-better KPI would otherwise be "infinitely" good.
COMPLETION_CAP = Decimal("999.99")


class Band(StrEnum):
    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"
    NONE = "none"

    @property
    def label(self) -> str:
        return str(BAND_LABELS[self])


BAND_LABELS = {
    Band.RED: _("красный"),
    Band.YELLOW: _("жёлтый"),
    Band.GREEN: _("зелёный"),
    Band.NONE: _("нет плана"),
}


def completion(*, actual: Decimal | None, plan: Decimal | None, direction: str) -> Decimal | None:
    """Completion in percent, rounded to 0.01, capped; None when there is nothing to compare.

    Higher is better: actual / plan. A plan of zero (or none) is no plan: None.
    Lower is better: plan / actual. An actual of zero meets any plan: the cap. A plan of
    zero with a positive actual: 0 %.
    """
    if plan is None or actual is None or plan < 0:
        return None
    if direction == KPI.Direction.LOWER:
        if actual <= 0:
            return COMPLETION_CAP
        value = plan / actual * HUNDRED
    else:
        if plan == 0:
            return None
        value = max(actual, Decimal(0)) / plan * HUNDRED
    # Half up, as PostgreSQL rounds: the stored totals and this agree to the cent.
    return min(value, COMPLETION_CAP).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def band_for(value: Decimal | None, *, red_below: Decimal, green_from: Decimal) -> Band:
    if value is None:
        return Band.NONE
    if value < red_below:
        return Band.RED
    if value < green_from:
        return Band.YELLOW
    return Band.GREEN


def thresholds(kpi: KPI) -> tuple[Decimal, Decimal]:
    """The KPI's own bands where it has them, else its company's."""
    company = kpi.company
    red = kpi.band_red_below if kpi.band_red_below is not None else company.band_red_below
    green = kpi.band_green_from if kpi.band_green_from is not None else company.band_green_from
    return red, green


def kpi_band(
    kpi: KPI, *, actual: Decimal | None, plan: Decimal | None
) -> tuple[Decimal | None, Band]:
    value = completion(actual=actual, plan=plan, direction=kpi.direction)
    red, green = thresholds(kpi)
    return value, band_for(value, red_below=red, green_from=green)
