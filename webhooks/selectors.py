from django.db.models import QuerySet

from accounts.models import Company
from webhooks.models import Delivery, Subscription


def subscriptions(*, company: Company) -> QuerySet[Subscription]:
    return Subscription.objects.filter(company=company)


def recent_deliveries(*, company: Company, limit: int = 100) -> list[Delivery]:
    """The delivery log across the company's subscriptions, newest first."""
    found = Delivery.objects.filter(company=company).select_related("subscription")
    return list(found.order_by("-created", "-pk")[:limit])
