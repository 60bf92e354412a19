from django.urls import path

from crm_sync import connection_views as views
from crm_sync import webhooks

urlpatterns = [
    path("settings/crm/", views.connection_list, name="crm-connections"),
    path("settings/crm/new/", views.connection_create, name="crm-connection-create"),
    path("settings/crm/oauth/<slug:vendor>/", views.connection_oauth_start, name="crm-oauth-start"),
    path(
        "settings/crm/oauth/<slug:vendor>/callback/",
        views.connection_oauth_callback,
        name="crm-oauth-callback",
    ),
    path("settings/crm/<uuid:code>/", views.connection_edit, name="crm-connection-edit"),
    path(
        "settings/crm/<uuid:code>/mapping/",
        views.connection_mapping,
        name="crm-connection-mapping",
    ),
    path("settings/crm/<uuid:code>/pull/", views.connection_pull, name="crm-connection-pull"),
    path("settings/crm/<uuid:code>/status/", views.connection_status, name="crm-connection-status"),
    path("settings/crm/<uuid:code>/amount/", views.connection_amount, name="crm-connection-amount"),
    path("settings/crm/<uuid:code>/leads/", views.connection_leads, name="crm-connection-leads"),
    path(
        "hooks/amocrm/<uuid:company>/<uuid:code>/<str:secret>/",
        webhooks.amocrm_hook,
        name="crm-hook-amocrm",
    ),
    path(
        "hooks/bitrix24/<uuid:company>/<uuid:code>/",
        webhooks.bitrix24_hook,
        name="crm-hook-bitrix24",
    ),
]
