from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import crypto
from accounts.access import get_for_admin
from accounts.permissions import require_configure
from accounts.views import call_service, submitted
from crm_sync import catalog, connectors, mapping, oauth, services, tasks
from crm_sync.connection_forms import (
    AmountFieldForm,
    ConnectionForm,
    LeadsForm,
    MappingForm,
    PortalForm,
)
from crm_sync.models import CRMConnection, PipelineStage
from crm_sync.vendors.http import CRMError


def webhook_url(connection: CRMConnection) -> str:
    """The address to paste into the CRM's webhook settings."""
    kwargs = {"company": connection.company.code, "code": connection.code}
    if connection.vendor == CRMConnection.Vendor.AMOCRM:
        path = reverse("crm-hook-amocrm", kwargs={**kwargs, "secret": connection.webhook_secret})
    else:
        path = reverse("crm-hook-bitrix24", kwargs=kwargs)
    return settings.SITE_URL.rstrip("/") + path


def _masked_token(connection: CRMConnection) -> str:
    try:
        if (pair := oauth.credentials(connection)) is not None:
            return _("OAuth 2.0, ключ обновления %(token)s") % {
                "token": crypto.masked(pair["refresh_token"])
            }
        return crypto.masked(services.connection_token(connection))
    except ValueError:
        return _("не расшифровывается: введите ключ заново")


