"""Deals and calls for integrations: read them, and push call records from IP telephony."""

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_common import (
    EXAMPLE_MANAGER,
    EXPAND,
    FIELDS,
    ManagerInViewField,
    OptionalManagerCodeField,
    cursor_or_legacy,
    example_pair,
    page_answer,
    query,
)
from accounts.apis import CompanyRelatedField
from accounts.authentication import ApiTokenAuthentication, CompanyTokenAuthentication
from accounts.models import CompanyToken, User
from accounts.permissions import of_managers_in_view
from crm_sync import services
from crm_sync.models import Call, Deal, Source
from kpi.values import MAX_CALL_SECONDS


class PeriodFilter(serializers.Serializer):
    # "from" is a Python keyword: the field is declared under it below.
    to = serializers.DateField(required=False, help_text="to this day, included")
    manager = ManagerInViewField(
        required=False, help_text="a manager you see; anyone else is a 400, not an empty list"
    )


PeriodFilter._declared_fields["from"] = serializers.DateField(
    required=False, help_text="from this day (company time)"
)


class DealFilter(PeriodFilter):
    status = serializers.ChoiceField(choices=Deal.Status.choices, required=False)


def _filtered[M: (Deal, Call)](queryset: QuerySet[M], request: Request, moment: str) -> QuerySet[M]:
    filters = query(PeriodFilter, request)
    company = request.user.company
    if filters.get("from"):
        queryset = queryset.filter(**{f"{moment}__gte": company.day_start(filters["from"])})
    if filters.get("to"):
        queryset = queryset.filter(**{f"{moment}__lt": company.day_end(filters["to"])})
    if filters.get("manager"):
        queryset = queryset.filter(manager=filters["manager"])
    return queryset


class DealOutput(serializers.ModelSerializer):
    manager = OptionalManagerCodeField(source="manager.code", allow_null=True, default=None)
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
    manager = OptionalManagerCodeField(source="manager.code", allow_null=True, default=None)
    client = serializers.CharField(source="client.name", allow_null=True, default=None)

    class Meta:
        model = Call
        fields = [
            "code", "source", "external_id", "manager", "client", "phone", "direction",
            "started_at", "duration", "answered",
        ]  # fmt: skip


PAGING = (
    " With `?page_size=` (up to 500; or a `cursor`): pages with a stable cursor, follow "
    "`next` until it is null; rows added meanwhile neither repeat nor push others off a page. "
    "Without either, for one more release, the old page (deprecated): `{count, next, "
    "previous, results}` by `?limit=` (100) and `?offset=`. `?fields=` keeps the fields "
    "named, `?expand=manager` gives the manager's names."
)


class DealListApi(APIView):
    # Declared so that the schema describes the paginated envelope.
    pagination_class = cursor_or_legacy("-created_at", "-id", legacy="limit_offset")

    @extend_schema(
        parameters=[DealFilter, FIELDS, EXPAND],
        responses=DealOutput(many=True),
        operation_id="deals_list",
        summary="Deals",
        description="Deals of the managers you see created in the period (by `created_at`, "
        "the company's days), newest first." + PAGING,
    )
    def get(self, request: Request) -> Response:
        deals = Deal.objects.filter(company=request.user.company)
        deals = _filtered(of_managers_in_view(deals, viewer=request.user), request, "created_at")
        status_wanted = query(DealFilter, request).get("status")
        if status_wanted:
            deals = deals.filter(status=status_wanted)
        deals = deals.select_related("manager", "client", "stage").order_by("-created_at", "-id")
        return page_answer(self, request, deals, DealOutput)


class CallListApi(APIView):
    pagination_class = cursor_or_legacy("-started_at", "-id", legacy="limit_offset")

    @extend_schema(
        parameters=[PeriodFilter, FIELDS, EXPAND],
        responses=CallOutput(many=True),
        operation_id="calls_list",
        summary="Calls",
        description="Call records of the managers you see that started in the period, "
        "newest first (durations in seconds)." + PAGING,
    )
    def get(self, request: Request) -> Response:
        calls = Call.objects.filter(company=request.user.company)
        calls = _filtered(of_managers_in_view(calls, viewer=request.user), request, "started_at")
        calls = calls.select_related("manager", "client").order_by("-started_at", "-id")
        return page_answer(self, request, calls, CallOutput)


class CallPushApi(APIView):
    """IP telephony pushes each finished call; the same `external_id` twice is stored once.

    The company's token with the `calls:push` scope is the way in; an admin's personal
    token still works for one release, answered with a `Deprecation` header."""

    authentication_classes = [
        CompanyTokenAuthentication,
        ApiTokenAuthentication,
        SessionAuthentication,
    ]

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
        pbx_call_id = serializers.CharField(
            max_length=128,
            required=False,
            allow_blank=True,
            help_text="the PBX's id of the call: a CRM note naming it is the same call",
        )
        recording_url = serializers.URLField(max_length=1000, required=False, allow_blank=True)

    @extend_schema(
        request=Input,
        responses={201: CallOutput, 200: CallOutput},
        examples=example_pair(
            "an answered outgoing call",
            request={
                "external_id": "pbx-20261201-0001",
                "manager": EXAMPLE_MANAGER,
                "direction": "out",
                "started_at": "2026-12-01T10:15:00+03:00",
                "duration": 240,
                "answered": True,
                "phone": "+7 900 123-45-67",
                "client_name": "ООО «Ромашка»",
            },
            response={
                "code": "0a9b8c7d-6e5f-4a3b-9c1d-2e3f4a5b6c7d",
                "source": "telephony",
                "external_id": "pbx-20261201-0001",
                "manager": EXAMPLE_MANAGER,
                "client": "ООО «Ромашка»",
                "phone": "79001234567",
                "direction": "out",
                "started_at": "2026-12-01T10:15:00+03:00",
                "duration": 240,
                "answered": True,
            },
            status="201",
        ),
        operation_id="calls_push",
        summary="Push a call from IP telephony",
        description="A company token with the `calls:push` scope (`Authorization: Bearer "
        "<key>`; an admin's personal token is deprecated and answered with a `Deprecation` "
        "header). The same `external_id` twice updates the one call (200) instead of adding "
        "another (201); the manager's day figures are recomputed.",
    )
    def post(self, request: Request) -> Response:
        by_company = isinstance(request.auth, CompanyToken)
        if by_company and CompanyToken.Scope.CALLS_PUSH not in request.auth.scopes:
            raise PermissionDenied(_("У этого токена нет права передавать звонки (calls:push)."))
        if not by_company and not request.user.can_administer:
            raise PermissionDenied(_("Звонки из телефонии передаёт токен компании."))
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
                phone=data.get("phone", ""), pbx_call_id=data.get("pbx_call_id", ""),
                recording_url=data.get("recording_url", ""),
            ),
        )  # fmt: skip
        code = status.HTTP_201_CREATED if outcome == "created" else status.HTTP_200_OK
        response = Response(CallOutput(call).data, status=code)
        if not by_company:
            # A person's token dies with the person: PBXs move to a company token.
            response["Deprecation"] = "true"
        return response
