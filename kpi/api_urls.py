from django.urls import path

from kpi import apis

urlpatterns = [
    path("kpis/", apis.KpiListApi.as_view(), name="api-kpi-list"),
    path("kpis/create/", apis.KpiCreateApi.as_view(), name="api-kpi-create"),
    path("kpis/<uuid:uid>/", apis.KpiDetailApi.as_view(), name="api-kpi-detail"),
    path("kpis/<uuid:uid>/update/", apis.KpiUpdateApi.as_view(), name="api-kpi-update"),
    path("sales-roles/<uuid:code>/kpis/", apis.RoleKpiListApi.as_view(), name="api-role-kpis"),
    path(
        "sales-roles/<uuid:code>/kpis/add/", apis.RoleKpiAddApi.as_view(), name="api-role-kpi-add"
    ),
    path(
        "sales-roles/<uuid:code>/kpis/remove/",
        apis.RoleKpiRemoveApi.as_view(),
        name="api-role-kpi-remove",
    ),
    path("plans/", apis.PlanListApi.as_view(), name="api-plan-list"),
    path("plans/set/", apis.PlanSetApi.as_view(), name="api-plan-set"),
    path("calendar/<int:year>/", apis.CalendarApi.as_view(), name="api-calendar"),
    path("absences/", apis.AbsenceListApi.as_view(), name="api-absence-list"),
    path("absences/create/", apis.AbsenceCreateApi.as_view(), name="api-absence-create"),
    path("bands/", apis.BandsApi.as_view(), name="api-bands"),
    path("bands/update/", apis.BandsUpdateApi.as_view(), name="api-bands-update"),
]
