from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.permissions import require_configure
from webhooks import selectors
from webhooks.models import Event


@login_required
@require_GET
def webhook_list(request: HttpRequest) -> HttpResponse:
    """Admins: the subscriptions and the delivery log (managed through the API)."""
    require_configure(request.user)
    company = request.user.company
    labels = dict(Event.choices)
    subscriptions = [
        (subscription, [labels.get(e, e) for e in subscription.events])
        for subscription in selectors.subscriptions(company=company)
    ]
    context = {
        "subscriptions": subscriptions,
        "deliveries": selectors.recent_deliveries(company=company),
    }
    return render(request, "webhooks/webhook_list.html", context)
