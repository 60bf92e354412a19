"""The webhooks API: admins subscribe addresses to events and read the delivery log."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import get_for_admin
from accounts.api_common import service_answer
from accounts.permissions import require_configure
from webhooks import services
from webhooks.models import Delivery, Event, Subscription


class SubscriptionOutput(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=Event.choices))

    class Meta:
        model = Subscription
        fields = ["code", "url", "events", "description", "active", "last_sequence", "created"]


class SubscriptionCreatedOutput(SubscriptionOutput):
    secret = serializers.CharField(
        help_text="the signing secret, shown this once: verify `X-Salesdesk-Signature` with it"
    )

    class Meta(SubscriptionOutput.Meta):
        fields = [*SubscriptionOutput.Meta.fields, "secret"]


class SubscriptionInput(serializers.Serializer):
    url = serializers.URLField(
        max_length=500, help_text="https:// address on the public internet that receives POSTs"
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=Event.choices), min_length=1
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False, default=True)


class SubscriptionPatchInput(SubscriptionInput):
    url = serializers.URLField(max_length=500, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=Event.choices), min_length=1, required=False
    )
    active = serializers.BooleanField(required=False)


class DeliveryOutput(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = [
            "code",
            "event_id",
            "event",
            "sequence",
            "state",
            "attempts",
            "last_status",
            "last_error",
            "next_attempt_at",
            "created",
            "delivered_at",
            "payload",
        ]


SUBSCRIPTION_EXAMPLE = OpenApiExample(
    "reports and won deals",
    value={
        "url": "https://bot.example.com/salesdesk",
        "events": ["report.filed", "report.corrected", "deal.won"],
        "description": "Бот отдела продаж",
    },
    request_only=True,
)


def _subscription(request: Request, code: str) -> Subscription:
    return get_for_admin(Subscription, actor=request.user, code=code)


class SubscriptionListApi(APIView):
    @extend_schema(
        summary="Webhook subscriptions",
        description="Admins only. The company's addresses subscribed to events, never their "
        "secrets.",
        responses=SubscriptionOutput(many=True),
        operation_id="webhooks_list",
    )
    def get(self, request: Request) -> Response:
        require_configure(request.user)
        subscriptions = Subscription.objects.filter(company=request.user.company)
        return Response(SubscriptionOutput(subscriptions, many=True).data)

    @extend_schema(
        summary="Subscribe an address to events",
        description="Admins only. The answer carries the signing secret this once. The address "
        "must be https:// and resolve to public addresses only (no loopback, private or "
        "link-local networks). Events: report.filed, report.corrected, month.closed, "
        "manager.at_risk, deal.won.",
        request=SubscriptionInput,
        responses={201: SubscriptionCreatedOutput},
        examples=[
            SUBSCRIPTION_EXAMPLE,
            # Its secret is made up on each call: not the replayed pair.
            OpenApiExample(
                "the subscription made",
                value={
                    **SUBSCRIPTION_EXAMPLE.value,
                    "code": "3c2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a0f9",
                    "active": True,
                    "last_sequence": 0,
                    "created": "2026-12-01T09:30:00+03:00",
                    "secret": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
        operation_id="webhooks_create",
    )
    def post(self, request: Request) -> Response:
        require_configure(request.user)
        return service_answer(
            request, input=SubscriptionInput, service=services.subscription_create,
            output=SubscriptionCreatedOutput, created=True, company=request.user.company,
        )  # fmt: skip


class SubscriptionDetailApi(APIView):
    @extend_schema(
        summary="A webhook subscription",
        description="Admins only.",
        responses=SubscriptionOutput,
        operation_id="webhooks_retrieve",
    )
    def get(self, request: Request, code: str) -> Response:
        return Response(SubscriptionOutput(_subscription(request, code)).data)

    @extend_schema(
        summary="Change a webhook subscription",
        description="Admins only. Only the fields sent change. `active: false` pauses it: "
        "events that happen while it is paused are not queued to it; those queued before "
        "wait and go out when it is active again.",
        request=SubscriptionPatchInput,
        responses=SubscriptionOutput,
        examples=[
            OpenApiExample("pause", value={"active": False}, request_only=True),
            OpenApiExample(
                "pause",
                value={
                    **SUBSCRIPTION_EXAMPLE.value,
                    "code": "3c2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a0f9",
                    "active": False,
                    "last_sequence": 41,
                    "created": "2026-12-01T09:30:00+03:00",
                },
                response_only=True,
                status_codes=["200"],
            ),
        ],
        operation_id="webhooks_partial_update",
    )
    def patch(self, request: Request, code: str) -> Response:
        return service_answer(
            request, input=SubscriptionPatchInput, service=services.subscription_update,
            output=SubscriptionOutput, partial=True, subscription=_subscription(request, code),
        )  # fmt: skip

    @extend_schema(
        summary="Delete a webhook subscription",
        description="Admins only. Nothing more is sent to the address; its delivery log goes "
        "with it.",
        responses={204: None},
        operation_id="webhooks_destroy",
    )
    def delete(self, request: Request, code: str) -> Response:
        services.subscription_delete(subscription=_subscription(request, code), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryListApi(APIView):
    @extend_schema(
        summary="A subscription's delivery log",
        description="Admins only. The last 200 deliveries, newest first: state (pending, "
        "delivered, failed), attempts, the last HTTP status and a short excerpt of the last "
        "answer or error, the next attempt's time.",
        responses=DeliveryOutput(many=True),
        operation_id="webhooks_deliveries_list",
    )
    def get(self, request: Request, code: str) -> Response:
        subscription = _subscription(request, code)
        deliveries = subscription.deliveries.order_by("-sequence")[:200]
        return Response(DeliveryOutput(deliveries, many=True).data)
