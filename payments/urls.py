from django.urls import path

from payments import views

urlpatterns = [
    path("payments/", views.payments_page, name="payments"),
    path("payments/payers/", views.payers_page, name="payment-payers"),
    path("payments/1c/", views.connection_page, name="payment-connection"),
    path("payments/1c/pull/", views.connection_pull, name="payment-connection-pull"),
]
