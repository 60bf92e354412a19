"""payments' part in what other apps do (connected in PaymentsConfig.ready): a KPI switched to
«бухгалтерия (1С)» or away from it (kpi.hooks.source_changed)."""

from functools import partial

from django.db import transaction

from kpi.hooks import source_changed
from kpi.models import KPI
from payments import services, tasks


def connect() -> None:
    source_changed.connect(kpi_source_changed, sender=KPI, dispatch_uid="payments-kpi-source")


def kpi_source_changed(*, kpi: KPI, old_source: str | None, **_kwargs: object) -> None:
    accounting = KPI.Source.ACCOUNTING
    if accounting not in (kpi.source, old_source):
        return
    if kpi.source != accounting:
        # Dropping is one statement: done in the switch's own transaction.
        services.figures_rebuild(kpi=kpi)
    elif services.has_money_from_1c(company=kpi.company):
        # Every day 1C has money for, possibly years of them: on the worker, once the switch
        # is committed (the task reads the KPI's source as saved).
        arguments = (kpi.company_id, kpi.pk)
        transaction.on_commit(partial(tasks.figures_rebuild.delay, *arguments), robust=True)
