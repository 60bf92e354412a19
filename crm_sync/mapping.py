"""Mapping a CRM onto Salesdesk from the CRM's own lists: which of its pipelines are sales,
which of our stages each of their statuses counts as, and which of our users each CRM user
is.

The admin picks from what the CRM itself lists (amoCRM `/api/v4/leads/pipelines` and
`/api/v4/users`; Bitrix24 `crm.category.list`, `crm.status.list` and `user.get`, kept in
the connection's one cache of the CRM's lists, crm_sync.catalog), with
suggestions: a status by its name, or by the CRM's own won/lost semantics (so the "won" of
a service or HR pipeline is the won of that pipeline, counted only if the admin chose it);
a user by e-mail, then by name. Deals of the pipelines not chosen are not downloaded (the
pull asks the CRM for the chosen ones only) and ignored when a webhook brings one
(`connectors.Mapping.stage`); a pipeline added to the choice is read from the start by the
next pull, with its history (`connectors._backfill`).

Deals, leads and calls of a CRM user who matches none of ours are kept with the CRM's user
id; matched later, they become the user's, and the days they fall on are recomputed.
"""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from accounts.audit import audit_record
from accounts.models import AuditEvent, Company, User
from crm_sync import services, vendors
from crm_sync.catalog import Catalog
from crm_sync.models import (
    Call,
    CRMConnection,
    CRMStageLink,
    CRMUserLink,
    Deal,
    Lead,
    PipelineStage,
)
from crm_sync.vendors.base import CRMPipeline, CRMStatus, CRMUser

# --- Suggestions ----------------------------------------------------------------------------


def _plain(text: str) -> str:
    return " ".join(text.casefold().replace("ё", "е").split())


def stage_suggest(*, status: CRMStatus, stages: list[PipelineStage]) -> PipelineStage | None:
    """A closing status: our first stage of its kind; else ours of the same name."""
    if status.kind != PipelineStage.Kind.OPEN:
        return next((stage for stage in stages if stage.kind == status.kind), None)
    name = _plain(status.name)
    return next(
        (
            stage
            for stage in stages
            if stage.kind == PipelineStage.Kind.OPEN
            and name in (_plain(stage.name), _plain(str(stage)))
        ),
        None,
    )


def user_suggest(*, person: CRMUser, users: list[User]) -> User | None:
    """Ours with the same e-mail, else with the same name (either order of its parts)."""
    email = person.email.strip().casefold()
    if email:
        for user in users:
            if user.email and user.email.strip().casefold() == email:
                return user
    name = sorted(_plain(person.name).split())
    if not name:
        return None
    named = [
        user
        for user in users
        if sorted(_plain(f"{user.first_name} {user.last_name}").split()) == name
    ]
    return named[0] if len(named) == 1 else None  # two namesakes: the admin decides


def pipeline_suggested(*, connection: CRMConnection, pipeline: CRMPipeline) -> bool:
    """Chosen already; or, before any choice, the CRM's main pipeline."""
    if connection.pipelines:
        return pipeline.id in {str(p) for p in connection.pipelines}
    return pipeline.is_main


def stage_links(*, connection: CRMConnection) -> dict[tuple[str, str], CRMStageLink]:
    links = CRMStageLink.objects.filter(company=connection.company, connection=connection)
    return {(link.pipeline_id, link.status_id): link for link in links.select_related("stage")}


def user_links(*, connection: CRMConnection) -> dict[str, CRMUserLink]:
    links = CRMUserLink.objects.filter(company=connection.company, connection=connection)
    return {link.crm_user_id: link for link in links.select_related("user")}


def matchable_users(*, company: Company) -> list[User]:
    return list(
        User.objects.filter(company=company, is_active=True)
        .exclude(role=User.Role.QUALITY)
        .order_by("last_name", "first_name", "username")
    )


# --- Saving ---------------------------------------------------------------------------------


@dataclass
class MappingSaved:
    pipelines: int
    matched: int
    unmatched: int
    backfilled: int  # deals and calls now counted for the user they were matched to


