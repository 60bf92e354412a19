"""Funnel metrics for a period, as on the funnel page."""

import dataclasses

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import require_lead
from funnel.selectors import RecordLine, funnel_of, scope_for_viewer

MAX_DAYS = 366


class FunnelInput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    team = serializers.UUIDField(required=False)
    manager = serializers.UUIDField(required=False)
    channel = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, data: dict) -> dict:
        if data["end"] < data["start"]:
            raise serializers.ValidationError({"end": _("Конец периода раньше его начала.")})
        if (data["end"] - data["start"]).days + 1 > MAX_DAYS:
            raise serializers.ValidationError({"end": _("Период длиннее 366 дней.")})
        return data


class StageOutput(serializers.Serializer):
    stage = serializers.CharField(source="stage.name")
    open_deals = serializers.IntegerField()
    open_value = serializers.DecimalField(max_digits=20, decimal_places=2)
    left = serializers.IntegerField()
    moved_on = serializers.IntegerField()
    conversion = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)
    days_in_stage = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)


class ChannelOutput(serializers.Serializer):
    channel = serializers.CharField()
    created = serializers.IntegerField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    won_sum = serializers.DecimalField(max_digits=20, decimal_places=2)
    repeat_won = serializers.IntegerField()
    repeat_sum = serializers.DecimalField(max_digits=20, decimal_places=2)
    conversion = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)


class RecordOutput(serializers.Serializer):
    kpi = serializers.CharField(source="kpi.code")
    record = serializers.CharField(
        source="kpi.record", help_text="the KPI's figure of record: source, manager or checked"
    )
    value = serializers.DecimalField(
        max_digits=24, decimal_places=4, allow_null=True,
        help_text="the figure of record over the period, as the totals count it",
    )  # fmt: skip
    differs = serializers.SerializerMethodField()
    manager_value = serializers.SerializerMethodField(help_text="what the managers typed")
    source_value = serializers.SerializerMethodField(help_text="what the CRM recorded")

    def get_differs(self, line: RecordLine) -> bool:
        return line.sides is not None

    @extend_schema_field(OpenApiTypes.DECIMAL)
    def get_manager_value(self, line: RecordLine) -> str | None:
        return None if line.sides is None else str(line.sides.manager_value)

    @extend_schema_field(OpenApiTypes.DECIMAL)
    def get_source_value(self, line: RecordLine) -> str | None:
        return None if line.sides is None else str(line.sides.source_value)


def _money(**kwargs: object) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=20, decimal_places=2, **kwargs)


class FunnelOutput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    created = serializers.IntegerField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    won_sum = _money()
    conversion = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)
    average_won = _money(allow_null=True)
    deal_length = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    time_to_win = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    time_to_loss = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    open_deals = serializers.IntegerField()
    open_value = _money()
    velocity = _money(allow_null=True, help_text="money per day")
    velocity_month = _money(allow_null=True)
    remaining_plan = _money(allow_null=True)
    coverage = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    coverage_health = serializers.CharField()
    expected_month = serializers.DateField()
    expected_count = serializers.IntegerField()
    expected_sum = _money()
    retargeting = serializers.IntegerField()
    stages = StageOutput(many=True)
    channels = ChannelOutput(many=True)
    record = RecordOutput(
        many=True,
        help_text="the deal KPIs of the reports: the funnel counts the CRM's deals; these are "
        "the figures of record the totals count, with both figures where they differ",
    )


class FunnelApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, required=True),
            OpenApiParameter("end", OpenApiTypes.DATE, required=True),
            OpenApiParameter("team", OpenApiTypes.UUID),
            OpenApiParameter("manager", OpenApiTypes.UUID),
            OpenApiParameter("channel", OpenApiTypes.STR),
        ],
        responses=FunnelOutput,
        operation_id="funnel_retrieve",
        summary="The funnel of a period",
        description="As on the funnel page (heads and admins): conversion, deal length, "
        "stage conversion and time in stage, velocity, coverage and channels of the deals of "
        "the managers you see. A `team` or `manager` you do not see is a 400.",
    )
    def get(self, request: Request) -> Response:
        require_lead(request.user)
        query = FunnelInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        scope, unknown = scope_for_viewer(
            viewer=request.user,
            team=data.get("team"),
            manager=data.get("manager"),
            channel=data["channel"],
        )
        if "manager" in unknown:
            raise serializers.ValidationError({"manager": [_("Нет такого менеджера.")]})
        if "team" in unknown:
            raise serializers.ValidationError({"team": [_("Нет такой команды.")]})
        if scope.nobody:
            raise serializers.ValidationError({"team": [_("У вас нет команды.")]})
        company = request.user.company
        funnel = funnel_of(
            scope=scope,
            start=data["start"],
            end=data["end"],
            today=company.today(),
        )
        payload = {f.name: getattr(funnel, f.name) for f in dataclasses.fields(funnel)}
        payload["coverage_health"] = funnel.coverage_health
        return Response(FunnelOutput(payload).data)
