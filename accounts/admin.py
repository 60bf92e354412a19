from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from accounts.models import Company

# The operator's console. Tenant data is administered inside the app by each company's
# own admins; here the operator sees the tenants (and, by row-level security, nothing of
# their data).


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "login_prefix", "country", "timezone", "currency", "created"]
    search_fields = ["name", "login_prefix"]
    readonly_fields = ["code", "created"]
    # The company's own secret, set by its admin (docs/telegram.md): not the operator's to see.
    exclude = ["telegram_bot_token", "telegram_bot_username"]

    def get_form(self, request: HttpRequest, obj: Company | None = None, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, **kwargs)
        # Every company the operator makes gets its namespace of logins (Company.login_prefix).
        form.base_fields["login_prefix"].required = True
        return form