def mapping_save(
    *,
    connection: CRMConnection,
    catalog: Catalog,
    chosen: set[str],
    stages: dict[tuple[str, str], PipelineStage | None],
    matches: dict[str, User | None],
) -> MappingSaved:
    """Store the admin's choice: the sales pipelines, their statuses' stages, the users'
    matches; back-fill the deals and calls of users matched now."""
    company = connection.company
    known = {pipeline.id for pipeline in catalog.pipelines}
    backfilled = 0
    with transaction.atomic():
        connection.pipelines = sorted(chosen & known)
        connection.save(update_fields=["pipelines"])
        links = stage_links(connection=connection)
        for pipeline in catalog.pipelines:
            for status in pipeline.statuses:
                key = (pipeline.id, status.id)
                link = links.get(key) or CRMStageLink(
                    company=company, connection=connection, pipeline_id=pipeline.id,
                    status_id=status.id,
                )  # fmt: skip
                link.name = status.name[:200]
                if key in stages:
                    link.stage = stages[key]
                link.save()
        people = user_links(connection=connection)
        for person in catalog.people:
            link = people.get(person.id) or CRMUserLink(
                company=company, connection=connection, crm_user_id=person.id
            )
            link.name, link.email = person.name[:200], person.email[:254]
            before = link.user
            if person.id in matches:
                link.user = matches[person.id]
            link.save()
            if link.user is not None and link.user != before:
                backfilled += people_backfill(
                    connection=connection, crm_user_id=person.id, user=link.user, previous=before
                )
        matched = sum(1 for person in catalog.people if matches.get(person.id))
        audit_record(
            company=company,
            action=AuditEvent.Action.CRM_SAVED,
            target=f"{connection.get_vendor_display()}: воронки {', '.join(connection.pipelines)}",
        )
    return MappingSaved(
        pipelines=len(connection.pipelines),
        matched=matched,
        unmatched=len(catalog.people) - matched,
        backfilled=backfilled,
    )


def people_backfill(
    *, connection: CRMConnection, crm_user_id: str, user: User, previous: User | None = None
) -> int:
    """The CRM user's deals, leads and calls (unmatched so far, or matched to `previous`)
    become `user`'s; the days they fall on are recomputed for both, through the figures'
    one writer (which marks the totals stale). Returns how many records moved."""
    company = connection.company
    source = vendors.vendor_for(connection.vendor).source
    whose = Q(manager__isnull=True) | (Q(manager=previous) if previous else Q(pk__in=[]))
    deals = list(
        Deal.objects.select_for_update().filter(
            whose, company=company, source=source, crm_user_id=crm_user_id
        )
    )
    calls = list(
        Call.objects.select_for_update().filter(
            whose, company=company, source=source, crm_user_id=crm_user_id
        )
    )
    leads = list(
        Lead.objects.select_for_update().filter(
            whose, company=company, source=source, crm_user_id=crm_user_id
        )
    )
    touched: set[tuple[int | None, datetime.date]] = set()
    for lead in leads:
        for manager_id in {lead.manager_id, user.pk}:
            touched.add((manager_id, company.local_time(lead.created_at).date()))
    for deal in deals:
        moments = [deal.created_at, *([deal.closed_at] if deal.closed_at else [])]
        for manager_id in {deal.manager_id, user.pk}:
            touched |= {(manager_id, company.local_time(at).date()) for at in moments}
    for call in calls:
        for manager_id in {call.manager_id, user.pk}:
            touched.add((manager_id, company.local_time(call.started_at).date()))
    Deal.objects.filter(pk__in=[deal.pk for deal in deals]).update(manager=user)
    Call.objects.filter(pk__in=[call.pk for call in calls]).update(manager=user)
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(manager=user)
    services.day_figures_refresh_many(company=company, pairs=touched)
    return len(deals) + len(leads) + len(calls)


class MappingInitial:
    """What the mapping form shows before the admin changes anything: what is stored,
    else the suggestion."""

    def __init__(
        self, *, connection: CRMConnection, stages: list[PipelineStage], users: list[User]
    ) -> None:
        self.connection, self.stages, self.users = connection, stages, users
        self.links = stage_links(connection=connection)
        self.people = user_links(connection=connection)

    def chosen(self, pipeline: CRMPipeline) -> bool:
        return pipeline_suggested(connection=self.connection, pipeline=pipeline)

    def stage(self, pipeline: CRMPipeline, status: CRMStatus) -> PipelineStage | None:
        link = self.links.get((pipeline.id, status.id))
        if link is not None and pipeline.id in {str(p) for p in self.connection.pipelines}:
            return link.stage
        return stage_suggest(status=status, stages=self.stages)

    def user(self, person: CRMUser) -> User | None:
        link = self.people.get(person.id)
        if link is not None and link.user is not None:
            return link.user
        return user_suggest(person=person, users=self.users)
