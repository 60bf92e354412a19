from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import views as accounts_views
from accounts.apis import NotFoundApi

urlpatterns = [
    path("", include("accounts.urls")),
    path("", include("webhooks.urls")),
    path("", include("kpi.urls")),
    path("", include("reports.urls")),
    path("", include("dashboard.urls")),
    path("", include("crm_sync.urls")),
    path("", include("funnel.urls")),
    path("", include("quality.urls")),
    path("", include("clients.urls")),
    path("healthz", accounts_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("operator/", admin.site.urls),
    path("api/v1/", include("accounts.api_urls")),
    path("api/v1/", include("kpi.api_urls")),
    path("api/v1/", include("reports.api_urls")),
    path("api/v1/", include("rollups.api_urls")),
    path("api/v1/", include("crm_sync.api_urls")),
    path("api/v1/", include("funnel.api_urls")),
    path("api/v1/", include("webhooks.api_urls")),
    # Last: an unknown API path answers JSON in the API's error shape.
    re_path(r"^api/v1/(?P<rest>.*)$", NotFoundApi.as_view()),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
