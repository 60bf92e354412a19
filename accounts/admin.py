from django.contrib import admin

from accounts.models import Company

# The operator's console. Tenant data is administered inside the app by each company's
# own admins; here the operator sees the tenants (and, by row-level security, nothing of
# their data).


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "timezone", "currency", "created"]
    search_fields = ["name"]
    readonly_fields = ["code", "created"]
