from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import access, crypto, health, sample, selectors, services, tenancy
from accounts.audit import audit_record
from accounts.client_ip import client_ip
from accounts.forms import (
    ApiTokenForm,
    CompanySettingsForm,
    LoginForm,
    SalesRoleForm,
    SignupForm,
    TeamForm,
    UserCreateForm,
    UserEditForm,
)
from accounts.models import AuditEvent, Company, User
from accounts.permissions import may_lead, require_configure
from reports.selectors import missed_days, recent_reports_of_manager, team_report_status
from telegram_bot.views import profile_context as telegram_profile_context


def call_service[T](form: Form, service: Callable[..., T], **arguments: object) -> T | None:
    """Calls a service with the form's data; a refusal lands on the form, field by field."""
    try:
        return service(**arguments, **form.cleaned_data)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, error)
        return None


def submitted(request: HttpRequest, form: Form) -> bool:
    return request.method == "POST" and form.is_valid()


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For a monitor: 200 when the database, Redis, the worker and beat are well, else 503."""
    status = health.system_status()
    return JsonResponse(status, status=200 if status["status"] == "ok" else 503)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user
    if user.role == User.Role.QUALITY:
        return redirect("quality-queue")
    context: dict[str, object] = {}
    if user.can_administer:
        context["checklist"] = selectors.setup_checklist(company=user.company)
        context["has_sample"] = sample.sample_data_present(company=user.company)
    if may_lead(user):
        context["teams"] = team_report_status(company=user.company, head=user)
        context["warnings"] = selectors.structure_warnings(company=user.company)
    if user.is_manager:
        context["reports"] = recent_reports_of_manager(company=user.company, manager=user)
        context["missed"] = missed_days(company=user.company, manager=user)
    return render(request, "accounts/home.html", context)


@login_required
@require_GET
def user_list(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    users = selectors.users_of_company(company=request.user.company)
    role = request.GET.get("role")
    if role in User.Role.values:
        users = users.filter(role=role)
    context = {"users": users, "roles": User.Role.choices, "selected_role": role}
    template = "accounts/user_list.html#user-table" if request.htmx else "accounts/user_list.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    company = request.user.company
    # The company's namespace typed in already: the admin adds the name after the dot.
    initial = {"username": f"{company.login_prefix}."} if company.login_prefix else {}
    form = UserCreateForm(request.POST or None, company=company, initial=initial)
    if submitted(request, form) and (
        user := call_service(form, services.user_create, company=company, actor=request.user)
    ):
        messages.success(request, _("Сотрудник %(name)s добавлен.") % {"name": user})
        return redirect("user-list")
    return render(request, "accounts/user_form.html", {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, code: str) -> HttpResponse:
    user = access.user_get_for_admin(actor=request.user, code=code)
    company = request.user.company
    initial = {field: getattr(user, field) for field in services.USER_EDITABLE_FIELDS}
    form = UserEditForm(request.POST or None, company=company, initial=initial)
    if submitted(request, form) and call_service(
        form, services.user_update, user=user, actor=request.user
    ):
        messages.success(request, _("Изменения сохранены."))
        return redirect("user-list")
    return render(request, "accounts/user_form.html", {"form": form, "edited": user})


@login_required
@require_GET
def team_list(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    company = request.user.company
    context = {
        "teams": selectors.teams_with_counts(company=company),
        "warnings": selectors.structure_warnings(company=company),
        "span_max": settings.TEAM_SPAN_MAX,
    }
    return render(request, "accounts/team_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def team_create(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    company = request.user.company
    form = TeamForm(request.POST or None, company=company)
    if submitted(request, form) and call_service(
        form, services.team_create, company=company, actor=request.user
    ):
        messages.success(request, _("Команда создана."))
        return redirect("team-list")
    return render(request, "accounts/team_form.html", {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def team_edit(request: HttpRequest, code: str) -> HttpResponse:
    team = access.team_get_for_admin(actor=request.user, code=code)
    company = request.user.company
    form = TeamForm(
        request.POST or None, company=company, initial={"name": team.name, "head": team.head}
    )
    if submitted(request, form) and call_service(
        form, services.team_update, team=team, actor=request.user
    ):
        messages.success(request, _("Изменения сохранены."))
        return redirect("team-list")
    members = selectors.managers_of_team(company=company, team=team)
    context = {"form": form, "team": team, "members": members}
    return render(request, "accounts/team_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def sales_roles(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    company = request.user.company
    form = SalesRoleForm(request.POST or None)
    if submitted(request, form) and call_service(
        form, services.sales_role_create, company=company, actor=request.user
    ):
        form = SalesRoleForm()
    context = {"form": form, "roles": selectors.sales_roles_with_counts(company=company)}
    template = "accounts/sales_roles.html#roles" if request.htmx else "accounts/sales_roles.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    new_key = None
    if submitted(request, form):
        _token, new_key = services.api_token_create(
            user=request.user, name=form.cleaned_data["name"]
        )
        form = ApiTokenForm()
    context = {
        "form": form,
        "new_key": new_key,
        "tokens": selectors.api_tokens_of_user(user=request.user),
        "telegram": telegram_profile_context(request.user),
    }
    return render(request, "accounts/profile.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """The user's own new password; after a temporary one, the only page reachable."""
    user: User = request.user
    form = PasswordChangeForm(user, request.POST or None)
    if submitted(request, form):
        try:
            services.user_set_password(user=user, password=form.cleaned_data["new_password1"])
        except ValidationError as error:
            form.add_error("new_password1", error)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("Пароль изменён."))
            target = request.GET.get("next", "")
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = reverse("home")
            return redirect(target)
    return render(request, "accounts/password_change.html", {"form": form})


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, code: str) -> HttpResponse:
    token = access.api_token_get_for_owner(actor=request.user, code=code)
    services.api_token_revoke(token=token)
    messages.success(request, _("Токен отозван."))
    return redirect("profile")


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, company: str, user: str, token: str) -> HttpResponse:
    """The link from the invitation e-mail: the new user sets a password and is logged in."""
    company_obj = get_object_or_404(Company, code=company, suspended_at__isnull=True)
    tenancy.activate(company_obj)
    invited = get_object_or_404(User.objects.filter(company=company_obj, is_active=True), code=user)
    if not default_token_generator.check_token(invited, token):
        return render(request, "accounts/invitation_invalid.html", status=404)
    form = SetPasswordForm(invited, request.POST or None)
    if submitted(request, form):
        form.save()
        audit_record(
            company=company_obj, action=AuditEvent.Action.PASSWORD_SET, target=invited.username
        )
        login(request, invited, backend="accounts.backends.TenantModelBackend")
        messages.success(request, _("Пароль задан. Добро пожаловать!"))
        return redirect("home")
    return render(request, "accounts/invitation_accept.html", {"form": form, "invited": invited})


