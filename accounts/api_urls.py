from django.urls import path

from accounts import apis

# Resources: collections (GET, POST) and items (GET, PATCH). The older paths of one
# operation each (`…/create/`, `…/update/`) answer the same for one release.
urlpatterns = [
    path("me/", apis.MeApi.as_view(), name="api-me"),
    path("users/", apis.UserListApi.as_view(), name="api-user-list"),
    path("users/<uuid:code>/", apis.UserDetailApi.as_view(), name="api-user-detail"),
    path("teams/", apis.TeamListApi.as_view(), name="api-team-list"),
    path("teams/<uuid:code>/", apis.TeamDetailApi.as_view(), name="api-team-detail"),
    path("sales-roles/", apis.SalesRoleListApi.as_view(), name="api-sales-role-list"),
    path("company-tokens/", apis.CompanyTokenListApi.as_view(), name="api-company-token-list"),
    path(
        "company-tokens/<uuid:code>/",
        apis.CompanyTokenDetailApi.as_view(),
        name="api-company-token-detail",
    ),
    # Deprecated: one release more.
    path("users/create/", apis.UserCreateApi.as_view(), name="api-user-create"),
    path("users/<uuid:code>/update/", apis.UserUpdateApi.as_view(), name="api-user-update"),
    path("teams/create/", apis.TeamCreateApi.as_view(), name="api-team-create"),
    path("sales-roles/create/", apis.SalesRoleCreateApi.as_view(), name="api-sales-role-create"),
]
