"""Events of other apps that become webhooks, plugged in by `WebhooksConfig.ready()`."""

import datetime
from typing import Any

from accounts.models import Company
from crm_sync import hooks
from crm_sync.models import Deal
from webhooks import payloads, services
from webhooks.models import Event


def deal_won(*, company: Company, deal: Deal, day: datetime.date, **_kwargs: Any) -> None:
    # The signal comes again whenever a won deal is saved: the moment it was won is the key.
    key = f"{deal.code}:{deal.closed_at.isoformat() if deal.closed_at else day.isoformat()}"
    services.emit(
        company=company, event=Event.DEAL_WON, payload=payloads.deal(deal, day=day), key=key
    )


def connect() -> None:
    hooks.deal_won.connect(deal_won, sender=Deal, dispatch_uid="webhooks.deal_won")
