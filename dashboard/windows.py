"""The period a dashboard shows: a day, an ISO week, a calendar month or a custom range.

Pure date arithmetic, no database: the previous period and the same period a year earlier
are what the dashboard compares with.
"""

import datetime
from dataclasses import dataclass
from typing import Self

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kpi.periods import (
    month_bounds,
    span_before,
    span_days,
    week_bounds,
    week_year_earlier,
    year_earlier,
)

KINDS = ("day", "week", "month", "range")
DEFAULT_KIND = "week"
# A custom range is summed from daily totals: longer than this, pick months instead.
MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class Window:
    kind: str
    start: datetime.date
    end: datetime.date

    @classmethod
    def around(cls, kind: str, day: datetime.date) -> Self:
        """The day, week or month that holds `day`."""
        if kind == "day":
            return cls("day", day, day)
        if kind == "week":
            return cls("week", *week_bounds(day))
        return cls("month", *month_bounds(day))

    @property
    def is_bucket(self) -> bool:
        """Stored totals exist for exactly this period (not for a custom range)."""
        return self.kind != "range"

    @property
    def days(self) -> int:
        return span_days(self.start, self.end)

    def previous(self) -> Self:
        if self.kind == "range":
            return type(self)("range", *span_before(self.start, self.end))
        return self.around(self.kind, self.start - datetime.timedelta(days=1))

    def year_earlier(self) -> Self:
        if self.kind == "week":
            return self.around("week", week_year_earlier(self.start))
        if self.kind == "range":
            return type(self)("range", year_earlier(self.start), year_earlier(self.end))
        return self.around(self.kind, year_earlier(self.start))

    def so_far(self, window: "Window", today: datetime.date) -> "Window":
        """This earlier window cut to as many days as `window` has run by today, so that a
        running period is compared with the same stretch of the earlier one."""
        if not window.contains(today):
            return self
        end = min(self.end, self.start + (today - window.start))
        return self if end == self.end else type(self)("range", self.start, end)

    def contains(self, day: datetime.date) -> bool:
        return self.start <= day <= self.end

    def query(self) -> str:
        """The query string that shows this window again."""
        if self.kind == "range":
            return f"period=range&start={self.start.isoformat()}&end={self.end.isoformat()}"
        return f"period={self.kind}&start={self.start.isoformat()}"

    @property
    def label(self) -> str:
        if self.kind == "day":
            return self.start.strftime("%d.%m.%Y")
        if self.kind == "week":
            return _("неделя %(start)s – %(end)s") % {
                "start": self.start.strftime("%d.%m"),
                "end": self.end.strftime("%d.%m.%Y"),
            }
        if self.kind == "month":
            return self.start.strftime("%m.%Y")
        return f"{self.start.strftime('%d.%m.%Y')} – {self.end.strftime('%d.%m.%Y')}"


def window_parse(params: dict[str, str], *, today: datetime.date) -> Window:
    """The window a query string asks for; a ValidationError in the user's words otherwise."""
    kind = params.get("period") or DEFAULT_KIND
    if kind not in KINDS:
        raise ValidationError(_("Неизвестный период: выберите день, неделю, месяц или диапазон."))
    try:
        start = datetime.date.fromisoformat(params["start"]) if params.get("start") else today
        end = datetime.date.fromisoformat(params["end"]) if params.get("end") else None
    except ValueError as error:
        raise ValidationError(_("Дата должна быть в виде ГГГГ-ММ-ДД.")) from error
    if kind != "range":
        return Window.around(kind, start)
    if end is None:
        raise ValidationError(_("Укажите конец диапазона."))
    if end < start:
        raise ValidationError(_("Конец диапазона раньше его начала."))
    if span_days(start, end) > MAX_RANGE_DAYS:
        raise ValidationError(
            _("Диапазон длиннее %(days)d дней: выберите месяцы по отдельности.")
            % {"days": MAX_RANGE_DAYS}
        )
    return Window("range", start, end)
