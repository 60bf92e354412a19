from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("signup/", views.signup, name="signup"),
    path("signup/sent/", views.signup_sent, name="signup-sent"),
    path("signup/confirm/<str:token>/", views.signup_confirm, name="signup-confirm"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "invite/<uuid:company>/<uuid:user>/<str:token>/",
        views.invitation_accept,
        name="invitation-accept",
    ),
    path("setup/sample/", views.sample_add, name="sample-add"),
    path("setup/sample/remove/", views.sample_remove, name="sample-remove"),
    path("setup/<slug:item>/dismiss/", views.checklist_dismiss, name="checklist-dismiss"),
    path("me/", views.profile, name="profile"),
    path("me/password/", views.password_change, name="password-change"),
    path("me/tokens/<uuid:code>/revoke/", views.api_token_revoke, name="api-token-revoke"),
    path("company/settings/", views.company_settings, name="company-settings"),
    path("company/users/", views.user_list, name="user-list"),
    path("company/users/new/", views.user_create, name="user-create"),
    path("company/users/<uuid:code>/", views.user_edit, name="user-edit"),
    path("company/teams/", views.team_list, name="team-list"),
    path("company/teams/new/", views.team_create, name="team-create"),
    path("company/teams/<uuid:code>/", views.team_edit, name="team-edit"),
    path("company/sales-roles/", views.sales_roles, name="sales-roles"),
    path("company/audit/", views.audit_log, name="audit-log"),
]
