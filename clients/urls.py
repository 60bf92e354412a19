from django.urls import path

from clients import views

urlpatterns = [
    path("clients/", views.overview, name="clients"),
    path("clients/abc-xyz/", views.abc_xyz, name="abc-xyz"),
    path("clients/abc-xyz/export/", views.abc_xyz_export, name="abc-xyz-export"),
    path("clients/abc-xyz/recalculate/", views.abc_xyz_recalculate, name="abc-xyz-recalculate"),
    path("clients/alerts/", views.alerts, name="client-alerts"),
    path("clients/settings/", views.analysis_settings, name="clients-settings"),
    path("clients/costs/<uuid:code>/delete/", views.cost_delete, name="acquisition-cost-delete"),
]
