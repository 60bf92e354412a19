from django.urls import path

from rollups import apis

urlpatterns = [
    path("totals/", apis.TotalListApi.as_view(), name="api-total-list"),
    path("totals/best/", apis.BenchmarkListApi.as_view(), name="api-total-best"),
]
