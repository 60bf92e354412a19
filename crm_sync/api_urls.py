from django.urls import path

from crm_sync import apis

urlpatterns = [
    path("deals/", apis.DealListApi.as_view(), name="api-deal-list"),
    path("calls/", apis.CallListApi.as_view(), name="api-call-list"),
    path("calls/push/", apis.CallPushApi.as_view(), name="api-call-push"),
]
