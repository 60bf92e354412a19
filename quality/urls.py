from django.urls import path

from quality import views

urlpatterns = [
    path("quality/", views.queue, name="quality-queue"),
    path("quality/calls/<uuid:code>/score/", views.score_call, name="quality-score"),
    path("quality/scores/", views.scores, name="quality-scores"),
    path("quality/scores/<uuid:code>/", views.score_detail, name="quality-score-detail"),
    path("quality/analysis/", views.analysis, name="quality-analysis"),
    path("quality/checklists/", views.checklists, name="quality-checklists"),
    path("quality/checklists/<uuid:code>/", views.call_type_edit, name="quality-call-type"),
    path("quality/items/<uuid:code>/", views.item_edit, name="quality-item"),
    path("quality/items/<uuid:code>/remove/", views.item_remove, name="quality-item-remove"),
]
