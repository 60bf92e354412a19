from django.urls import path

from crm_sync import views

urlpatterns = [
    path("settings/pipeline/", views.stages, name="stages"),
    path("settings/pipeline/<uuid:code>/", views.stage_edit, name="stage-edit"),
    path("settings/pipeline/<uuid:code>/delete/", views.stage_delete, name="stage-delete"),
]
