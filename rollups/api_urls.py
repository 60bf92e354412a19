from django.urls import path

from rollups import apis

urlpatterns = [
    path("totals/", apis.TotalListApi.as_view(), name="api-total-list"),
    path("totals/best/", apis.BenchmarkListApi.as_view(), name="api-total-best"),
    path(
        "exports/totals.csv",
        apis.ExportTotalsCsvApi.as_view(),
        {"fmt": "csv"},
        name="api-export-totals-csv",
    ),
    path(
        "exports/totals.jsonl",
        apis.ExportTotalsJsonlApi.as_view(),
        {"fmt": "jsonl"},
        name="api-export-totals-jsonl",
    ),
    path(
        "exports/facts.csv",
        apis.ExportFactsCsvApi.as_view(),
        {"fmt": "csv"},
        name="api-export-facts-csv",
    ),
    path(
        "exports/facts.jsonl",
        apis.ExportFactsJsonlApi.as_view(),
        {"fmt": "jsonl"},
        name="api-export-facts-jsonl",
    ),
]
