from django.urls import path

from telephony import views

urlpatterns = [
    path("telephony/<slug:vendor>/<str:key>/", views.receive, name="telephony-receive"),
    # Mango appends the event's path to the URL it was given (/events/call…).
    path("telephony/<slug:vendor>/<str:key>/<path:rest>", views.receive, name="telephony-receive"),
    path("settings/telephony/", views.connection_list, name="telephony-connections"),
    path(
        "settings/telephony/<uuid:code>/delete/",
        views.connection_delete,
        name="telephony-connection-delete",
    ),
    path("settings/telephony/unmatched/", views.unmatched, name="telephony-unmatched"),
    path("calls/<uuid:code>/recording/", views.recording, name="call-recording"),
]
