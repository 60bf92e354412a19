"""Reads of call quality control: the controller's queue, scores, month averages, the soft
salary, and whether quality moves results."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from statistics import mean

from django.db.models import QuerySet

from accounts.models import Company, User
from accounts.permissions import of_managers_in_view, scorable_by
from crm_sync.models import Call, Deal
from kpi.bands import Band, band_for
from kpi.periods import month_bounds
from quality.models import CallScore, CallType, ChecklistItem, ItemMark, QualitySettings
from salesdesk.statements import Statement

HUNDRED = Decimal(100)
# How many other calls the queue offers for a slot when the suggested one does not fit.
ALTERNATIVES = 5


def _round(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


_SETTINGS = Statement(
    lambda company: QualitySettings.objects.filter(company=company).order_by("pk")[:1]
)


def settings_of(*, company: Company) -> QualitySettings:
    """The company's quality rules; the defaults until the admin saves them."""
    found = _SETTINGS(company=company.pk)
    return found[0] if found else QualitySettings(company=company)


def quality_band(*, company: Company, score: Decimal | None) -> Band:
    """A score is coloured with the company's bands, like plan completion."""
    return band_for(score, red_below=company.band_red_below, green_from=company.band_green_from)


def call_types_with_items(*, company: Company, active_only: bool = False) -> list[CallType]:
    types = CallType.objects.filter(company=company)
    if active_only:
        types = types.filter(active=True)
    types = list(types)
    items: dict[int, list[ChecklistItem]] = defaultdict(list)
    for item in ChecklistItem.objects.filter(company=company, active=True):
        items[item.call_type_id].append(item)
    for call_type in types:
        call_type.active_items = items[call_type.pk]  # type: ignore[attr-defined]
    return types


def managers_to_check(*, company: Company, viewer: User) -> QuerySet[User]:
    """The managers whose calls the viewer scores: everyone for a controller or an admin, the
    head's own teams for a head of sales."""
    return (
        scorable_by(viewer)
        .filter(company=company, is_active=True)
        .select_related("sales_role", "team")
    )


# --- The controller's daily queue --------------------------------------------------------


@dataclass
class Slot:
    """One call type of one manager: scored today, or calls waiting to be scored."""

    call_type: CallType
    score: CallScore | None = None
    band: Band = Band.NONE
    suggested: Call | None = None
    alternatives: list[Call] = field(default_factory=list)


@dataclass
class QueueRow:
    manager: User
    slots: list[Slot]

    @property
    def done(self) -> bool:
        return all(slot.score is not None for slot in self.slots)


@dataclass
class Queue:
    day: datetime.date
    call_types: list[CallType]
    rows: list[QueueRow]
    since: datetime.date

    @property
    def left(self) -> int:
        """Slots still to score that have a call waiting."""
        return sum(1 for row in self.rows for slot in row.slots if slot.suggested is not None)


def daily_queue(*, company: Company, viewer: User, day: datetime.date) -> Queue:
    """One call of each type per manager to score on `day` (DOMAIN.md: quality controller).

    A slot is done once anybody scored a call of that type of the manager on that day. A call
    waiting for it is an answered conversation of at least the company's "long call" seconds
    from the last `days_back` days that nobody has scored as that type; the newest is
    suggested first.
    """
    rules = settings_of(company=company)
    call_types = call_types_with_items(company=company, active_only=True)
    call_types = [t for t in call_types if t.active_items]  # type: ignore[attr-defined]
    managers = list(managers_to_check(company=company, viewer=viewer))
    since = day - datetime.timedelta(days=rules.days_back)
    done: dict[tuple[int, int], CallScore] = {}
    for score in CallScore.objects.filter(
        company=company, scored_on=day, manager__in=managers
    ).order_by("id"):
        done.setdefault((score.manager_id, score.call_type_id), score)
    calls = list(
        Call.objects.filter(
            company=company,
            manager__in=managers,
            answered=True,
            duration__gte=company.long_call_seconds,
            started_at__gte=company.day_start(since),
            started_at__lt=company.day_end(day),
        )
        .select_related("client")
        .order_by("-started_at")
    )
    scored = set(
        CallScore.objects.filter(company=company, call__in=[c.pk for c in calls]).values_list(
            "call_id", "call_type_id"
        )
    )
    by_manager: dict[int, list[Call]] = defaultdict(list)
    for call in calls:
        by_manager[call.manager_id].append(call)
    rows = []
    for manager in managers:
        slots = []
        for call_type in call_types:
            score = done.get((manager.pk, call_type.pk))
            if score is not None:
                band = quality_band(company=company, score=score.score)
                slots.append(Slot(call_type, score=score, band=band))
                continue
            waiting = [c for c in by_manager[manager.pk] if (c.pk, call_type.pk) not in scored]
            slots.append(
                Slot(
                    call_type,
                    suggested=waiting[0] if waiting else None,
                    alternatives=waiting[1 : 1 + ALTERNATIVES],
                )
            )
        rows.append(QueueRow(manager, slots))
    return Queue(day, call_types, rows, since)


