from django.urls import path

from crm_sync import import_views

urlpatterns = [
    path("imports/", import_views.import_list, name="import-list"),
    path("imports/<uuid:code>/", import_views.import_job, name="import-job"),
    path("imports/<uuid:code>/mapping/", import_views.import_mapping, name="import-mapping"),
    path("imports/<uuid:code>/resume/", import_views.import_resume, name="import-resume"),
]
