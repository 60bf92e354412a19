from django.urls import path

from quality import apis

urlpatterns = [
    path("scores/", apis.ScoreListApi.as_view(), name="api-score-list"),
    path("scores/<uuid:code>/", apis.ScoreDetailApi.as_view(), name="api-score-detail"),
]
