import tempfile
from pathlib import Path
from typing import Any

from django.contrib import admin, messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import services
from accounts.forms import CompanyDeleteForm, OperatorCompanyForm
from accounts.models import Company
from accounts.views import call_service
from kpi.values import format_date

# The operator's console. Tenant data is administered inside the app by each company's
# own admins; here the operator sees the tenants (and, by row-level security, nothing of
# their data), creates a company with its first admin, suspends one, and deletes one after
# downloading its export. Every action calls accounts.services, as `createcompany` does.


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "login_prefix", "timezone", "status", "created", "operations"]
    search_fields = ["name", "login_prefix"]
    readonly_fields = ["code", "created", "suspended_at", "exported_at"]
    # The company's own secret, set by its admin (docs/telegram.md): not the operator's to see.
    exclude = ["checklist_dismissed", "telegram_bot_token", "telegram_bot_username"]

    @admin.display(description=gettext_lazy("состояние"))
    def status(self, company: Company) -> str:
        if company.suspended_at:
            return _("приостановлена с %(date)s") % {
                "date": format_date(timezone.localtime(company.suspended_at))
            }
        return _("работает")

    @admin.display(description=gettext_lazy("действия"))
    def operations(self, company: Company) -> str:
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:accounts_company_export", args=[company.pk]),
            _("Скачать выгрузку"),
            reverse("admin:accounts_company_suspension", args=[company.pk]),
            _("Возобновить") if company.suspended_at else _("Приостановить"),
            reverse("admin:accounts_company_delete_after_export", args=[company.pk]),
            _("Удалить"),
        )

    def get_form(self, request: HttpRequest, obj: Company | None = None, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, **kwargs)
        # Every company the operator makes gets its namespace of logins (Company.login_prefix).
        form.base_fields["login_prefix"].required = True
        return form

    def has_delete_permission(self, request: HttpRequest, obj: Company | None = None) -> bool:
        # Deleting goes through the export first (delete_after_export), never Django's delete.
        return False

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        own = [
            path("<int:pk>/export/", view(self.export_view), name="accounts_company_export"),
            path(
                "<int:pk>/suspension/",
                view(self.suspension_view),
                name="accounts_company_suspension",
            ),
            path(
                "<int:pk>/remove/",
                view(self.delete_after_export_view),
                name="accounts_company_delete_after_export",
            ),
        ]
        return own + super().get_urls()

    def _context(self, request: HttpRequest, **extra: object) -> dict[str, object]:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """Replaces the bare row of Django's add form: the company as company_create sets it
        up, with its first admin, who gets the invitation."""
        form = OperatorCompanyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            admin_user = call_service(form, services.company_open)
            if admin_user is not None:
                self.message_user(
                    request,
                    _("Компания «%(company)s» создана; приглашение отправлено на %(email)s.")
                    % {"company": admin_user.company.name, "email": admin_user.email},
                    messages.SUCCESS,
                )
                return redirect("admin:accounts_company_changelist")
        context = self._context(request, form=form, title=_("Новая компания"))
        return TemplateResponse(request, "admin/accounts/company/create.html", context)

    def export_view(self, request: HttpRequest, pk: int) -> FileResponse:
        company = get_object_or_404(Company, pk=pk)
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / f"{company.login_prefix or company.code}.json.gz"
            services.company_export_for_deletion(company=company, path=path)
            file = path.open("rb")  # stays readable after the directory is gone
        return FileResponse(file, as_attachment=True, filename=path.name)

    def suspension_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        company = get_object_or_404(Company, pk=pk)
        if request.method == "POST":
            if company.suspended_at:
                services.company_unsuspend(company=company)
                self.message_user(request, _("Работа компании возобновлена."), messages.SUCCESS)
            else:
                services.company_suspend(company=company)
                self.message_user(
                    request,
                    _("Компания приостановлена: её сотрудники не могут войти, данные сохранены."),
                    messages.SUCCESS,
                )
            return redirect("admin:accounts_company_changelist")
        context = self._context(request, company=company, title=str(company))
        return render(request, "admin/accounts/company/suspension.html", context)

    def delete_after_export_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        company = get_object_or_404(Company, pk=pk)
        form = CompanyDeleteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            name = call_service(form, services.company_delete_after_export, company=company)
            if name is not None:
                self.message_user(
                    request,
                    _("Компания «%(company)s» удалена.") % {"company": name},
                    messages.SUCCESS,
                )
                return redirect("admin:accounts_company_changelist")
        context = self._context(request, company=company, form=form, title=str(company))
        return render(request, "admin/accounts/company/delete_after_export.html", context)