# --- Scores ------------------------------------------------------------------------------


def scores_in_view(*, company: Company, viewer: User) -> QuerySet[CallScore]:
    """Scores as the viewer may see them: a manager their own; a head their teams'; a
    controller or an admin the company's."""
    scores = CallScore.objects.filter(company=company).select_related(
        "call", "call__client", "call_type", "controller", "manager"
    )
    if viewer.role == User.Role.QUALITY:
        return scores
    return of_managers_in_view(scores, viewer=viewer)


def scores_of_month(
    *, company: Company, viewer: User, month: datetime.date, manager: User | None = None
) -> QuerySet[CallScore]:
    first, last = month_bounds(month)
    scores = scores_in_view(company=company, viewer=viewer).filter(
        call_date__gte=first, call_date__lte=last
    )
    if manager is not None:
        scores = scores.filter(manager=manager)
    return scores.order_by("-call_date", "-id")


def marks_of(score: CallScore) -> list[ItemMark]:
    return list(score.marks.select_related("item").order_by("item__position", "item__id"))


def other_scores_of_call(score: CallScore) -> QuerySet[CallScore]:
    """Other controllers' scores of the same call and type: the second opinions."""
    return (
        CallScore.objects.filter(
            company_id=score.company_id, call_id=score.call_id, call_type_id=score.call_type_id
        )
        .exclude(pk=score.pk)
        .select_related("controller")
    )


# --- The month average and the soft salary -----------------------------------------------


@dataclass
class MonthQuality:
    """A manager's call quality of a month and what it does to the soft part of the salary."""

    average: Decimal | None
    calls: int
    band: Band
    soft_share: Decimal  # % of salary tied to quality; 0 when the company ties none

    @property
    def soft_paid(self) -> Decimal | None:
        """The % of the full salary the soft part pays: share × average score."""
        if not self.soft_share or self.average is None:
            return None
        return _round(self.soft_share * min(self.average, HUNDRED) / HUNDRED)

    @property
    def soft_lost(self) -> Decimal | None:
        paid = self.soft_paid
        return None if paid is None else self.soft_share - paid

    @property
    def salary_paid(self) -> Decimal | None:
        """The % of the full salary paid: the fixed part plus what the soft part pays."""
        paid = self.soft_paid
        return None if paid is None else HUNDRED - self.soft_share + paid


# The dashboard page reads the month's scores on every load: compiled once.
_SCORES = Statement(
    lambda company, ids, first, last: CallScore.objects.filter(
        company=company, manager_id__in=ids, call_date__gte=first, call_date__lte=last
    ).values_list("manager_id", "call_id", "call_type_id", "score")
)