@login_required
@require_http_methods(["GET", "POST"])
def company_settings(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    company = request.user.company
    initial = {field: getattr(company, field) for field in services.COMPANY_SETTINGS}
    form = CompanySettingsForm(request.POST or None, initial=initial)
    if submitted(request, form) and call_service(form, services.company_update, company=company):
        messages.success(request, _("Настройки сохранены."))
        return redirect("company-settings")
    if company.telegram_bot_token:
        # The stored token is never sent back: its last characters and the bot's name only.
        field = form.fields["telegram_bot_token"]
        field.help_text = _(
            "Сохранён: %(masked)s (@%(bot)s). Оставьте пустым, чтобы не менять."
        ) % {
            "masked": crypto.masked(company.telegram_token()),
            "bot": company.telegram_bot_username,
        }
    else:
        del form.fields["telegram_bot_remove"]
    return render(request, "accounts/company_settings.html", {"form": form})


@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    action = request.GET.get("action")
    events = selectors.audit_events(company=request.user.company, action=action)
    page = Paginator(events.select_related("actor"), 100).get_page(request.GET.get("page"))
    context = {"page": page, "actions": AuditEvent.Action.choices, "selected_action": action}
    template = "accounts/audit_log.html#events" if request.htmx else "accounts/audit_log.html"
    return render(request, template, context)


class LoginView(auth_views.LoginView):
    """Django's login with the sign-up link (when sign-up is on) and a suspended company's
    own message."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        return {**super().get_context_data(**kwargs), "signup_enabled": settings.SIGNUP_ENABLED}


def _require_signup_enabled() -> None:
    if not settings.SIGNUP_ENABLED:
        raise Http404


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """A new company's first admin registers it; nothing is made until the e-mail is confirmed."""
    _require_signup_enabled()
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    status = 200
    if submitted(request, form):
        try:
            call_service(form, services.signup_start, ip=client_ip(request))
        except services.SignupError as error:
            form.add_error(None, str(error))
            status = 429
        if form.is_valid():
            request.session["signup_email"] = form.cleaned_data["email"].strip().lower()
            return redirect("signup-sent")
    return render(request, "registration/signup.html", {"form": form}, status=status)


@require_GET
def signup_sent(request: HttpRequest) -> HttpResponse:
    _require_signup_enabled()
    email = request.session.get("signup_email", "")
    return render(request, "registration/signup_sent.html", {"email": email})


@require_http_methods(["GET", "POST"])
def signup_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the e-mail. Opening it changes nothing (mail scanners open links too);
    the button creates the company and logs its admin in."""
    _require_signup_enabled()
    try:
        if request.method == "POST":
            admin = services.signup_confirm(token=token)
        else:
            pending = services.signup_pending_of_token(token=token)
    except services.SignupError as error:
        context = {"message": str(error)}
        return render(request, "registration/signup_invalid.html", context, status=404)
    if request.method == "GET":
        return render(request, "registration/signup_confirm.html", {"pending": pending})
    tenancy.activate(admin.company_id)
    login(request, admin, backend="accounts.backends.TenantModelBackend")
    messages.success(
        request,
        _("Компания «%(company)s» создана. Ваш логин: %(login)s.")
        % {"company": admin.company.name, "login": admin.username},
    )
    return redirect("home")


@login_required
@require_POST
def sample_add(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    try:
        sample.sample_data_add(company=request.user.company, actor=request.user)
    except sample.SampleError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _(
                "Добавлен пример: команда с руководителем, менеджерами и их отчётами. "
                "Удалить его можно на главной странице."
            ),
        )
    return redirect("home")


@login_required
@require_POST
def sample_remove(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Отметьте, что пример действительно нужно удалить."))
        return redirect("home")
    count = sample.sample_data_remove(company=request.user.company, actor=request.user)
    if count:
        messages.success(request, _("Пример удалён."))
    return redirect("home")


@login_required
@require_POST
def checklist_dismiss(request: HttpRequest, item: str) -> HttpResponse:
    try:
        services.checklist_dismiss(company=request.user.company, item=item, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("home")
