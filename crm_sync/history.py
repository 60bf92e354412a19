"""The deals' stage history as the CRM kept it: amoCRM's `lead_status_changed` events,
Bitrix24's `crm.stagehistory.list`.

Without it every deal would start its history the day we connected, at the stage it had
then: stage conversion and time in stage would be wrong for all that came before. The first
pull backfills the visits of every deal it stored from those deals' whole history, asked by
their ids, so the history of the pipelines not chosen is not downloaded; each later pull
reads the moves since `cursor["history"]` and rebuilds the visits of the stored deals they
touch from those deals' whole history, so a rebuild is the same however often it runs. That
list of moves is not narrowed to the chosen pipelines: a move out of one is recorded under
the pipeline it goes to (amoCRM's `value_after`, Bitrix24's CATEGORY_ID), and only through it
does a stored deal leave our funnel. The deals of a pipeline added to the choice later
(`connectors._backfill`) wait in `cursor["history"]["deals"]` for their whole history.
Between pulls the webhooks' stage changes add visits as they come (`services.deal_upsert`);
the next pull corrects them against the CRM.

A closed deal's close moment is the moment it reached its final stage, not when we first
saw it closed.
"""

import datetime
import itertools
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from accounts import tenancy
from crm_sync import services
from crm_sync.models import CRMConnection, Deal, PipelineStage, StageVisit
from crm_sync.vendors.base import Lookup, Skip, StageEvent, Vendor

# Deals whose whole history one request asks for.
DEALS_PER_REQUEST = 50


def history_pull(*, vendor: Vendor[Any], client: Any, company_id: int, connection_id: int) -> int:
    """Backfill (first pull) or bring up to date the stored deals' stage visits; returns how
    many deals' visits were rebuilt. The HTTP calls run outside any transaction."""
    with tenancy.tenant_context(company_id):
        cursor = CRMConnection.objects.get(pk=connection_id).cursor
        stored = set(
            Deal.objects.filter(company_id=company_id, source=vendor.source).values_list(
                "external_id", flat=True
            )
        )
    since = cursor.get("history", {}).get("since")
    waiting = set(cursor.get("history", {}).get("deals", []))
    if since is None:  # every stored deal's history, and the moves from the last one read on
        recent, ids = [], stored
    else:
        recent = _collect(vendor.stage_history(client, since=since))
        ids = ({event.deal_id for event in recent} | waiting) & stored
    events = []
    for chunk in itertools.batched(sorted(ids), DEALS_PER_REQUEST):
        events += _collect(vendor.stage_history(client, deal_ids=list(chunk)))
    # Later moves are read from the last one seen: of any deal when the moves were listed.
    last = max((event.cursor for event in (events if since is None else recent)), default=since)
    rebuilt = visits_store(
        company_id=company_id, connection_id=connection_id, source=vendor.source, events=events
    )
    with tenancy.tenant_context(company_id):
        connection = CRMConnection.objects.select_for_update().get(pk=connection_id)
        connection.cursor["history"] = {"since": last}
        connection.save(update_fields=["cursor"])
    return rebuilt


def _collect(pages: Iterable[list[StageEvent]]) -> list[StageEvent]:
    return [event for page in pages for event in page]


def visits_store(
    *, company_id: int, connection_id: int, source: str, events: list[StageEvent]
) -> int:
    """Rebuild the visits of the stored deals these events are of, in one transaction."""
    from crm_sync.connectors import Mapping

    by_deal: dict[str, list[StageEvent]] = defaultdict(list)
    for event in events:
        by_deal[event.deal_id].append(event)
    if not by_deal:
        return 0
    with tenancy.tenant_context(company_id):
        connection = CRMConnection.objects.select_related("company").get(pk=connection_id)
        company = connection.company
        mapping = Mapping(company=company, connection=connection)
        deals = Deal.objects.select_for_update().filter(
            company=company, source=source, external_id__in=list(by_deal)
        )
        with services.figures_deferred(company=company):
            for deal in deals:
                visits_rebuild(deal=deal, events=by_deal[deal.external_id], lookup=mapping)
    return len(by_deal)


def _stage_of(lookup: Lookup, pipeline_id: str, status_id: str, kind: str | None):
    """Our stage for a CRM status; None where it maps to none (another pipeline, an
    unmapped status): the deal is off our funnel for that span."""
    try:
        return lookup.stage(status_id, closing=kind, pipeline=pipeline_id)
    except Skip:
        return None


def visits_rebuild(*, deal: Deal, events: list[StageEvent], lookup: Lookup) -> None:
    """Replace the deal's visits by the path its history describes, and date its closing
    by the moment it reached its final stage."""
    events = sorted(events, key=lambda event: (event.at, str(event.cursor)))
    path: list[tuple[PipelineStage | None, datetime.datetime]] = []
    first = events[0]
    if first.before is not None and first.at > deal.created_at:
        path.append((_stage_of(lookup, *first.before, None), deal.created_at))
    for event in events:
        path.append((_stage_of(lookup, event.pipeline_id, event.status_id, event.kind), event.at))
    # A stage entered twice in a row (a move out of and back into the same status of
    # another pipeline, a repeated record) is one visit.
    path = [next(group) for _key, group in itertools.groupby(path, key=lambda step: step[0])]
    if all(stage is None for stage, _at in path):
        return
    visits = []
    for (stage, entered), following in itertools.zip_longest(path, path[1:]):
        if stage is None:
            continue
        left = following[1] if following else None
        visits.append(StageVisit(
            company_id=deal.company_id, deal=deal, stage=stage, entered_at=entered, left_at=left,
        ))  # fmt: skip
    last_stage, last_at = path[-1]
    if (
        visits
        and visits[-1].left_at is None
        and deal.status == Deal.Status.RETARGETING
        and deal.retargeting_at
    ):
        visits[-1].left_at = max(deal.retargeting_at, visits[-1].entered_at)
    StageVisit.objects.filter(company_id=deal.company_id, deal=deal).delete()
    StageVisit.objects.bulk_create(visits)
    closing = last_stage is not None and last_stage.kind != PipelineStage.Kind.OPEN
    if (
        closing
        and last_stage.pk == deal.stage_id
        and deal.status in (Deal.Status.WON, Deal.Status.LOST)
        and deal.closed_at != last_at
        and last_at >= deal.created_at
    ):
        company = deal.company
        touched = {(deal.manager_id, company.local_time(last_at).date())}
        if deal.closed_at:
            touched.add((deal.manager_id, company.local_time(deal.closed_at).date()))
        deal.closed_at = last_at
        deal.save(update_fields=["closed_at"])
        services.day_figures_refresh_many(company=company, pairs=touched)
