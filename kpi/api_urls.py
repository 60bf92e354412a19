from django.urls import path, re_path

from kpi import apis

# Resources: collections (GET, POST) and items (GET, PATCH, DELETE). The older paths of one
# operation each (`…/create/`, `…/update/`, `plans/set/`) answer the same for one release.
urlpatterns = [
    path("kpis/", apis.KpiListApi.as_view(), name="api-kpi-list"),
    path("kpis/<uuid:uid>/", apis.KpiDetailApi.as_view(), name="api-kpi-detail"),
    path("sales-roles/<uuid:code>/kpis/", apis.RoleKpiSetApi.as_view(), name="api-role-kpis"),
    path("plans/", apis.PlanListApi.as_view(), name="api-plan-list"),
    path("calendar/days/", apis.CalendarDayListApi.as_view(), name="api-calendar-day-list"),
    path(
        "calendar/days/<str:date>/",
        apis.CalendarDayDetailApi.as_view(),
        name="api-calendar-day-detail",
    ),
    # Any whole number: a year out of range is a 400 that says so, not the router's 404.
    re_path(r"^calendar/(?P<year>-?[0-9]{1,9})/$", apis.CalendarApi.as_view(), name="api-calendar"),
    path("absences/", apis.AbsenceListApi.as_view(), name="api-absence-list"),
    path("absences/<uuid:code>/", apis.AbsenceDetailApi.as_view(), name="api-absence-detail"),
    path("bands/", apis.BandsApi.as_view(), name="api-bands"),
    # Deprecated: one release more.
    path("kpis/create/", apis.KpiCreateApi.as_view(), name="api-kpi-create"),
    path("kpis/<uuid:uid>/update/", apis.KpiUpdateApi.as_view(), name="api-kpi-update"),
    path(
        "sales-roles/<uuid:code>/kpis/add/", apis.RoleKpiAddApi.as_view(), name="api-role-kpi-add"
    ),
    path(
        "sales-roles/<uuid:code>/kpis/remove/",
        apis.RoleKpiRemoveApi.as_view(),
        name="api-role-kpi-remove",
    ),
    path("plans/set/", apis.PlanSetApi.as_view(), name="api-plan-set"),
    path("absences/create/", apis.AbsenceCreateApi.as_view(), name="api-absence-create"),
    path("bands/update/", apis.BandsUpdateApi.as_view(), name="api-bands-update"),
    # After the old add/ and remove/, which the KPI code pattern would catch.
    path(
        "sales-roles/<uuid:code>/kpis/<str:kpi>/",
        apis.RoleKpiItemApi.as_view(),
        name="api-role-kpi-item",
    ),
]
