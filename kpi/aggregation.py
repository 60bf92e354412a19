"""How daily figures combine into a week or a month, per KPI (DOMAIN.md: cadence)."""

import datetime
from collections.abc import Mapping
from decimal import Decimal

from kpi.models import KPI

# One manager's daily figures: {day: {kpi code: value}}. A missing day or code is missing,
# not zero.
DailyFigures = Mapping[datetime.date, Mapping[str, Decimal]]


def period_value(kpi: KPI, figures: DailyFigures) -> Decimal | None:
    """The KPI's value over the days given; None when no day reported it."""
    if kpi.aggregation == KPI.Aggregation.RATIO:
        return _ratio(kpi, figures)
    reported = [(day, values[kpi.code]) for day, values in figures.items() if kpi.code in values]
    if not reported:
        return None
    if kpi.aggregation == KPI.Aggregation.SUM:
        return sum((value for _day, value in reported), Decimal(0))
    if kpi.aggregation == KPI.Aggregation.AVERAGE:
        return sum((value for _day, value in reported), Decimal(0)) / len(reported)
    if kpi.aggregation == KPI.Aggregation.LAST:
        return max(reported)[1]
    raise ValueError(f"unknown aggregation {kpi.aggregation!r}")


def _ratio(kpi: KPI, figures: DailyFigures) -> Decimal | None:
    # Σ numerator / Σ denominator over the period: never the mean of daily ratios.
    numerator, denominator = kpi.numerator, kpi.denominator
    if numerator is None or denominator is None:
        raise ValueError(f"ratio KPI {kpi.code} needs a numerator and a denominator")
    top = [v[numerator.code] for v in figures.values() if numerator.code in v]
    bottom = [v[denominator.code] for v in figures.values() if denominator.code in v]
    if not bottom or sum(bottom) == 0:
        return None
    value = sum(top, Decimal(0)) / sum(bottom, Decimal(0))
    return value * 100 if kpi.unit == KPI.Unit.PERCENT else value
