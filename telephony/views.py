"""The PBXs' receiver (anonymous: the key in the URL names the company), the admin's PBX
settings and mapping screen, and the recording behind «Запись»."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts import permissions, tenancy
from accounts import services as account_services
from accounts.access import get_for_admin
from accounts.authentication import token_company_id
from accounts.models import CompanyToken
from accounts.views import call_service, submitted
from crm_sync.models import Call
from telephony import recordings, selectors, services
from telephony.forms import AssignForm, ConnectionForm
from telephony.models import PBXConnection
from telephony.vendors import VENDORS
from telephony.vendors.base import BadPayload

logger = logging.getLogger(__name__)


def receiver_url(*, vendor: str, key: str) -> str:
    path = reverse("telephony-receive", kwargs={"vendor": vendor, "key": key})
    return settings.SITE_URL.rstrip("/") + path


def _connection(vendor: str, key: str) -> PBXConnection:
    """The connection the URL's key opens: a live `calls:push` token of the company that
    has this vendor connected with this very token. Anything else is the same 404."""
    company_id = token_company_id(key)
    if company_id is None or vendor not in VENDORS:
        raise Http404
    tenancy.activate(company_id)
    token = account_services.company_token_find(key=key)
    connection = None
    if token is not None and CompanyToken.Scope.CALLS_PUSH in token.scopes:
        connection = (
            PBXConnection.objects.filter(company=company_id, vendor=vendor, token=token)
            .select_related("company")
            .first()
        )
    if connection is None:
        tenancy.activate(None)
        raise Http404
    return connection


@csrf_exempt
@require_http_methods(["GET", "POST"])
def receive(request: HttpRequest, vendor: str, key: str, rest: str = "") -> HttpResponse:
    connection = _connection(vendor, key)
    receiver = VENDORS[vendor]
    answer = receiver.handshake(request)
    if answer is not None:
        return answer
    if not receiver.verify(request, services.connection_secrets(connection)):
        logger.warning("pbx event with a bad signature: company=%s vendor=%s",
                       connection.company_id, vendor)  # fmt: skip
        return HttpResponseForbidden()
    try:
        events = receiver.events(request, path=rest, zone=connection.company.zone)
        services.events_take(connection=connection, events=events)
    except BadPayload as error:
        logger.warning("pbx event unreadable: company=%s vendor=%s: %s",
                       connection.company_id, vendor, error)  # fmt: skip
        return HttpResponseBadRequest()
    except services.Stale:
        logger.warning("pbx event outside the replay window: company=%s vendor=%s",
                       connection.company_id, vendor)  # fmt: skip
        return HttpResponseForbidden()
    return receiver.reply()


@login_required
@require_http_methods(["GET", "POST"])
def connection_list(request: HttpRequest) -> HttpResponse:
    permissions.require_configure(request.user)
    company = request.user.company
    form = ConnectionForm(request.POST or None)
    created_url = ""
    if submitted(request, form) and (
        made := call_service(form, services.connection_create, company=company, actor=request.user)
    ):
        connection, key = made
        # Shown on this response only: the key is not stored and cannot be shown again.
        created_url = receiver_url(vendor=connection.vendor, key=key)
        form = ConnectionForm()
    context = {
        "connections": selectors.connections(company=company),
        "form": form,
        "created_url": created_url,
        "unmatched": len(selectors.unmatched_calls(company=company)),
    }
    return render(request, "telephony/connections.html", context)


@login_required
@require_POST
def connection_delete(request: HttpRequest, code: str) -> HttpResponse:
    connection = get_for_admin(PBXConnection, actor=request.user, code=code)
    services.connection_delete(connection=connection, actor=request.user)
    messages.success(request, _("АТС %(vendor)s отключена.") % {"vendor": connection})
    return redirect("telephony-connections")


@login_required
@require_http_methods(["GET", "POST"])
def unmatched(request: HttpRequest) -> HttpResponse:
    """The calls whose PBX employee matched nobody: the admin says who it is."""
    permissions.require_configure(request.user)
    company = request.user.company
    form = AssignForm(request.POST or None, company=company)
    if submitted(request, form):
        count = call_service(form, services.unmatched_assign, company=company, actor=request.user)
        if count is not None:
            messages.success(
                request,
                _("Звонков передано: %(count)s. Следующие звонки этого номера найдут его сами.")
                % {"count": count},
            )
            return redirect("telephony-unmatched")
    rows = selectors.unmatched_calls(company=company)
    context = {"rows": rows, "form": form, "managers": form.fields["manager"].queryset}
    return render(request, "telephony/unmatched.html", context)


@login_required
def recording(request: HttpRequest, code: str) -> HttpResponse:
    """One click from the queue or the score to the call's recording."""
    call = get_object_or_404(
        Call.objects.filter(company_id=request.user.company_id).select_related("manager"),
        code=code,
    )
    user = request.user
    allowed = (
        permissions.may_configure(user)
        if call.manager is None
        else permissions.may_see(user, call.manager) or permissions.may_score(user, call.manager)
    )
    if not allowed:
        raise PermissionDenied(_("Этот звонок вам не виден."))
    if not call.recording_url:
        raise Http404
    try:
        return HttpResponseRedirect(recordings.recording_link(call=call))
    except recordings.RecordingUnavailable as error:
        logger.warning("recording unavailable: call=%s: %s", call.pk, error)
        messages.error(request, _("АТС не отдала запись этого звонка. Попробуйте позже."))
        return redirect("home")
