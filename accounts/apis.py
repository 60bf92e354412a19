"""The accounts API: one view class per operation, input and output serializers nested."""

from functools import partial

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import access, selectors, services
from accounts.api_common import (
    EXAMPLE_MANAGER,
    EXAMPLE_ROLE,
    EXAMPLE_TEAM,
    FIELDS,
    deprecated_twin,
    example_pair,
    operation,
    pick_fields,
    service_answer,
)
from accounts.models import CompanyToken, SalesRole, Team, User
from accounts.permissions import require_configure, require_lead


@extend_schema_field(OpenApiTypes.UUID)
class CompanyRelatedField(serializers.SlugRelatedField):
    """A reference by `code`, resolved only within the caller's company."""

    def get_queryset(self):  # type: ignore[no-untyped-def]
        user = self.context["request"].user
        return self.queryset_model.objects.filter(company_id=user.company_id)

    def __init__(self, model: type, **kwargs: object) -> None:
        self.queryset_model = model
        super().__init__(slug_field="code", **kwargs)


class UserOutput(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    sales_role = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = [
            "code",
            "username",
            "first_name",
            "last_name",
            "email",
            "role",
            "is_company_admin",
            "team",
            "sales_role",
            "is_active",
        ]


class MeApi(APIView):
    @extend_schema(
        summary="Who you are",
        description="The user the token or session belongs to.",
        responses=UserOutput,
        operation_id="me_retrieve",
    )
    def get(self, request: Request) -> Response:
        return Response(UserOutput(request.user).data)


@extend_schema_serializer(component_name="UserCreateInput")
class UserCreateInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(write_only=True, required=False, allow_blank=True)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    role = serializers.ChoiceField(
        choices=User.Role.choices, required=False, default=User.Role.MANAGER
    )
    is_company_admin = serializers.BooleanField(required=False, default=False)
    team = CompanyRelatedField(Team, required=False, allow_null=True)
    sales_role = CompanyRelatedField(SalesRole, required=False, allow_null=True)


@extend_schema_serializer(component_name="UserUpdateInput")
class UserUpdateInput(serializers.Serializer):
    username = serializers.CharField(max_length=150, required=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=User.Role.choices, required=False)
    is_company_admin = serializers.BooleanField(required=False)
    team = CompanyRelatedField(Team, required=False, allow_null=True)
    sales_role = CompanyRelatedField(SalesRole, required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)


USER_EXAMPLE = {
    "code": EXAMPLE_MANAGER,
    "username": "vector.ivanov",
    "first_name": "Иван",
    "last_name": "Иванов",
    "email": "ivanov@example.com",
    "role": "manager",
    "is_company_admin": False,
    "team": EXAMPLE_TEAM,
    "sales_role": EXAMPLE_ROLE,
    "is_active": True,
}
NEW_USER = {
    "username": "vector.petrova",
    "first_name": "Анна",
    "last_name": "Петрова",
    "email": "petrova@example.com",
    "role": "manager",
    "team": EXAMPLE_TEAM,
    "sales_role": EXAMPLE_ROLE,
}


class UserListApi(APIView):
    @extend_schema(
        summary="Users you may look up",
        description=(
            "An admin gets the company's users; a head of sales the managers of the teams "
            "they lead and themselves (names for the codes other answers carry). Other roles: "
            "403. `?fields=code,first_name,last_name` keeps only those fields."
        ),
        parameters=[FIELDS],
        responses=UserOutput(many=True),
        examples=[OpenApiExample("a manager", value=USER_EXAMPLE, response_only=True)],
        operation_id="users_list",
    )
    def get(self, request: Request) -> Response:
        require_lead(request.user)
        users = selectors.users_in_view(company=request.user.company, viewer=request.user)
        rows = UserOutput(users, many=True).data
        return Response(pick_fields(rows, request, allowed=UserOutput.Meta.fields))

    @operation(
        summary="Create a user",
        description=(
            "Admins only. A manager needs a sales role; the login must be free in every "
            "company; the password follows the same rules as the page (left out: an "
            "invitation with a temporary one)."
        ),
        request=UserCreateInput,
        responses={201: UserOutput},
        examples=example_pair(
            "a new manager, invited",
            request=NEW_USER,
            response={
                "code": "5c4d3e2f-1a0b-4c9d-8e7f-6a5b4c3d2e1f",
                **NEW_USER,
                "is_company_admin": False,
                "is_active": True,
            },
            status="201",
        ),
        operation_id="users_create",
    )
    def post(self, request: Request) -> Response:
        require_configure(request.user)
        return service_answer(
            request, input=UserCreateInput, output=UserOutput, created=True,
            # Left out, the password is a temporary one sent with the invitation.
            service=partial(services.user_create, password=None), company=request.user.company,
        )  # fmt: skip


class UserDetailApi(APIView):
    @extend_schema(
        summary="A user",
        description="An admin: anyone of the company; a head: the people of their teams "
        "and themselves; anyone else is 404.",
        responses=UserOutput,
        operation_id="users_retrieve",
    )
    def get(self, request: Request, code: str) -> Response:
        user = access.user_get_for_viewer(actor=request.user, code=code)
        return Response(UserOutput(user).data)

    @operation(
        summary="Change a user",
        description="Admins only; only the fields sent change. `is_active: false` "
        "deactivates (the user's reports and figures stay).",
        request=UserUpdateInput,
        responses=UserOutput,
        examples=example_pair(
            "deactivate",
            request={"is_active": False},
            response={**USER_EXAMPLE, "is_active": False},
        ),
        operation_id="users_partial_update",
    )
    def patch(self, request: Request, code: str) -> Response:
        user = access.user_get_for_admin(actor=request.user, code=code)
        return service_answer(
            request, input=UserUpdateInput, service=services.user_update, output=UserOutput,
            user=user,
        )  # fmt: skip


UserCreateApi = deprecated_twin(
    UserListApi.post, new="POST /api/v1/users/", operation_id="users_create_old"
)
UserUpdateApi = deprecated_twin(
    UserDetailApi.patch,
    new="PATCH /api/v1/users/{code}/",
    operation_id="users_update_old",
    method="patch",
)


class TeamOutput(serializers.ModelSerializer):
    head = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    manager_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Team
        fields = ["code", "name", "head", "manager_count"]


@extend_schema_serializer(component_name="TeamInput")
class TeamInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    head = CompanyRelatedField(
        User, required=False, allow_null=True, help_text="a head of sales' code, or null"
    )


TEAM_EXAMPLE = OpenApiExample(
    "a new team",
    value={"name": "Южный отдел"},
    request_only=True,
)


class TeamListApi(APIView):
    @extend_schema(
        summary="Teams",
        description="The company's teams with their head's code and how many managers each has.",
        responses=TeamOutput(many=True),
        operation_id="teams_list",
    )
    def get(self, request: Request) -> Response:
        teams = selectors.teams_with_counts(company=request.user.company)
        return Response(TeamOutput(teams, many=True).data)

    @operation(
        summary="Create a team",
        description="Admins only. The name is unique in the company; the head, if given, is a "
        "head of sales.",
        request=TeamInput,
        responses={201: TeamOutput},
        examples=[
            TEAM_EXAMPLE,
            OpenApiExample(
                "a new team",
                value={
                    "code": "7d9e0f1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a",
                    "name": "Южный отдел",
                    "head": None,
                    "manager_count": 0,
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
        operation_id="teams_create",
    )
    def post(self, request: Request) -> Response:
        require_configure(request.user)
        return service_answer(
            request, input=TeamInput, service=_team_create, output=TeamOutput, created=True,
            company=request.user.company,
        )  # fmt: skip


def _team_create(**fields: object) -> Team:
    team = services.team_create(**fields)  # type: ignore[arg-type]
    team.manager_count = 0  # what the list counts; a new team has no one yet
    return team


TeamCreateApi = deprecated_twin(
    TeamListApi.post, new="POST /api/v1/teams/", operation_id="teams_create_old"
)


class TeamDetailApi(APIView):
    @extend_schema(
        summary="A team",
        description="Admins only (a head sees their teams' figures through totals/).",
        responses=TeamOutput,
        operation_id="teams_retrieve",
    )
    def get(self, request: Request, code: str) -> Response:
        teams = selectors.teams_with_counts(company=request.user.company)
        team = access.team_get_for_admin(actor=request.user, code=code)
        return Response(TeamOutput(teams.get(pk=team.pk)).data)

    @extend_schema(
        summary="Rename a team or change its head",
        description="Admins only; a field left out keeps its value.",
        request=TeamInput(partial=True),
        responses=TeamOutput,
        examples=example_pair(
            "rename",
            request={"name": "Южный отдел"},
            response={
                "code": EXAMPLE_TEAM,
                "name": "Южный отдел",
                "head": "2e1f0a9b-8c7d-4e6f-9a5b-4c3d2e1f0a9b",
                "manager_count": 4,
            },
        ),
        operation_id="teams_partial_update",
    )
    def patch(self, request: Request, code: str) -> Response:
        team = access.team_get_for_admin(actor=request.user, code=code)
        serializer = TeamInput(data=request.data, partial=True, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.team_update(
            team=team,
            name=data.get("name", team.name),
            head=data.get("head", team.head),
            actor=request.user,
        )
        teams = selectors.teams_with_counts(company=request.user.company)
        return Response(TeamOutput(teams.get(pk=team.pk)).data)


class SalesRoleOutput(serializers.ModelSerializer):
    class Meta:
        model = SalesRole
        fields = ["code", "name", "kind"]


@extend_schema_serializer(component_name="SalesRoleCreateInput")
class SalesRoleInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class SalesRoleListApi(APIView):
    @extend_schema(
        summary="Sales roles",
        description="The company's sales roles (hunter, closer, farmer and its own).",
        responses=SalesRoleOutput(many=True),
        operation_id="sales_roles_list",
    )
    def get(self, request: Request) -> Response:
        roles = selectors.sales_roles_with_counts(company=request.user.company)
        return Response(SalesRoleOutput(roles, many=True).data)

    @operation(
        summary="Create a sales role",
        description="Admins only; the company's own role, with no KPIs until some are added.",
        request=SalesRoleInput,
        responses={201: SalesRoleOutput},
        examples=example_pair(
            "account managers",
            request={"name": "Аккаунт-менеджеры"},
            response={"code": EXAMPLE_ROLE, "name": "Аккаунт-менеджеры", "kind": "custom"},
            status="201",
        ),
        operation_id="sales_roles_create",
    )
    def post(self, request: Request) -> Response:
        require_configure(request.user)
        return service_answer(
            request, input=SalesRoleInput, service=services.sales_role_create,
            output=SalesRoleOutput, created=True, company=request.user.company,
        )  # fmt: skip


SalesRoleCreateApi = deprecated_twin(
    SalesRoleListApi.post, new="POST /api/v1/sales-roles/", operation_id="sales_roles_create_old"
)


class CompanyTokenOutput(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = CompanyToken
        fields = [
            "code",
            "name",
            "scopes",
            "prefix",
            "created_by",
            "created",
            "last_used",
            "revoked",
        ]


class CompanyTokenCreatedOutput(CompanyTokenOutput):
    key = serializers.CharField(
        help_text="the key, shown this once: `Authorization: Bearer <key>`; only its hash is kept"
    )

    class Meta(CompanyTokenOutput.Meta):
        fields = [*CompanyTokenOutput.Meta.fields, "key"]


@extend_schema_serializer(component_name="CompanyTokenInput")
class CompanyTokenInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="what uses it: «DataLens», «АТС»")
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=CompanyToken.Scope.choices),
        min_length=1,
        help_text="`exports:read`: the BI exports (read-only)",
    )


class CompanyTokenListApi(APIView):
    @extend_schema(
        summary="Company tokens",
        description="Admins only. The company's tokens for tools that act for the company (a BI "
        "dashboard), revoked ones included; never their keys.",
        responses=CompanyTokenOutput(many=True),
        operation_id="company_tokens_list",
    )
    def get(self, request: Request) -> Response:
        require_configure(request.user)
        tokens = CompanyToken.objects.filter(company=request.user.company).select_related(
            "created_by"
        )
        return Response(CompanyTokenOutput(tokens, many=True).data)

    @extend_schema(
        summary="Make a company token",
        description="Admins only. The answer carries the key this once; keep it in the BI "
        "tool's connection. A token reaches only what its scopes name.",
        request=CompanyTokenInput,
        responses={201: CompanyTokenCreatedOutput},
        examples=[
            OpenApiExample(
                "DataLens",
                value={"name": "DataLens", "scopes": ["exports:read"]},
                request_only=True,
            ),
            # Its key and times are made up on each call: not the replayed pair.
            OpenApiExample(
                "the token made",
                response_only=True,
                status_codes=["201"],
                value={
                    "code": "6b5a4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
                    "name": "DataLens",
                    "scopes": ["exports:read"],
                    "prefix": "sdc_k3Jx",
                    "created_by": EXAMPLE_MANAGER,
                    "created": "2026-12-01T09:30:00+03:00",
                    "last_used": None,
                    "revoked": None,
                    "key": "sdc_k3Jx9QvT2mWb7LpZ4nYc8RfH1sDg6AeK",
                },
            ),
        ],
        operation_id="company_tokens_create",
    )
    def post(self, request: Request) -> Response:
        require_configure(request.user)
        serializer = CompanyTokenInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, key = services.company_token_create(
            company=request.user.company, actor=request.user, **serializer.validated_data
        )
        token.key = key
        return Response(CompanyTokenCreatedOutput(token).data, status=status.HTTP_201_CREATED)


class CompanyTokenDetailApi(APIView):
    @extend_schema(
        summary="Revoke a company token",
        description="Admins only. The key stops working at once; the row stays for the record.",
        responses={200: CompanyTokenOutput},
        operation_id="company_tokens_destroy",
    )
    def delete(self, request: Request, code: str) -> Response:
        token = access.company_token_get_for_admin(actor=request.user, code=code)
        services.company_token_revoke(token=token, actor=request.user)
        return Response(CompanyTokenOutput(token).data)


class NotFoundApi(APIView):
    """Whatever no route of /api/v1/ matches: a 404 in the one error body, not the HTML page."""

    schema = None

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)
        raise NotFound(_("Такого адреса в API нет: пути и методы — в документации /api/docs/."))
