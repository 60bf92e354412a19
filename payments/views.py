"""The payments page (expected payments beside what came in, the month's payments, the
latest receivables), the payers to link to clients, and the 1C connection."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from accounts.permissions import require_configure, require_lead
from accounts.views import submitted
from payments import odata, selectors, services
from payments.forms import ODataConnectionForm, PayerLinkForm
from payments.models import ODataConnection


def _month(request: HttpRequest, today: datetime.date) -> datetime.date:
    try:
        return datetime.datetime.strptime(request.GET.get("month", ""), "%Y-%m").date()
    except ValueError:
        return today.replace(day=1)


@login_required
def payments_page(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require_lead(user)
    company = user.company
    today = company.today()
    month = _month(request, today)
    start = month.replace(day=1)
    end = (start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    balance_day, balances = selectors.latest_balances(company=company, actor=user)
    context = {
        "comparison": selectors.expected_vs_received(
            company=company, actor=user, month=month, today=today
        ),
        "payments": selectors.payments_in_view(company=company, actor=user, start=start, end=end),
        "balance_day": balance_day,
        "balances": balances,
        "debt_total": sum((b.amount for b in balances if b.amount > 0), 0),
        "previous": (start - datetime.timedelta(days=1)).strftime("%Y-%m"),
        "next": (end + datetime.timedelta(days=1)).strftime("%Y-%m"),
        "unlinked": len(selectors.payers_unlinked(company=company)) if user.can_administer else 0,
    }
    return render(request, "payments/payments.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def payers_page(request: HttpRequest) -> HttpResponse:
    """Payers of 1C that match no client: the admin says which client each one is."""
    user: User = request.user  # type: ignore[assignment]
    require_configure(user)
    company = user.company
    form = PayerLinkForm(request.POST or None, company_id=company.pk)
    if submitted(request, form):
        try:
            moved = services.payer_link_set(company=company, actor=user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Плательщик «%(name)s» привязан к клиенту «%(client)s»: записей — %(count)s.")
                % {
                    "name": form.cleaned_data["name"] or form.cleaned_data["inn"],
                    "client": form.cleaned_data["client"],
                    "count": moved,
                },
            )
            return redirect("payment-payers")
    payers = selectors.payers_unlinked(company=company)
    context = {
        "payers": payers,
        "form": form,
        "clients": form.fields["client"].queryset,  # type: ignore[attr-defined]
    }
    return render(request, "payments/payers.html", context, status=422 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def connection_page(request: HttpRequest) -> HttpResponse:
    """The company's 1C infobase published with OData: pulled every hour by beat."""
    user: User = request.user  # type: ignore[assignment]
    require_configure(user)
    company = user.company
    connection = ODataConnection.objects.filter(company=company).first()
    initial = {"pull_from": company.today().replace(day=1)} if connection is None else None
    form = ODataConnectionForm(request.POST or None, instance=connection, initial=initial)
    if submitted(request, form):
        try:
            odata.connection_save(
                company=company, actor=user, instance=connection, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Подключение к 1С сохранено."))
            return redirect("payment-connection")
    context = {"form": form, "connection": connection}
    return render(request, "payments/connection.html", context, status=422 if form.errors else 200)


@login_required
@require_POST
def connection_pull(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require_configure(user)
    connection = ODataConnection.objects.filter(company=user.company).first()
    if connection is None:
        return redirect("payment-connection")
    result = odata.connection_pull(company_id=user.company_id, code=str(connection.code))
    if result.error:
        messages.error(request, result.error)
    else:
        messages.success(
            request,
            _("Загружено из 1С: оплат — %(payments)s, строк задолженности — %(balances)s.")
            % {"payments": result.payments, "balances": result.balances},
        )
        if result.dropped:
            messages.info(
                request,
                _(
                    "Убрано оплат, которых в 1С больше нет (проведение отменено, документ "
                    "помечен на удаление или удалён): %(count)s. Цифры их дней пересчитаны."
                )
                % {"count": result.dropped},
            )
    return redirect("payment-connection")
