from django.urls import path

from telegram_bot import views

urlpatterns = [
    path("telegram/<uuid:company>/webhook", views.webhook, name="telegram-webhook"),
    path("me/telegram/unbind/", views.unbind, name="telegram-unbind"),
    path("me/telegram/preferences/", views.preferences, name="telegram-preferences"),
]
