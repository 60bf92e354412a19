"""The accounts API: one view class per operation, input and output serializers nested."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import access, selectors, services
from accounts.models import SalesRole, Team, User
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
    @extend_schema(responses=UserOutput, operation_id="me_retrieve")
    def get(self, request: Request) -> Response:
        return Response(UserOutput(request.user).data)


class UserListApi(APIView):
    @extend_schema(responses=UserOutput(many=True), operation_id="users_list")
    def get(self, request: Request) -> Response:
        require_lead(request.user)
        users = selectors.users_in_view(company=request.user.company, viewer=request.user)
        return Response(UserOutput(users, many=True).data)


class UserCreateApi(APIView):
    @extend_schema_serializer(component_name="UserCreateInput")
    class InputSerializer(serializers.Serializer):
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

    @extend_schema(
        request=InputSerializer, responses={201: UserOutput}, operation_id="users_create"
    )
    def post(self, request: Request) -> Response:
        require_configure(request.user)
        serializer = self.InputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.setdefault("password", None)
        user = services.user_create(company=request.user.company, actor=request.user, **data)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


class UserDetailApi(APIView):
    @extend_schema(responses=UserOutput, operation_id="users_retrieve")
    def get(self, request: Request, code: str) -> Response:
        user = access.user_get_for_viewer(actor=request.user, code=code)
        return Response(UserOutput(user).data)


class UserUpdateApi(APIView):
    @extend_schema_serializer(component_name="UserUpdateInput")
    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150, required=False)
        first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        email = serializers.EmailField(required=False, allow_blank=True)
        role = serializers.ChoiceField(choices=User.Role.choices, required=False)
        is_company_admin = serializers.BooleanField(required=False)
        team = CompanyRelatedField(Team, required=False, allow_null=True)
        sales_role = CompanyRelatedField(SalesRole, required=False, allow_null=True)
        is_active = serializers.BooleanField(required=False)

    @extend_schema(request=InputSerializer, responses=UserOutput, operation_id="users_update")
    def patch(self, request: Request, code: str) -> Response:
        user = access.user_get_for_admin(actor=request.user, code=code)
        serializer = self.InputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        services.user_update(user=user, actor=request.user, **serializer.validated_data)
        return Response(UserOutput(user).data)


class TeamOutput(serializers.ModelSerializer):
    head = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    manager_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Team
        fields = ["code", "name", "head", "manager_count"]


class TeamListApi(APIView):
    @extend_schema(responses=TeamOutput(many=True), operation_id="teams_list")
    def get(self, request: Request) -> Response:
        teams = selectors.teams_with_counts(company=request.user.company)
        return Response(TeamOutput(teams, many=True).data)


class TeamCreateApi(APIView):
    @extend_schema_serializer(component_name="TeamCreateInput")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        head = CompanyRelatedField(User, required=False, allow_null=True)

    @extend_schema(
        request=InputSerializer, responses={201: TeamOutput}, operation_id="teams_create"
    )
    def post(self, request: Request) -> Response:
        require_configure(request.user)
        serializer = self.InputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        team = services.team_create(
            company=request.user.company, actor=request.user, **serializer.validated_data
        )
        team.manager_count = 0
        return Response(TeamOutput(team).data, status=status.HTTP_201_CREATED)


class TeamDetailApi(APIView):
    @extend_schema(responses=TeamOutput, operation_id="teams_retrieve")
    def get(self, request: Request, code: str) -> Response:
        teams = selectors.teams_with_counts(company=request.user.company)
        team = access.team_get_for_admin(actor=request.user, code=code)
        return Response(TeamOutput(teams.get(pk=team.pk)).data)


class SalesRoleOutput(serializers.ModelSerializer):
    class Meta:
        model = SalesRole
        fields = ["code", "name", "kind"]


class SalesRoleListApi(APIView):
    @extend_schema(responses=SalesRoleOutput(many=True), operation_id="sales_roles_list")
    def get(self, request: Request) -> Response:
        roles = selectors.sales_roles_with_counts(company=request.user.company)
        return Response(SalesRoleOutput(roles, many=True).data)


class SalesRoleCreateApi(APIView):
    @extend_schema_serializer(component_name="SalesRoleCreateInput")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)

    @extend_schema(
        request=InputSerializer, responses={201: SalesRoleOutput}, operation_id="sales_roles_create"
    )
    def post(self, request: Request) -> Response:
        require_configure(request.user)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        role = services.sales_role_create(
            company=request.user.company,
            name=serializer.validated_data["name"],
            actor=request.user,
        )
        return Response(SalesRoleOutput(role).data, status=status.HTTP_201_CREATED)
