from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import crypto
from accounts.access import get_for_admin
from accounts.permissions import require_configure
from accounts.views import call_service, submitted
from crm_sync import connectors, mapping, oauth, services, tasks
from crm_sync.connection_forms import AmountFieldForm, ConnectionForm, LeadsForm, MappingForm
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
        if connection.vendor == CRMConnection.Vendor.BITRIX24:
            connection.application_token_masked = crypto.masked(
                crypto.decrypt(connection.event_token)
            )
    connected = {connection.vendor for connection in connections}
    context = {
        "connections": connections,
        "vendors": [(v, label) for v, label in CRMConnection.Vendor.choices if v not in connected],
    }
    return render(request, "crm_sync/connection_list.html", context)


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


@login_required
@require_http_methods(["GET", "POST"])
def connection_mapping(request: HttpRequest, code: str) -> HttpResponse:
    """The CRM's pipelines, statuses and users, as it listed them when last asked (the
    page asks it again on the admin's request only), beside ours."""
    connection = get_for_admin(CRMConnection, actor=request.user, code=code)
    company = request.user.company
    if request.method == "POST" and "refresh" in request.POST:
        try:
            mapping.catalogue_refresh(connection=connection)
            messages.success(request, _("Списки обновлены из CRM."))
        except ValueError:  # the stored key no longer decrypts (a rotated key)
            messages.error(request, _masked_token(connection))
        except CRMError as error:
            messages.error(request, _("Не удалось получить списки из CRM:") + f" {error}")
        return redirect("crm-connection-mapping", code=connection.code)
    catalogue = mapping.catalogue_of(connection=connection)
    if catalogue is None:
        return render(request, "crm_sync/connection_mapping.html", {"connection": connection})
    stages = list(PipelineStage.objects.filter(company=company))
    users = mapping.matchable_users(company=company)
    initial = mapping.MappingInitial(connection=connection, stages=stages, users=users)
    form = MappingForm(
        request.POST or None, catalogue=catalogue, stages=stages, users=users, initial_of=initial
    )
    if submitted(request, form):
        saved = mapping.mapping_save(connection=connection, catalogue=catalogue, **form.choice())
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
    context = {"connection": connection, "form": form}
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
    """The admin picks the deal field the amount is read from, out of the CRM's own list."""
    connection = get_for_admin(CRMConnection, actor=request.user, code=code)
    try:
        fields, unavailable = connectors.amount_fields_list(connection=connection), ""
    except CRMError as error:
        fields, unavailable = [], str(error)
    form = AmountFieldForm(request.POST or None, fields=fields, connection=connection)
    if submitted(request, form):
        if call_service(form, connectors.connection_amount_field_set, connection=connection):
            arguments = (connection.company_id, str(connection.code))
            transaction.on_commit(lambda: tasks.pull_connection.delay(*arguments))
            messages.success(
                request, _("Поле суммы сохранено: сделки загружаются заново с новыми суммами.")
            )
        return redirect("crm-connections")
    context = {"form": form, "connection": connection, "unavailable": unavailable}
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