def month_quality(
    *,
    company: Company,
    manager_ids: list[int],
    month: datetime.date,
    days: tuple[datetime.date, datetime.date] | None = None,
) -> dict[int, MonthQuality]:
    """Each manager's average call score of the month (by the day of the call), or of the
    `days` given (first, last).

    A call two controllers scored counts once, at the mean of their scores, so a second
    opinion does not weigh a call double.
    """
    first, last = days or month_bounds(month)
    share = settings_of(company=company).soft_salary_share
    per_call: dict[int, dict[tuple[int, int], list[Decimal]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for manager_id, call_id, type_id, score in _SCORES(
        company=company.pk, ids=manager_ids, first=first, last=last
    ):
        per_call[manager_id][(call_id, type_id)].append(score)
    result = {}
    for manager_id in manager_ids:
        calls = per_call.get(manager_id, {})
        average = _round(mean(mean(s) for s in calls.values())) if calls else None
        result[manager_id] = MonthQuality(
            average, len(calls), quality_band(company=company, score=average), share
        )
    return result


# --- Does quality move results? ----------------------------------------------------------


# A difference of conversions is a finding only with this many calls with a closed deal on
# each side: from 1–5 calls a single deal swings it by 20–100 points.
MIN_EFFECT_CALLS = 10


@dataclass
class ItemEffect:
    """Conversion of the calls where a checklist point was done against where it was not.

    A call's result is the outcome of its client's deal that was open when the call took
    place and has closed since: won if any such deal was won, lost if all were lost. Calls
    whose deals are still open (or that had none) do not count.
    """

    item: ChecklistItem
    done_won: int = 0
    done_lost: int = 0
    missed_won: int = 0
    missed_lost: int = 0

    @staticmethod
    def _rate(won: int, lost: int) -> Decimal | None:
        return _round(Decimal(won) / Decimal(won + lost) * HUNDRED) if won + lost else None

    @property
    def done_conversion(self) -> Decimal | None:
        return self._rate(self.done_won, self.done_lost)

    @property
    def missed_conversion(self) -> Decimal | None:
        return self._rate(self.missed_won, self.missed_lost)

    @property
    def difference(self) -> Decimal | None:
        done, missed = self.done_conversion, self.missed_conversion
        return None if done is None or missed is None else done - missed

    @property
    def done_calls(self) -> int:
        return self.done_won + self.done_lost

    @property
    def missed_calls(self) -> int:
        return self.missed_won + self.missed_lost

    @property
    def enough_calls(self) -> bool:
        """Both sides have the sample (MIN_EFFECT_CALLS) for the difference to be a finding."""
        return min(self.done_calls, self.missed_calls) >= MIN_EFFECT_CALLS


def _call_outcomes(company: Company, calls: list[Call]) -> dict[int, bool]:
    """call id → True (won) / False (lost), for calls whose client's deal has closed."""
    client_ids = {c.client_id for c in calls if c.client_id}
    deals: dict[int, list[Deal]] = defaultdict(list)
    for deal in Deal.objects.filter(
        company=company,
        client_id__in=client_ids,
        status__in=[Deal.Status.WON, Deal.Status.LOST],
    ).only("client_id", "status", "created_at", "closed_at"):
        deals[deal.client_id].append(deal)
    outcomes = {}
    for call in calls:
        moment = call.started_at
        relevant = [
            d
            for d in deals.get(call.client_id, [])
            if d.created_at <= moment and d.closed_at is not None and d.closed_at >= moment
        ]
        if relevant:
            outcomes[call.pk] = any(d.status == Deal.Status.WON for d in relevant)
    return outcomes


def item_effects(
    *, company: Company, viewer: User, start: datetime.date, end: datetime.date
) -> list[tuple[CallType, list[ItemEffect]]]:
    """Per call type and checklist point, the conversion with the point done and not done,
    over the calls of [start, end] the viewer may see."""
    scores = list(
        scores_in_view(company=company, viewer=viewer).filter(
            call_date__gte=start, call_date__lte=end
        )
    )
    outcomes = _call_outcomes(company, [s.call for s in scores])
    by_score = {s.pk: s for s in scores}
    effects: dict[int, ItemEffect] = {}
    types: dict[int, CallType] = {}
    for mark in ItemMark.objects.filter(company=company, score__in=by_score).select_related(
        "item", "item__call_type"
    ):
        outcome = outcomes.get(by_score[mark.score_id].call_id)
        effect = effects.setdefault(mark.item_id, ItemEffect(mark.item))
        types[mark.item.call_type_id] = mark.item.call_type
        if outcome is None:
            continue
        if mark.done:
            effect.done_won += outcome
            effect.done_lost += not outcome
        else:
            effect.missed_won += outcome
            effect.missed_lost += not outcome
    result = []
    for call_type in sorted(types.values(), key=lambda t: (t.position, t.name)):
        items = [e for e in effects.values() if e.item.call_type_id == call_type.pk]
        items.sort(key=lambda e: (e.item.position, e.item.pk))
        result.append((call_type, items))
    return result


@dataclass
class Disagreement:
    """A call two or more controllers scored against the same checklist."""

    call: Call
    call_type: CallType
    scores: list[CallScore]
    items_total: int
    items_agreed: int

    @property
    def spread(self) -> Decimal:
        values = [s.score for s in self.scores]
        return max(values) - min(values)

    @property
    def agreement(self) -> Decimal | None:
        """The % of checklist points every controller marked the same way."""
        if not self.items_total:
            return None
        return _round(Decimal(self.items_agreed) / Decimal(self.items_total) * HUNDRED)


def controller_disagreements(
    *, company: Company, viewer: User, start: datetime.date, end: datetime.date
) -> list[Disagreement]:
    """Calls scored by two or more controllers in [start, end], the widest spread first."""
    scores = scores_in_view(company=company, viewer=viewer).filter(
        call_date__gte=start, call_date__lte=end
    )
    groups: dict[tuple[int, int], list[CallScore]] = defaultdict(list)
    for score in scores:
        groups[(score.call_id, score.call_type_id)].append(score)
    groups = {key: group for key, group in groups.items() if len(group) > 1}
    marks: dict[int, dict[int, bool]] = defaultdict(dict)
    for score_id, item_id, done in ItemMark.objects.filter(
        company=company, score__in=[s.pk for group in groups.values() for s in group]
    ).values_list("score_id", "item_id", "done"):
        marks[score_id][item_id] = done
    result = []
    for group in groups.values():
        items = set().union(*(marks[s.pk].keys() for s in group))
        agreed = sum(1 for item in items if len({marks[s.pk].get(item) for s in group}) == 1)
        result.append(Disagreement(group[0].call, group[0].call_type, group, len(items), agreed))
    result.sort(key=lambda d: d.spread, reverse=True)
    return result
