"""Where the apps built on crm_sync's records plug in, so crm_sync never imports them.

crm_sync stores deals and calls; client analysis (`clients`) reads them. The two places
where a crm_sync write needs that app's work call back through here, and `clients` plugs in
from its `AppConfig.ready()`:

- `deal_won`, a signal `deal_upsert` sends after it saves a deal that is won (a new win, or
  a change to a won deal), with `company`, `deal` and `day` (the day it was won on the
  company's clock). Receivers run inside the upsert's transaction.
- Figure sources: KPI figures of a manager's day that another app computes from the
  records (the client-base KPIs), stored by `services.day_figures_store` beside the CRM's
  and the telephony's own, and computed only when one of the source's codes is asked for.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.dispatch import Signal

deal_won = Signal()


@dataclass(frozen=True)
class FigureSource:
    codes: tuple[str, ...]
    # (company=, manager=, day=) -> {KPI code: value}; a code without a value is left out.
    figures: Callable[..., dict[str, Decimal]]


_figure_sources: dict[str, FigureSource] = {}


def figure_source_register(
    name: str, *, codes: tuple[str, ...], figures: Callable[..., dict[str, Decimal]]
) -> None:
    """Called from an `AppConfig.ready()`; the same name again replaces the source."""
    _figure_sources[name] = FigureSource(codes=tuple(codes), figures=figures)


def figure_sources() -> list[FigureSource]:
    return list(_figure_sources.values())


def figure_codes() -> tuple[str, ...]:
    return tuple(code for source in _figure_sources.values() for code in source.codes)
