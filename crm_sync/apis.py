"""Deals and calls for integrations: read them, and push call records from IP telephony."""

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apis import CompanyRelatedField
from accounts.models import User
from accounts.permissions import of_managers_in_view
from crm_sync import services
from crm_sync.models import Call, Deal, Source
from kpi.values import MAX_CALL_SECONDS

PERIOD = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="from this day (company time)"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="to this day, included"),
    OpenApiParameter("manager", OpenApiTypes.UUID),
]


def _filtered[M: (Deal, Call)](queryset: QuerySet[M], request: Request, moment: str) -> QuerySet[M]:
    params = request.query_params
    company = request.user.company
    if params.get("from"):
        day = serializers.DateField().to_internal_value(params["from"])
        queryset = queryset.filter(**{f"{moment}__gte": company.day_start(day)})
    if params.get("to"):
        day = serializers.DateField().to_internal_value(params["to"])
        queryset = queryset.filter(**{f"{moment}__lt": company.day_end(day)})
    if params.get("manager"):
        code = serializers.UUIDField().to_internal_value(params["manager"])
        queryset = queryset.filter(manager__code=code)
    return queryset


class DealOutput(serializers.ModelSerializer):
    manager = serializers.UUIDField(source="manager.code", allow_null=True, default=None)
    client = serializers.CharField(source="client.name", allow_null=True, default=None)
    stage = serializers.CharField(source="stage.name")

    class Meta:
        model = Deal
        fields = [
            "code", "source", "external_id", "title", "manager", "client", "channel", "amount",
            "stage", "status", "loss_reason", "is_repeat", "created_at", "closed_at",
            "expected_payment_on", "retargeting_at", "retargeting_reason",
        ]  # fmt: skip


class CallOutput(serializers.ModelSerializer):
    manager = serializers.UUIDField(source="manager.code", allow_null=True, default=None)
    client = serializers.CharField(source="client.name", allow_null=True, default=None)

    class Meta:
        model = Call
        fields = [
            "code", "source", "external_id", "manager", "client", "phone", "direction",
            "started_at", "duration", "answered",
        ]  # fmt: skip


class DealListApi(APIView):
    # Declared so that the schema describes the paginated envelope.
    pagination_class = LimitOffsetPagination

    @extend_schema(
        parameters=[*PERIOD, OpenApiParameter("status", OpenApiTypes.STR, enum=Deal.Status.values)],
        responses=DealOutput(many=True),
        operation_id="deals_list",
        description="Deals created in the period (by `created_at`), newest first.",
    )
    def get(self, request: Request) -> Response:
        deals = Deal.objects.filter(company=request.user.company)
        deals = _filtered(of_managers_in_view(deals, viewer=request.user), request, "created_at")
        if request.query_params.get("status"):
            deals = deals.filter(status=request.query_params["status"])
        deals = deals.select_related("manager", "client", "stage").order_by("-created_at", "-id")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(deals, request, view=self)
        return paginator.get_paginated_response(DealOutput(page, many=True).data)


class CallListApi(APIView):
    pagination_class = LimitOffsetPagination

    @extend_schema(
        parameters=PERIOD,
        responses=CallOutput(many=True),
        operation_id="calls_list",
        description="Call records that started in the period, newest first.",
    )
    def get(self, request: Request) -> Response:
        calls = Call.objects.filter(company=request.user.company)
        calls = _filtered(of_managers_in_view(calls, viewer=request.user), request, "started_at")
        calls = calls.select_related("manager", "client").order_by("-started_at", "-id")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(calls, request, view=self)
        return paginator.get_paginated_response(CallOutput(page, many=True).data)


class CallPushApi(APIView):
    """IP telephony pushes each finished call; the same `external_id` twice is stored once."""

    class Input(serializers.Serializer):
        external_id = serializers.CharField(max_length=64)
        manager = CompanyRelatedField(User, help_text="the manager's code")
        direction = serializers.ChoiceField(choices=Call.Direction.choices)
        started_at = serializers.DateTimeField()
        duration = serializers.IntegerField(
            min_value=0, max_value=MAX_CALL_SECONDS, help_text="seconds, at most 86 400 (24 h)"
        )
        answered = serializers.BooleanField()
        phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
        client_name = serializers.CharField(max_length=200, required=False, allow_blank=True)

    @extend_schema(
        request=Input,
        responses={201: CallOutput, 200: CallOutput},
        operation_id="calls_push",
    )
    def post(self, request: Request) -> Response:
        if not request.user.can_administer:
            raise PermissionDenied("Звонки из телефонии передаёт токен администратора.")
        serializer = self.Input(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        company = request.user.company
        client = services.client_resolve(
            company=company, name=data.get("client_name", ""), phone=data.get("phone", "")
        )
        call, outcome = services.call_upsert(
            company=company,
            source=Source.TELEPHONY,
            data=services.CallData(
                external_id=data["external_id"], direction=data["direction"],
                started_at=data["started_at"], duration=data["duration"],
                answered=data["answered"], manager=data["manager"], client=client,
                phone=data.get("phone", ""),
            ),
        )  # fmt: skip
        code = status.HTTP_201_CREATED if outcome == "created" else status.HTTP_200_OK
        return Response(CallOutput(call).data, status=code)
