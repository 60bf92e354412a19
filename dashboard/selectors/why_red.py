"""Why is it red: back through the manager's own chain, each link against the team's."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from accounts.models import Company, User
from kpi.models import KPI
from kpi.periods import Window
from rollups.figures import (
    Figure,
    figures_of_window,
)
from rollups.models import Scope

# The sales chain, from the first touch to the money: each step converts the one before.
CHAIN = ("calls", "long_calls", "leads", "meetings", "deals_won", "deals_sum")


# A conversion above this says nothing: its denominator is all but zero (2 deals from 1 call).
CONVERSION_CAP = Decimal(1000)


@dataclass(frozen=True)
class Conversion:
    """A step's conversion from the step before, in percent, or why it has none."""

    value: Decimal | None
    reason: str = ""

    @property
    def text(self) -> str:
        if self.value is not None:
            return f"{self.value:.1f} %".replace(".", ",")
        return self.reason or "—"


def conversion_of(top: Figure | None, bottom: Figure | None) -> Conversion:
    """top ÷ bottom × 100 where that is a share: both counted in the same unit, and a
    denominator of at least one. Money per deal is an average check, not a conversion."""
    if top is None or bottom is None or top.actual is None or bottom.actual is None:
        return Conversion(None)
    if top.kpi.unit != bottom.kpi.unit or top.kpi.unit != KPI.Unit.COUNT:
        return Conversion(None, _("не доля: %(a)s и %(b)s в разных единицах") % {
            "a": bottom.kpi.name, "b": top.kpi.name,
        })  # fmt: skip
    if bottom.actual < 1:
        return Conversion(None, _("нет данных: знаменатель почти ноль"))
    value = top.actual / bottom.actual * 100
    if value > CONVERSION_CAP:
        return Conversion(None, _("нет данных: знаменатель почти ноль"))
    return Conversion(value.quantize(Decimal("0.1")))


NO_STEP = Conversion(None)


@dataclass
class ChainStep:
    """One link: the step's actual, and its conversion from the step before, against the team."""

    kpi: KPI
    figure: Figure | None
    previous: KPI | None
    mine: Conversion  # this step ÷ the step before
    team: Conversion
    completion: Decimal | None  # for the first step: its own plan completion
    team_completion: Decimal | None

    @property
    def conversion(self) -> Decimal | None:
        return self.mine.value

    @property
    def team_conversion(self) -> Decimal | None:
        return self.team.value

    @property
    def gap(self) -> Decimal | None:
        """How the manager compares with the team on this link (1 = as the team)."""
        mine, theirs = (
            (self.conversion, self.team_conversion)
            if self.previous is not None
            else (self.completion, self.team_completion)
        )
        if mine is None or not theirs:
            return None
        return mine / theirs


@dataclass
class Diagnosis:
    kpi: KPI
    figure: Figure | None
    steps: list[ChainStep]
    weakest: ChainStep | None


def why_red(
    *,
    company: Company,
    manager: User,
    window: Window,
    kpis: dict[int, KPI],
    role_kpis: list[KPI],
    figures: dict[int, Figure],
) -> list[Diagnosis]:
    """For each red or at-risk KPI, the manager's chain up to it and its weakest link.

    The chain is the part of CHAIN the manager's role reports, up to the KPI in question;
    each link is compared with the same link of the manager's team (its totals).
    """
    troubled = [
        k for k in role_kpis if (f := figures.get(k.pk)) and (f.shown_band == "red" or f.at_risk)
    ]
    if not troubled:
        return []
    team: dict[int, Figure] = {}
    if manager.team_id is not None:
        team = {
            k: f
            for (_t, k), f in figures_of_window(
                company=company, window=window, kpis=kpis, scope=Scope.TEAM,
                subject_ids=[manager.team_id],
            ).items()
        }  # fmt: skip
    own = {k.code: k for k in role_kpis}
    diagnoses = []
    for kpi in troubled:
        if kpi.code not in CHAIN:
            diagnoses.append(Diagnosis(kpi, figures.get(kpi.pk), [], None))
            continue
        chain = [own[c] for c in CHAIN[: CHAIN.index(kpi.code) + 1] if c in own]
        steps = []
        for index, step in enumerate(chain):
            before = chain[index - 1] if index else None
            mine, theirs = figures.get(step.pk), team.get(step.pk)
            steps.append(
                ChainStep(
                    kpi=step,
                    figure=mine,
                    previous=before,
                    mine=conversion_of(mine, figures.get(before.pk)) if before else NO_STEP,
                    team=conversion_of(theirs, team.get(before.pk)) if before else NO_STEP,
                    completion=mine.shown_completion if mine else None,
                    team_completion=theirs.shown_completion if theirs else None,
                )
            )
        weighed = [s for s in steps if s.gap is not None]
        weakest = min(weighed, key=lambda s: s.gap) if weighed else None  # type: ignore[arg-type, return-value]
        diagnoses.append(Diagnosis(kpi, figures.get(kpi.pk), steps, weakest))
    return diagnoses
