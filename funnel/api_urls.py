from django.urls import path

from funnel import apis

urlpatterns = [path("funnel/", apis.FunnelApi.as_view(), name="api-funnel")]
