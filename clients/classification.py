"""ABC and XYZ classes from revenues: pure arithmetic, no database.

ABC: clients sorted by revenue (descending, ties by name); a client is A while the share of
revenue *before* it is below the A threshold, so the client that crosses 80 % is still A;
B while it is below the B threshold; C after. XYZ: the coefficient of variation of the
client's monthly revenues (population standard deviation ÷ mean, months without purchases
count as 0), X below the first threshold, Y up to and including the second, Z above.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Ranked:
    key: int
    name: str
    revenue: Decimal


def abc_classes(clients: Sequence[Ranked], *, a_share: Decimal, b_share: Decimal) -> dict[int, str]:
    """Each client's ABC class by the crossing rule; clients without revenue are left out."""
    ranked = sorted(
        (c for c in clients if c.revenue > 0), key=lambda c: (-c.revenue, c.name, c.key)
    )
    total = sum((c.revenue for c in ranked), Decimal(0))
    classes, before = {}, Decimal(0)
    for client in ranked:
        # before / total < share, without dividing (no rounding at the boundary).
        if before * 100 < a_share * total:
            classes[client.key] = "A"
        elif before * 100 < b_share * total:
            classes[client.key] = "B"
        else:
            classes[client.key] = "C"
        before += client.revenue
    return classes


def variation(monthly: Sequence[Decimal]) -> Decimal | None:
    """The coefficient of variation in %, to the cent; None without any revenue."""
    if not monthly:
        return None
    mean = sum(monthly, Decimal(0)) / len(monthly)
    if mean <= 0:
        return None
    variance = sum(((value - mean) ** 2 for value in monthly), Decimal(0)) / len(monthly)
    return (variance.sqrt() / mean * 100).quantize(CENT, ROUND_HALF_UP)


def xyz_class(cv: Decimal, *, x_below: Decimal, y_upto: Decimal) -> str:
    if cv < x_below:
        return "X"
    if cv <= y_upto:
        return "Y"
    return "Z"
