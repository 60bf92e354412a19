from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import require_lead
from accounts.selectors import managers_in_view, teams_in_view
from crm_sync import services as crm_services
from crm_sync.models import Deal
from funnel import charts
from funnel.selectors import channels_of, funnel_of, retargeting_list, scope_for_viewer
from kpi.periods import Window, window_parse


def _retargeting_in_view(request: HttpRequest) -> QuerySet[Deal]:
    """The retargeting list as the viewer may see it: an admin, the company's; a head, their
    managers'."""
    require_lead(request.user)
    company = request.user.company
    deals = retargeting_list(company=company)
    if not request.user.can_administer:
        deals = deals.filter(manager__in=managers_in_view(company=company, viewer=request.user))
    return deals


@login_required
@require_GET
def funnel_page(request: HttpRequest) -> HttpResponse:
    """The head of sales' funnel: how deals convert, where they stall, what money is coming."""
    require_lead(request.user)
    # A code the viewer may not see is left out: the page falls back to the default scope.
    scope, _unknown = scope_for_viewer(
        viewer=request.user,
        team=request.GET.get("team"),
        manager=request.GET.get("manager"),
        channel=request.GET.get("channel", ""),
    )
    company = request.user.company
    today = company.today()
    params = {"period": "month", **request.GET.dict()}
    try:
        window = window_parse(params, today=today)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        window = Window.around("month", today)
    funnel = funnel_of(scope=scope, start=window.start, end=window.end, today=today)
    context = {
        "funnel": funnel,
        "window": window,
        "scope": scope,
        "teams": teams_in_view(company=company, viewer=request.user),
        "managers": managers_in_view(company=company, viewer=request.user),
        "channels": channels_of(company=company),
        "stages_chart": charts.stages_figure(funnel),
        "conversion_chart": charts.conversion_figure(funnel),
        "channels_chart": charts.channels_figure(funnel),
        "kinds": [("week", _("Неделя")), ("month", _("Месяц"))],
    }
    if request.htmx:
        return render(request, "funnel/funnel.html#funnel", context)
    return render(request, "funnel/funnel.html", context)


@login_required
@require_GET
def retargeting_page(request: HttpRequest) -> HttpResponse:
    """Deals the missed-calls rule took out of sales: marketing's list to warm up again."""
    deals = _retargeting_in_view(request)
    return render(
        request,
        "funnel/retargeting.html",
        {"deals": deals[:500], "limit": request.user.company.missed_calls_limit},
    )


@login_required
@require_POST
def retargeting_return(request: HttpRequest, code: str) -> HttpResponse:
    deal = get_object_or_404(_retargeting_in_view(request), code=code)
    crm_services.retargeting_return(deal=deal)
    messages.success(
        request, _("Сделка «%(deal)s» снова в работе у отдела продаж.") % {"deal": deal}
    )
    return redirect("retargeting")
