import hmac
import json
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotFound,
)
from django.shortcuts import redirect
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts import permissions, tenancy
from accounts.models import Company, User
from telegram_bot import selectors, services

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1_000_000


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, company: str) -> HttpResponse:
    """Telegram's deliveries to the company's bot. Anonymous: the secret header proves them.

    A forged or unsigned update gets 403 and nothing is stored; a verified one is stored
    (once per update_id) and answered 200 at once, to be processed by the worker.
    """
    found = Company.objects.filter(code=company).first()
    if found is None or not found.telegram_bot_token:
        return HttpResponseNotFound()
    given = request.headers.get(SECRET_HEADER, "")
    expected = services.webhook_secret(company=found)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return HttpResponseForbidden()
    if len(request.body) > MAX_UPDATE_BYTES:
        return HttpResponse(status=413)
    try:
        payload = json.loads(request.body)
    except ValueError:
        return HttpResponseBadRequest()
    if not isinstance(payload, dict):
        return HttpResponseBadRequest()
    tenancy.activate(found)
    services.update_receive(company=found, payload=payload)
    return HttpResponse("ok", content_type="text/plain")


def profile_context(user: User) -> dict[str, Any]:
    """The profile's Telegram block: the one-time link and its QR code, or the bound chat
    and what it receives. A new code is made each time the block is shown unbound."""
    company = user.company
    if company is None:  # an operator: no company, no bot
        return {"available": False}
    preferences = selectors.preferences_of(company=company, user=user)
    fields = selectors.preference_fields(user=user)
    kinds = [
        (field, preferences._meta.get_field(field).verbose_name, getattr(preferences, field))
        for field in fields
    ]
    context: dict[str, Any] = {
        "available": bool(company.telegram_bot_token and company.telegram_bot_username),
        "bound": bool(user.telegram_chat_id),
        "bot_username": company.telegram_bot_username,
        "kinds": kinds,
        "reports": permissions.may_report(user),
    }
    if context["available"] and not context["bound"]:
        code, expires = services.binding_code_create(user=user)
        link = f"https://t.me/{company.telegram_bot_username}?start={code}"
        qr = segno.make(link, error="m")
        context |= {
            "link": link,
            "expires": expires,
            # segno writes the SVG itself (no user text in it but the link, which it escapes).
            "qr": mark_safe(qr.svg_inline(scale=4, dark="#1f2937", omitsize=True)),  # noqa: S308
        }
    return context


@login_required
@require_POST
def unbind(request: HttpRequest) -> HttpResponse:
    services.chat_unbind(company=request.user.company, user=request.user)
    messages.success(request, _("Telegram отвязан: сообщения туда больше не придут."))
    return redirect("profile")


@login_required
@require_POST
def preferences(request: HttpRequest) -> HttpResponse:
    fields = selectors.preference_fields(user=request.user)
    services.preferences_set(
        company=request.user.company,
        user=request.user,
        **{field: request.POST.get(field) == "on" for field in fields},
    )
    messages.success(request, _("Настройки сообщений в Telegram сохранены."))
    return redirect("profile")
