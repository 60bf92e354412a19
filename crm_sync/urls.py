from django.urls import include, path

urlpatterns = [
    path("", include("crm_sync.pipeline_urls")),
    path("", include("crm_sync.import_urls")),
    path("", include("crm_sync.connection_urls")),
]
