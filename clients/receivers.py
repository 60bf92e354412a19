"""Client analysis plugged into crm_sync's writes (crm_sync never imports this app):
a won deal closes its client's rhythm alert at once, and the client-base KPIs are stored
with the CRM's figures of a manager's day. Connected by `ClientsConfig.ready()`."""

import datetime
from typing import Any

from accounts.models import Company
from clients import selectors, services
from crm_sync import hooks
from crm_sync.models import Deal


def deal_won(*, company: Company, deal: Deal, day: datetime.date, **_kwargs: Any) -> None:
    if deal.client_id:
        services.alerts_close_ordered(company=company, client_id=deal.client_id, day=day)


def connect() -> None:
    hooks.deal_won.connect(deal_won, sender=Deal, dispatch_uid="clients.deal_won")
    hooks.figure_source_register(
        "clients", codes=selectors.CLIENT_CODES, figures=selectors.client_figures
    )
