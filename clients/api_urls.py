from django.urls import path

from clients import apis

urlpatterns = [
    path("clients/", apis.ClientListApi.as_view(), name="api-client-list"),
    path("clients/<uuid:code>/", apis.ClientDetailApi.as_view(), name="api-client-detail"),
]
