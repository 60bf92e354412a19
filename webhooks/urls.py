from django.urls import path

from webhooks import views

urlpatterns = [path("company/webhooks/", views.webhook_list, name="webhook-list")]
