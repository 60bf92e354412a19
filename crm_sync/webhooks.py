"""Where amoCRM and Bitrix24 post their events. Anonymous: the URL names the company and
the connection, and the request must prove it comes from that connection's CRM.

A forged request gets 403 and changes nothing; an unknown company or connection, 404.
"""

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts import tenancy
from accounts.models import Company
from crm_sync import connectors, coordination, tasks
from crm_sync.models import CRMConnection


def _connection(company: str, code: str, vendor: str) -> CRMConnection:
    """Switches the request to the connection's company: it is the only one it may touch."""
    company_obj = get_object_or_404(Company, code=company)
    tenancy.activate(company_obj)
    connection = CRMConnection.objects.filter(company=company_obj, code=code, vendor=vendor).first()
    if connection is None or not connection.active:
        tenancy.activate(None)
        raise Http404
    return connection


def _payload(request: HttpRequest) -> dict:
    return connectors.parse_form(
        (key, value) for key, values in request.POST.lists() for value in values
    )


def _hook(request: HttpRequest, company: str, code: str, vendor: str, secret: str) -> HttpResponse:
    connection = _connection(company, code, vendor)
    payload = _payload(request)
    if not connectors.webhook_verify(connection=connection, payload=payload, secret=secret):
        return HttpResponseForbidden()
    ids = connectors.webhook_apply(connection=connection, payload=payload)
    # A burst of events (a mass edit sends one per deal) becomes one batched fetch: the
    # ids wait in Redis, and the window's first event schedules the batch.
    if ids and coordination.pending_add(connection.pk, ids):
        arguments = (connection.company_id, str(connection.code))
        transaction.on_commit(lambda: tasks.refresh_pending_schedule(*arguments))
    return HttpResponse("ok", content_type="text/plain")


@csrf_exempt
@require_POST
def amocrm_hook(request: HttpRequest, company: str, code: str, secret: str) -> HttpResponse:
    """amoCRM signs nothing: the secret is in the URL we give it."""
    return _hook(request, company, code, CRMConnection.Vendor.AMOCRM, secret)


@csrf_exempt
@require_POST
def bitrix24_hook(request: HttpRequest, company: str, code: str) -> HttpResponse:
    """Bitrix24 proves its events with its application token, in the payload."""
    return _hook(request, company, code, CRMConnection.Vendor.BITRIX24, "")
