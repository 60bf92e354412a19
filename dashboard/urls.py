from django.urls import path

from dashboard import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export.xlsx", views.dashboard_export, name="dashboard-export"),
    path("dashboard/print/", views.dashboard_print, name="dashboard-print"),
    path("dashboard/digest/", views.digest_set, name="dashboard-digest"),
    path("dashboard/managers/<uuid:code>/", views.manager_detail, name="dashboard-manager"),
    path(
        "dashboard/managers/<uuid:code>/explain/<slug:kpi>/",
        views.figure_explain,
        name="dashboard-explain",
    ),
]
