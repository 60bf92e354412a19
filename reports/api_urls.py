from django.urls import path

from reports import apis

urlpatterns = [
    path("reports/", apis.ReportListApi.as_view(), name="api-report-list"),
    path("reports/<uuid:code>/", apis.ReportDetailApi.as_view(), name="api-report-detail"),
    # Deprecated: one release more (POST reports/ and PATCH reports/{code}/ instead).
    path("reports/submit/", apis.ReportSubmitApi.as_view(), name="api-report-submit"),
    path(
        "reports/<uuid:code>/correct/", apis.ReportCorrectApi.as_view(), name="api-report-correct"
    ),
]
