from django.urls import path

from reports import views

urlpatterns = [
    path("report/", views.report_today, name="report-today"),
    path("report/<str:day>/", views.report_form, name="report-form"),
    path("report/<str:day>/check/", views.report_check, name="report-check"),
    path("my/", views.my_kpis, name="my-kpis"),
    path("reports/team/", views.team_reports, name="team-reports"),
    path("reports/close-month/", views.close_month, name="close-month"),
    path("reports/reopen-month/", views.reopen_month, name="reopen-month"),
    path("reports/<uuid:code>/", views.report_detail, name="report-detail"),
]
