from django.urls import path

from webhooks import apis

urlpatterns = [
    path("webhooks/", apis.SubscriptionListApi.as_view(), name="api-webhook-list"),
    path("webhooks/<uuid:code>/", apis.SubscriptionDetailApi.as_view(), name="api-webhook-detail"),
    path(
        "webhooks/<uuid:code>/deliveries/",
        apis.DeliveryListApi.as_view(),
        name="api-webhook-deliveries",
    ),
]
