"""The KPI configuration API: one view class per operation, as in accounts/apis.py."""

import datetime
from collections.abc import Callable

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_common import MonthField, query
from accounts.apis import CompanyRelatedField
from accounts.models import SalesRole, User
from accounts.permissions import require_configure, require_plan
from kpi import access, selectors, services
from kpi.calendar import is_provisional, working_days_by_month
from kpi.models import KPI, Absence, Plan
from kpi.periods import month_bounds


class KpiOutput(serializers.ModelSerializer):
    numerator = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    denominator = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = KPI
        fields = ["uid", *services.KPI_FIELDS]


@extend_schema_field(OpenApiTypes.STR)
class KpiCodeField(serializers.SlugRelatedField):
    """A KPI of the caller's company, by code."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(slug_field="code", **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return KPI.objects.filter(company_id=self.context["request"].user.company_id)

    def to_internal_value(self, data: object) -> KPI:
        # PostgreSQL refuses a NUL in a string literal: such a code is simply unknown.
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


class KpiInput(serializers.Serializer):
    code = serializers.SlugField(max_length=50)
    name_ru = serializers.CharField(max_length=200)
    name_en = serializers.CharField(max_length=200)
    unit = serializers.ChoiceField(choices=KPI.Unit.choices)
    direction = serializers.ChoiceField(choices=KPI.Direction.choices, default="higher")
    aggregation = serializers.ChoiceField(choices=KPI.Aggregation.choices, default="sum")
    numerator = KpiCodeField(required=False, allow_null=True)
    denominator = KpiCodeField(required=False, allow_null=True)
    source = serializers.ChoiceField(choices=KPI.Source.choices, default="manual")
    record = serializers.ChoiceField(
        choices=KPI.Record.choices,
        required=False,
        help_text=(
            "The figure of record of a manager's day: `source` (the CRM's or telephony's "
            "figure), `manager` (what the manager typed) or `checked` (what the manager typed, "
            "differences from the source flagged). `source` and `checked` need a `crm` or "
            "`telephony` source; left out on create: `checked` for such a KPI, else `manager`."
        ),
    )
    decimals = serializers.IntegerField(min_value=0, max_value=4, default=0)
    band_red_below = serializers.DecimalField(
        max_digits=6, decimal_places=2, required=False, allow_null=True
    )
    band_green_from = serializers.DecimalField(
        max_digits=6, decimal_places=2, required=False, allow_null=True
    )


class KpiListApi(APIView):
    @extend_schema(responses=KpiOutput(many=True), operation_id="kpis_list")
    def get(self, request: Request) -> Response:
        kpis = selectors.kpis_of_company(company=request.user.company)
        return Response(KpiOutput(kpis, many=True).data)


class KpiCreateApi(APIView):
    @extend_schema(request=KpiInput, responses={201: KpiOutput}, operation_id="kpis_create")
    def post(self, request: Request) -> Response:
        require_configure(request.user)
        serializer = KpiInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        kpi = services.kpi_create(
            company=request.user.company, actor=request.user, **serializer.validated_data
        )
        return Response(KpiOutput(kpi).data, status=status.HTTP_201_CREATED)


class KpiDetailApi(APIView):
    @extend_schema(responses=KpiOutput, operation_id="kpis_retrieve")
    def get(self, request: Request, uid: str) -> Response:
        kpi = get_object_or_404(KPI.objects.filter(company_id=request.user.company_id), uid=uid)
        return Response(KpiOutput(kpi).data)


class KpiUpdateApi(APIView):
    @extend_schema(
        request=KpiInput,
        responses=KpiOutput,
        operation_id="kpis_update",
        description=(
            "A KPI that has data (a report value, an imported figure, a plan or its history, "
            "a stored total) keeps its `unit`, `aggregation`, `numerator` and `denominator`: "
            "a change to any of them answers 400 with the reason, and nothing is saved. "
            "Create a new KPI instead and put it in the role's set from a date "
            "(`sales-roles/{code}/kpis/add/` and `remove/`): past periods keep the old one. "
            "Direction, names, bands and decimals may change."
        ),
    )
    def patch(self, request: Request, uid: str) -> Response:
        kpi = access.kpi_get_for_admin(actor=request.user, uid=uid)
        serializer = KpiInput(data=request.data, partial=True, context={"request": request})
        serializer.is_valid(raise_exception=True)
        services.kpi_update(kpi=kpi, actor=request.user, **serializer.validated_data)
        return Response(KpiOutput(kpi).data)


class RoleKpiSetOutput(serializers.Serializer):
    sales_role = serializers.UUIDField()
    on = serializers.DateField()
    kpis = KpiOutput(many=True)


def _set_response(sales_role: SalesRole, on: datetime.date, kpis: list[KPI]) -> Response:
    return Response(RoleKpiSetOutput({"sales_role": sales_role.code, "on": on, "kpis": kpis}).data)


class RoleKpiListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("on", OpenApiTypes.DATE, description="default: today")],
        responses=RoleKpiSetOutput,
        operation_id="sales_role_kpis_list",
    )
    def get(self, request: Request, code: str) -> Response:
        company = request.user.company
        sales_role = get_object_or_404(SalesRole.objects.filter(company=company), code=code)
        on = serializers.DateField().to_internal_value(
            request.query_params.get("on") or company.today().isoformat()
        )
        kpis = selectors.role_kpis_on(company=company, sales_role=sales_role, on=on)
        return _set_response(sales_role, on, kpis)


@extend_schema_serializer(component_name="RoleKpiChangeInput")
class RoleKpiChangeInput(serializers.Serializer):
    kpi = KpiCodeField()
    effective_from = serializers.DateField()


class _RoleKpiChangeApi(APIView):
    def change(self, request: Request, code: str, service: Callable[..., list[KPI]]) -> Response:
        sales_role = access.sales_role_get_for_admin(actor=request.user, code=code)
        serializer = RoleKpiChangeInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        kpis = service(
            company=request.user.company,
            sales_role=sales_role,
            actor=request.user,
            **serializer.validated_data,
        )
        return _set_response(sales_role, serializer.validated_data["effective_from"], kpis)


class RoleKpiAddApi(_RoleKpiChangeApi):
    @extend_schema(
        request=RoleKpiChangeInput, responses=RoleKpiSetOutput, operation_id="sales_role_kpis_add"
    )
    def post(self, request: Request, code: str) -> Response:
        return self.change(request, code, services.role_kpi_add)


class RoleKpiRemoveApi(_RoleKpiChangeApi):
    @extend_schema(
        request=RoleKpiChangeInput,
        responses=RoleKpiSetOutput,
        operation_id="sales_role_kpis_remove",
    )
    def post(self, request: Request, code: str) -> Response:
        return self.change(request, code, services.role_kpi_remove)


PLAN_UNIT = (
    "the plan in the KPI's unit (a duration in seconds): a summed KPI's total for the month "
    "or week, at most 31 days of its day bound; any other KPI's target"
)


class PlanOutput(serializers.ModelSerializer):
    kpi = serializers.SlugRelatedField(slug_field="code", read_only=True)
    manager = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    sales_role = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Plan
        fields = ["kpi", "period", "start", "manager", "sales_role", "value"]
        extra_kwargs = {"value": {"help_text": PLAN_UNIT}}


class PlanFilter(serializers.Serializer):
    month = MonthField(required=False, help_text="2026-12, or any day of it; default: this month")


class PlanListApi(APIView):
    @extend_schema(
        parameters=[PlanFilter],
        responses=PlanOutput(many=True),
        operation_id="plans_list",
    )
    def get(self, request: Request) -> Response:
        require_plan(request.user)
        month = query(PlanFilter, request).get("month") or request.user.company.today()
        first, last = month_bounds(month)
        plans = (
            Plan.objects.filter(company=request.user.company, start__gte=first, start__lte=last)
            .select_related("kpi", "manager", "sales_role")
            .order_by("kpi__code", "start")
        )
        return Response(PlanOutput(plans, many=True).data)


@extend_schema_serializer(component_name="PlanSetInput")
class PlanSetInput(serializers.Serializer):
    kpi = KpiCodeField()
    period = serializers.ChoiceField(choices=Plan.Period.choices, default="month")
    start = serializers.DateField(help_text="any day of the month or week")
    manager = CompanyRelatedField(User, required=False, allow_null=True)
    sales_role = CompanyRelatedField(SalesRole, required=False, allow_null=True)
    value = serializers.DecimalField(
        max_digits=18, decimal_places=4, allow_null=True, help_text=f"{PLAN_UNIT}; null clears it"
    )

    def validate(self, data: dict) -> dict:
        if (data.get("manager") is None) == (data.get("sales_role") is None):
            raise ApiValidationError(
                _("Укажите менеджера (manager) или роль (sales_role) — что-то одно.")
            )
        return data


class PlanSetApi(APIView):
    @extend_schema(request=PlanSetInput, responses=PlanOutput, operation_id="plans_set")
    def post(self, request: Request) -> Response:
        serializer = PlanSetInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        plan = services.plan_set(company=request.user.company, actor=request.user, **data)
        if plan is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(PlanOutput(plan).data)


class CalendarOutput(serializers.Serializer):
    year = serializers.IntegerField()
    working_days = serializers.IntegerField()
    months = serializers.DictField(child=serializers.IntegerField())
    provisional = serializers.BooleanField(
        help_text="The decree moving the year's days off is not yet in the installed calendar."
    )


class CalendarApi(APIView):
    @extend_schema(responses=CalendarOutput, operation_id="calendar_retrieve")
    def get(self, request: Request, year: int) -> Response:
        if not 2000 <= year <= 2100:
            raise ApiValidationError({"year": "2000–2100"})
        months = working_days_by_month(company=request.user.company, year=year)
        data = {
            "year": year,
            "working_days": sum(months.values()),
            "months": {str(month): count for month, count in months.items()},
            "provisional": is_provisional(year=year, country=request.user.company.country),
        }
        return Response(CalendarOutput(data).data)


class AbsenceOutput(serializers.ModelSerializer):
    manager = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Absence
        fields = ["code", "manager", "kind", "start", "end"]


class AbsenceListApi(APIView):
    @extend_schema(responses=AbsenceOutput(many=True), operation_id="absences_list")
    def get(self, request: Request) -> Response:
        require_plan(request.user)
        absences = Absence.objects.filter(company=request.user.company).select_related("manager")
        return Response(AbsenceOutput(absences, many=True).data)


@extend_schema_serializer(component_name="AbsenceCreateInput")
class AbsenceInput(serializers.Serializer):
    manager = CompanyRelatedField(User)
    kind = serializers.ChoiceField(choices=Absence.Kind.choices)
    start = serializers.DateField()
    end = serializers.DateField()


class AbsenceCreateApi(APIView):
    @extend_schema(
        request=AbsenceInput, responses={201: AbsenceOutput}, operation_id="absences_create"
    )
    def post(self, request: Request) -> Response:
        require_configure(request.user)
        serializer = AbsenceInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        absence = services.absence_create(
            company=request.user.company, actor=request.user, **serializer.validated_data
        )
        return Response(AbsenceOutput(absence).data, status=status.HTTP_201_CREATED)


class BandsSerializer(serializers.Serializer):
    band_red_below = serializers.DecimalField(max_digits=6, decimal_places=2)
    band_green_from = serializers.DecimalField(max_digits=6, decimal_places=2)


class BandsApi(APIView):
    @extend_schema(responses=BandsSerializer, operation_id="bands_retrieve")
    def get(self, request: Request) -> Response:
        return Response(BandsSerializer(request.user.company).data)


class BandsUpdateApi(APIView):
    @extend_schema(request=BandsSerializer, responses=BandsSerializer, operation_id="bands_update")
    def post(self, request: Request) -> Response:
        require_configure(request.user)
        serializer = BandsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        company = services.bands_set(
            company=request.user.company, actor=request.user, **serializer.validated_data
        )
        return Response(BandsSerializer(company).data)
