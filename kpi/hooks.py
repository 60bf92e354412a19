"""Where the apps built on KPIs plug in, so that kpi never imports them.

- `source_changed`, a signal sent when a KPI gets its source or another one: a new KPI
  (`kpi_create`, a catalogue KPI adopted: `old_source` is None) or `kpi_update` with another
  `source`, with `kpi` and `old_source`. Receivers run inside the change's transaction, so
  what they mark commits with it; long work is theirs to queue for after the commit.
  payments (payments/receivers.py) rebuilds a KPI's figures from 1C when it is switched to
  «бухгалтерия (1С)» and drops them when it is switched away.
"""

from django.dispatch import Signal

source_changed = Signal()
