from django.urls import path

from kpi import views

urlpatterns = [
    path("settings/kpis/", views.kpi_list, name="kpi-list"),
    path("settings/kpis/new/", views.kpi_create, name="kpi-create"),
    path("settings/kpis/<uuid:uid>/", views.kpi_edit, name="kpi-edit"),
    path("settings/catalogue/", views.catalogue, name="kpi-catalogue"),
    path("settings/roles/<uuid:code>/", views.role_kpis, name="role-kpis"),
    path("settings/bands/", views.bands, name="bands"),
    path("settings/calendar/", views.calendar, name="calendar"),
    path("settings/absences/", views.absences, name="absences"),
    path("settings/absences/<uuid:code>/delete/", views.absence_delete, name="absence-delete"),
    path("plans/", views.plans, name="plans"),
    path("plans/<uuid:team>/<int:year>/<int:month>/", views.plan_grid, name="plan-grid"),
    path("plans/<uuid:team>/<int:year>/<int:month>/cell/", views.plan_cell, name="plan-cell"),
    path("plans/<uuid:team>/<int:year>/<int:month>/copy/", views.plan_copy, name="plan-copy"),
    path("plans/<uuid:team>/<int:year>/<int:month>/uplift/", views.plan_uplift, name="plan-uplift"),
]
