from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.utils.cache import patch_cache_control
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views as accounts_views
from accounts.apis import NotFoundApi


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers and bots ask for /favicon.ico whatever the page links: the hashed static file.
    Not a permanent redirect: the hash changes with the icon."""
    response = HttpResponseRedirect(static("favicon.ico"))
    patch_cache_control(response, public=True, max_age=60 * 60 * 24)
    return response


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
    path("", include("payments.urls")),
    path("favicon.ico", favicon, name="favicon"),
    path("", include("telegram_bot.urls")),
    path("", include("telephony.urls")),
    path("healthz", accounts_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("operator/", admin.site.urls),
    path("api/v1/", include("accounts.api_urls")),
    path("api/v1/", include("kpi.api_urls")),
    path("api/v1/", include("reports.api_urls")),
    path("api/v1/", include("rollups.api_urls")),
    path("api/v1/", include("crm_sync.api_urls")),
    path("api/v1/", include("funnel.api_urls")),
    path("api/v1/", include("quality.api_urls")),
    path("api/v1/", include("clients.api_urls")),
    path("api/v1/", include("webhooks.api_urls")),
    # Last: an unknown API path answers JSON in the API's error shape.
    re_path(r"^api/v1/(?P<rest>.*)$", NotFoundApi.as_view()),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file of its own (?script): the
    # CSP lets no inline script run without the page's nonce.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