@login_required
@require_GET
def connection_list(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    connections = list(CRMConnection.objects.filter(company=request.user.company))
    for connection in connections:
        connection.webhook_url = webhook_url(connection)
        connection.progress = connectors.connection_progress(connection)
        connection.token_masked = _masked_token(connection)
        connection.oauth = oauth.status(connection)
        connection.oauth_app = oauth.app_for(connection.vendor) is not None
        if connection.vendor == CRMConnection.Vendor.BITRIX24:
            connection.application_token_masked = crypto.masked(
                crypto.decrypt(connection.event_token)
            )
    connected = {connection.vendor for connection in connections}
    vendors = [(v, label) for v, label in CRMConnection.Vendor.choices if v not in connected]
    context = {
        "connections": connections,
        "vendors": vendors,
        "oauth_vendors": [(v, label) for v, label in vendors if oauth.app_for(v) is not None],
    }
    return render(request, "crm_sync/connection_list.html", context)


def oauth_callback_url(vendor: str) -> str:
    """The redirect URI the CRM's application is registered with."""
    path = reverse("crm-oauth-callback", kwargs={"vendor": vendor})
    return settings.SITE_URL.rstrip("/") + path


def _oauth_vendor(vendor: str) -> CRMConnection.Vendor:
    if vendor not in CRMConnection.Vendor.values:
        raise Http404
    return CRMConnection.Vendor(vendor)


@login_required
@require_http_methods(["GET", "POST"])
def connection_oauth_start(request: HttpRequest, vendor: str) -> HttpResponse:
    """«Подключить через amoCRM»: straight to amoCRM's consent page. «…через Битрикс24»: the
    portal's address first, then a link to its consent page (a form may not redirect to
    another site under our CSP's form-action)."""
    require_configure(request.user)
    vendor = _oauth_vendor(vendor)
    company = request.user.company
    context: dict[str, object] = {
        "vendor": vendor,
        "configured": oauth.app_for(vendor) is not None,
        "callback_url": oauth_callback_url(vendor),
    }
    if not context["configured"]:
        return render(request, "crm_sync/connection_oauth.html", context)
    if vendor == CRMConnection.Vendor.AMOCRM:
        state = oauth.state_issue(session=request.session, company=company, vendor=vendor)
        return redirect(oauth.authorize_url(vendor=vendor, state=state))
    existing = CRMConnection.objects.filter(company=company, vendor=vendor).first()
    initial = {"portal": oauth.origin(existing.base_url)} if existing else {}
    form = PortalForm(request.POST or None, initial=initial)
    if submitted(request, form):
        state = oauth.state_issue(session=request.session, company=company, vendor=vendor)
        portal = form.cleaned_data["portal"]
        context["authorize_url"] = oauth.authorize_url(vendor=vendor, state=state, portal=portal)
        context["portal"] = portal
    context["form"] = form
    return render(request, "crm_sync/connection_oauth.html", context)


@login_required
@require_GET
def connection_oauth_callback(request: HttpRequest, vendor: str) -> HttpResponse:
    """Where the CRM sends the admin back with a code: the state checked and spent, the code
    traded for the pair, the admin returned to the connections with what happened."""
    require_configure(request.user)
    vendor = _oauth_vendor(vendor)
    company = request.user.company
    query = request.GET
    try:
        oauth.state_take(
            session=request.session, state=query.get("state", ""), company=company, vendor=vendor
        )
        if query.get("error") or not query.get("code"):  # the admin declined (RFC 6749 4.1.2.1)
            raise oauth.AuthorizationRefused(
                _("%(crm)s не выдала доступ: в окне CRM его не разрешили. Доступ не сохранён.")
                % {"crm": vendor.label}
            )
        authorized = oauth.connection_authorize(
            company=company, vendor=vendor, code=query["code"],
            redirect_uri=oauth_callback_url(vendor), referer=query.get("referer", ""),
            server_domain=query.get("server_domain", ""), scope=query.get("scope", ""),
        )  # fmt: skip
    except oauth.AuthorizationRefused as error:
        messages.error(request, str(error))
        return redirect("crm-connections")
    except CRMError as error:  # the token endpoint refused the code, or is down
        messages.error(request, _("Не удалось подключить CRM:") + f" {error}")
        return redirect("crm-connections")
    connection = authorized.connection
    arguments = (connection.company_id, str(connection.code))
    transaction.on_commit(lambda: tasks.pull_connection.delay(*arguments))
    messages.success(
        request,
        _("%(crm)s подключена через OAuth 2.0 (%(portal)s): загрузка данных запущена.")
        % {"crm": connection.get_vendor_display(), "portal": connection.base_url},
    )
    if authorized.missing_scopes:
        messages.warning(request, _missing_scopes_message(authorized.missing_scopes))
    return redirect("crm-connections")


def _missing_scopes_message(scopes: list[str]) -> str:
    return _(
        "Приложению в Битрикс24 не выданы права: %(scopes)s. Без них часть данных не "
        "загрузится: добавьте права в настройках приложения на портале и подключите заново."
    ) % {"scopes": ", ".join(scopes)}


@login_required
@require_http_methods(["GET", "POST"])
def connection_create(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    company = request.user.company
    initial = {"vendor": request.GET.get("vendor", CRMConnection.Vendor.AMOCRM), "active": True}
    form = ConnectionForm(request.POST or None, initial=initial)
    if submitted(request, form) and call_service(
        form, connectors.connection_configure, company=company
    ):
        messages.success(request, _("CRM подключена. Вставьте адрес вебхука в настройки CRM."))
        return redirect("crm-connections")
    return render(request, "crm_sync/connection_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def connection_edit(request: HttpRequest, code: str) -> HttpResponse:
    connection = get_for_admin(CRMConnection, actor=request.user, code=code)
    initial = {"base_url": connection.base_url, "active": connection.active}
    form = ConnectionForm(request.POST or None, initial=initial, connection=connection)
    if submitted(request, form) and call_service(
        form,
        connectors.connection_configure,
        company=request.user.company,
        vendor=connection.vendor,
        connection=connection,
    ):
        messages.success(request, _("Изменения сохранены."))
        return redirect("crm-connections")
    context = {"form": form, "connection": connection}
    return render(request, "crm_sync/connection_form.html", context)


@login_required
@require_POST
def connection_pull(request: HttpRequest, code: str) -> HttpResponse:
    connection = get_for_admin(CRMConnection, actor=request.user, code=code)
    arguments = (connection.company_id, str(connection.code))
    transaction.on_commit(lambda: tasks.pull_connection.delay(*arguments))
    messages.success(request, _("Загрузка из CRM запущена: обновите страницу через минуту."))
    return redirect("crm-connections")


def _catalog_refreshed(request: HttpRequest, connection: CRMConnection, page: str) -> HttpResponse:
    """The admin's «Обновить списки из CRM»: the connection's cache of the CRM's lists asked
    again now (crm_sync.catalog), then the page again."""
    try:
        connectors.catalog_refresh(connection=connection)
        messages.success(request, _("Списки обновлены из CRM."))
    except ValueError:  # the stored key no longer decrypts (a rotated key)
        messages.error(request, _masked_token(connection))
    except CRMError as error:
        messages.error(request, _("Не удалось получить списки из CRM:") + f" {error}")
    return redirect(page, code=connection.code)


@login_required
@require_http_methods(["GET", "POST"])
def connection_mapping(request: HttpRequest, code: str) -> HttpResponse:
    """The CRM's pipelines, statuses and users, as it listed them when last asked (the
    page itself never asks it), beside ours."""
    connection = get_for_admin(CRMConnection, actor=request.user, code=code)
    company = request.user.company
    if request.method == "POST" and "refresh" in request.POST:
        return _catalog_refreshed(request, connection, "crm-connection-mapping")
    lists = catalog.catalog_of(connection.catalog)
    if lists is None:
        return render(request, "crm_sync/connection_mapping.html", {"connection": connection})
    if request.method == "POST" and request.POST.get("catalog_version", "") != lists.version:
        # The fields are numbered in the order of the lists the page was built on.
        messages.warning(
            request,
            _(
                "Списки CRM обновились, пока страница была открыта: ничего не сохранено. "
                "Проверьте сопоставление и сохраните его ещё раз."
            ),
        )
        return redirect("crm-connection-mapping", code=connection.code)
    stages = list(PipelineStage.objects.filter(company=company))
    users = mapping.matchable_users(company=company)
    initial = mapping.MappingInitial(connection=connection, stages=stages, users=users)
    form = MappingForm(
        request.POST or None, catalog=lists, stages=stages, users=users, initial_of=initial
    )
    if submitted(request, form):
        saved = mapping.mapping_save(connection=connection, catalog=lists, **form.choice())
        messages.success(
            request,
            _(
                "Сопоставление сохранено: воронок продаж — %(pipelines)s, сотрудников "
                "сопоставлено — %(matched)s, без пары — %(unmatched)s. Перенесено записей "
                "сопоставленным сотрудникам: %(backfilled)s."
            )
            % vars(saved),
        )
        return redirect("crm-connection-mapping", code=connection.code)
    context = {"connection": connection, "form": form, "lists": lists}
    return render(request, "crm_sync/connection_mapping.html", context)


@login_required
@require_GET
def connection_status(request: HttpRequest, code: str) -> HttpResponse:
    """The pull's progress, polled by the connection page while it runs."""
    connection = get_for_admin(CRMConnection, actor=request.user, code=code)
    connection.progress = connectors.connection_progress(connection)
    return render(request, "crm_sync/connection_list.html#status", {"connection": connection})


@login_required
@require_http_methods(["GET", "POST"])
def connection_amount(request: HttpRequest, code: str) -> HttpResponse:
    """The admin picks the deal field the amount is read from, out of the CRM's own list as
    it was last asked (the page itself never asks it)."""
    connection = get_for_admin(CRMConnection, actor=request.user, code=code)
    if request.method == "POST" and "refresh" in request.POST:
        return _catalog_refreshed(request, connection, "crm-connection-amount")
    lists = catalog.catalog_of(connection.catalog)
    fields = lists.amount_fields if lists else []
    form = AmountFieldForm(request.POST or None, fields=fields, connection=connection)
    if submitted(request, form):
        if call_service(form, connectors.connection_amount_field_set, connection=connection):
            arguments = (connection.company_id, str(connection.code))
            transaction.on_commit(lambda: tasks.pull_connection.delay(*arguments))
            messages.success(
                request, _("Поле суммы сохранено: сделки загружаются заново с новыми суммами.")
            )
        return redirect("crm-connections")
    context = {"form": form, "connection": connection, "lists": lists}
    return render(request, "crm_sync/connection_amount.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def connection_leads(request: HttpRequest, code: str) -> HttpResponse:
    """Whether the department works Bitrix24's leads before deals: what «leads created»
    counts. amoCRM's page only says why there is nothing to set: its leads are its deals."""
    connection = get_for_admin(CRMConnection, actor=request.user, code=code)
    form = None
    if connection.vendor == CRMConnection.Vendor.BITRIX24:
        # An unticked box posts nothing: the form is bound on any POST.
        data = request.POST if request.method == "POST" else None
        form = LeadsForm(data, initial={"works_leads": connection.works_leads})
    if form is not None and submitted(request, form):
        changed = call_service(form, connectors.connection_leads_set, connection=connection)
        if not form.errors:
            if changed:  # the pull reads the leads and computes the days again
                arguments = (connection.company_id, str(connection.code))
                transaction.on_commit(lambda: tasks.pull_connection.delay(*arguments))
            messages.success(
                request,
                _("Созданные лиды считаются по лидам Битрикс24: загружаем лиды.")
                if connection.works_leads
                else _("Созданные лиды считаются по сделкам."),
            )
            return redirect("crm-connections")
    return render(
        request, "crm_sync/connection_leads.html", {"form": form, "connection": connection}
    )
