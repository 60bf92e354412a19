"""What the CRM lists, kept on the connection (`CRMConnection.catalog`): one cache of the
CRM's lists, and one rule for refreshing it.

It holds, as the CRM last listed them:

- `pipelines` (with their statuses) and `people`: what the mapping page shows (crm_sync.mapping);
- `amount_fields`: the deal fields that can hold the amount, for the amount page;
- what a deal's codes mean, read with `vendors.reference`: `sources` and `stages` by name,
  `currency` and `rates` (each vendor's `catalog()`);
- `refreshed_at`: when it was asked.

The rule: the cache is refreshed as a whole, before deals are read (a pull, a webhook's
batch) when it is older than `MAX_AGE`, and at once when the admin asks («Обновить списки
из CRM» on the mapping and amount pages, `connectors.catalog_refresh`). A page never asks the
CRM: it opens at once, and a CRM that is down or limiting us does not break it. Six hours:
names and pipelines change rarely and rates daily, while the lists cost a dozen requests
(Bitrix24 asks `crm.status.list` once per pipeline) that a pull every ten minutes need not
spend; whoever changed the CRM just now presses the button.
"""

import dataclasses
import datetime
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from crm_sync.vendors.base import CRMPipeline, CRMStatus, CRMUser, Vendor

MAX_AGE = datetime.timedelta(hours=6)


@dataclass
class Catalog:
    """The lists the pages show (the codes' meanings are read by `vendors.reference`)."""

    pipelines: list[CRMPipeline]
    people: list[CRMUser]
    amount_fields: list[tuple[str, str]]
    refreshed_at: datetime.datetime | None

    @property
    def version(self) -> str:
        """Tells one refresh from the next: a form built on one list is not saved on another."""
        return self.refreshed_at.isoformat() if self.refreshed_at else ""


def catalog_read(vendor: Vendor[Any], client: Any) -> dict[str, Any]:
    """Every list of the cache, asked of the CRM now (`CRMError` when it refuses)."""
    return {
        **vendor.catalog(client),
        "pipelines": [dataclasses.asdict(pipeline) for pipeline in vendor.pipelines(client)],
        "people": [dataclasses.asdict(person) for person in vendor.user_list(client)],
        "amount_fields": [list(field) for field in vendor.amount_fields(client)],
        "refreshed_at": timezone.now().isoformat(),
    }


def catalog_stale(stored: dict[str, Any], *, now: datetime.datetime | None = None) -> bool:
    """Never asked, or asked longer than `MAX_AGE` ago."""
    refreshed = _moment(stored.get("refreshed_at"))
    return refreshed is None or (now or timezone.now()) - refreshed > MAX_AGE


def catalog_of(stored: dict[str, Any]) -> Catalog | None:
    """The lists as last asked; None while the CRM's pipelines have never been asked."""
    if "pipelines" not in stored:
        return None
    return Catalog(
        pipelines=[
            CRMPipeline(
                id=p["id"], name=p["name"], is_main=p.get("is_main", False),
                statuses=[CRMStatus(**status) for status in p["statuses"]],
            )
            for p in stored.get("pipelines", [])
        ],
        people=[CRMUser(**person) for person in stored.get("people", [])],
        amount_fields=[(str(code), str(name)) for code, name in stored.get("amount_fields", [])],
        refreshed_at=_moment(stored.get("refreshed_at")),
    )  # fmt: skip


def _moment(text: Any) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(text) if text else None
