import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import get_for_admin
from accounts.models import User
from accounts.permissions import require_configure, require_lead
from accounts.selectors import managers_in_view
from accounts.views import call_service, submitted
from clients import selectors, services, tasks
from clients.export import classification_workbook
from clients.forms import AcquisitionCostForm, SettingsForm
from clients.models import AcquisitionCost
from kpi.values import format_month


def _month(request: HttpRequest, months: list[datetime.date]) -> datetime.date:
    """The month asked for (?month=YYYY-MM), else the latest classified one, else this one."""
    default = months[0] if months else request.user.company.today().replace(day=1)
    raw = request.GET.get("month", "")
    if not raw:
        return default
    try:
        return datetime.datetime.strptime(raw, "%Y-%m").date()
    except ValueError:
        messages.error(request, _("Месяц указывается как ГГГГ-ММ, например 2026-03."))
        return default


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """The client KPIs of what the viewer sees, and each manager's: churn by manager."""
    require_lead(request.user)
    company = request.user.company
    today = company.today()
    managers = managers_in_view(company=company, viewer=request.user)
    whole, rows = selectors.client_kpis_in_view(
        company=company, day=today, viewer=request.user, managers=managers
    )
    context = {
        "today": today,
        "whole": whole,
        "rows": rows,
        "health": selectors.ltv_cac_health(whole.figures.get("ltv_cac")),
        "retention_days": selectors.analysis_settings(company=company).retention_days,
    }
    return render(request, "clients/overview.html", context)


@login_required
@require_GET
def abc_xyz(request: HttpRequest) -> HttpResponse:
    """The ABC/XYZ matrix of a month; ?cell=AX adds the clients behind a cell (an HTMX
    request gets just that list, or just the matrix when the month changes)."""
    require_lead(request.user)
    company = request.user.company
    months = selectors.stored_months(company=company)
    month = _month(request, months)
    cell = request.GET.get("cell", "").upper()
    if cell and (len(cell) != 2 or cell[0] not in selectors.ABC or cell[1] not in selectors.XYZ):
        return HttpResponseBadRequest(_("Нет такой клетки матрицы: нужна, например, «AX»."))
    context = {"months": months, "month": month, "cell": cell}
    if cell:
        context["cell_rows"] = selectors.cell_clients(
            company=company, month=month, abc=cell[0], xyz=cell[1], viewer=request.user
        )
        if request.htmx:
            return render(request, "clients/abc_xyz.html#cell", context)
    context["matrix"] = selectors.matrix_of(company=company, month=month, viewer=request.user)
    context["changes"] = selectors.class_changes(company=company, month=month, viewer=request.user)
    if request.htmx:
        return render(request, "clients/abc_xyz.html#matrix", context)
    return render(request, "clients/abc_xyz.html", context)


@login_required
@require_GET
def abc_xyz_export(request: HttpRequest) -> HttpResponse:
    require_lead(request.user)
    company = request.user.company
    month = _month(request, selectors.stored_months(company=company))
    rows = selectors.classification_rows(company=company, month=month, viewer=request.user)
    response = HttpResponse(
        classification_workbook(month, rows),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="abc-xyz-{month:%Y-%m}.xlsx"'
    return response


@login_required
@require_POST
def abc_xyz_recalculate(request: HttpRequest) -> HttpResponse:
    """Queue the classification of the running month to date (eager on the embedded run)."""
    require_lead(request.user)
    company = request.user.company
    month = company.today().replace(day=1)
    arguments = (company.pk, month.isoformat())
    transaction.on_commit(lambda: tasks.classify_company.delay(*arguments))
    messages.success(
        request, _("Пересчёт за %(month)s запущен: обновите страницу через минуту.") % {
            "month": format_month(month)
        }
    )  # fmt: skip
    return redirect(f"{reverse('abc-xyz')}?month={month:%Y-%m}")


@login_required
@require_GET
def alerts(request: HttpRequest) -> HttpResponse:
    """«Пора позвонить»: a manager's own overdue regular clients, a head's team's."""
    user: User = request.user
    return render(
        request,
        "clients/alerts.html",
        {"alerts": selectors.open_alerts(company=user.company, viewer=user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def analysis_settings(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    company = request.user.company
    current = selectors.analysis_settings(company=company)
    posted = request.POST.get("form") if request.method == "POST" else None
    initial = {name: getattr(current, name) for name in services.SETTINGS_FIELDS}
    form = SettingsForm(request.POST if posted == "settings" else None, initial=initial)
    cost_form = AcquisitionCostForm(request.POST if posted == "cost" else None)
    saved = posted == "settings" and submitted(request, form)
    if saved and call_service(form, services.settings_update, company=company):
        messages.success(request, _("Настройки анализа клиентов сохранены."))
        return redirect("clients-settings")
    saved = posted == "cost" and submitted(request, cost_form)
    if saved and call_service(cost_form, services.acquisition_cost_set, company=company):
        messages.success(request, _("Затраты на привлечение сохранены."))
        return redirect("clients-settings")
    context = {
        "form": form,
        "cost_form": cost_form,
        "costs": AcquisitionCost.objects.filter(company=company),
    }
    return render(request, "clients/settings.html", context)


@login_required
@require_POST
def cost_delete(request: HttpRequest, code: str) -> HttpResponse:
    cost = get_for_admin(AcquisitionCost, actor=request.user, code=code)
    services.acquisition_cost_delete(cost=cost)
    messages.success(
        request, _("Затраты за %(month)s удалены.") % {"month": format_month(cost.month)}
    )
    return redirect("clients-settings")
