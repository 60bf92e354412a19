"""Plan completion and its traffic-light band (DOMAIN.md: red < 60 %, yellow, green ≥ 80 %)."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from kpi.models import KPI
from kpi.values import format_percent

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


def has_plan(plan: Decimal | None, direction: str) -> bool:
    """A plan a completion can be computed against: none, a negative one and, where higher
    is better, zero are no plan (completion's rule; a figure says «нет плана» by it)."""
    if plan is None or plan < 0:
        return False
    return direction == KPI.Direction.LOWER or plan != 0


def completion(*, actual: Decimal | None, plan: Decimal | None, direction: str) -> Decimal | None:
    """Completion in percent, rounded to 0.01, capped; None when there is nothing to compare.

    Higher is better: actual / plan. A plan of zero (or none) is no plan: None.
    Lower is better: plan / actual. An actual of zero meets any plan: the cap. A plan of
    zero with a positive actual: 0 %.
    """
    if actual is None or not has_plan(plan, direction):
        return None
    if direction == KPI.Direction.LOWER:
        if actual <= 0:
            return COMPLETION_CAP
        value = plan / actual * HUNDRED
    else:
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
    """Completion and its band, the colour of the whole percent printed (`reading`): what the
    rollups engine stores. The light of a running period follows its pace
    (rollups.figures.Figure), which screens and the API show."""
    value = completion(actual=actual, plan=plan, direction=kpi.direction)
    return value, reading(kpi, value).band


def completion_shown(value: Decimal | None) -> Decimal | None:
    """Completion as every surface prints it: a whole percent, rounded half up."""
    if value is None:
        return None
    return value.quantize(Decimal(1), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Reading:
    """A completion as it is shown: the printed percent and the colour of that very number.

    Coloured after rounding, so that «60 %» is never red and «80 %» never yellow (59.96 %
    prints as «60 %» and is yellow)."""

    completion: Decimal | None  # exact, to 0.01
    percent: Decimal | None  # as printed
    band: Band

    @property
    def text(self) -> str:
        return format_percent(self.percent)

    @property
    def label(self) -> str:
        return self.band.label


def reading(kpi: KPI, value: Decimal | None) -> Reading:
    """The one home of a completion's display and colour, for every surface."""
    percent = completion_shown(value)
    red, green = thresholds(kpi)
    return Reading(value, percent, band_for(percent, red_below=red, green_from=green))


def kpi_reading(kpi: KPI, *, actual: Decimal | None, plan: Decimal | None) -> Reading:
    """Completion of actual against plan (the exact plan, never a rounded one), as shown."""
    return reading(kpi, completion(actual=actual, plan=plan, direction=kpi.direction))
