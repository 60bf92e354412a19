"""The KPI configuration API: one view class per operation, as in accounts/apis.py."""

import datetime
from collections.abc import Callable

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
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

from accounts.api_common import (
    EXAMPLE_MANAGER,
    EXAMPLE_ROLE,
    FIELDS,
    MonthField,
    deprecated_in_favour_of,
    deprecated_twin,
    example_pair,
    operation,
    pick_fields,
    query,
    service_answer,
)
from accounts.api_errors import error_body
from accounts.apis import CompanyRelatedField
from accounts.models import SalesRole, User
from accounts.permissions import require_configure, require_plan
from kpi import access, selectors, services
from kpi.calendar import is_provisional, working_days_by_month
from kpi.models import KPI, Absence, CalendarDay, Plan
from kpi.periods import month_bounds

# The Russian message of api_common.MonthField, as the docs' example shows it.
MONTH_FORMAT = "Месяц пишется как 2026-12 (год-месяц) или как дата в нём."


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


KPI_CREATE_EXAMPLE = OpenApiExample(
    "meetings held",
    value={
        "code": "meetings_held_api",
        "name_ru": "Проведённые встречи",
        "name_en": "Meetings held",
        "unit": "count",
        "direction": "higher",
        "aggregation": "sum",
        "source": "manual",
    },
    request_only=True,
)
KPI_CREATED_EXAMPLE = OpenApiExample(
    "meetings held",
    value={
        "uid": "0b7f3c1e-8a4d-4f2e-9c6b-5d4e3f2a1b0c",
        "code": "meetings_held_api",
        "name_ru": "Проведённые встречи",
        "name_en": "Meetings held",
        "unit": "count",
        "direction": "higher",
        "aggregation": "sum",
        "source": "manual",
    },
    response_only=True,
    status_codes=["201"],
)


class KpiListApi(APIView):
    @extend_schema(
        summary="KPIs",
        description="The company's KPI definitions: unit, direction, aggregation, source and "
        "figure of record, bands. `?fields=` keeps only the fields named.",
        parameters=[FIELDS],
        responses=KpiOutput(many=True),
        operation_id="kpis_list",
    )
    def get(self, request: Request) -> Response:
        kpis = selectors.kpis_of_company(company=request.user.company)
        rows = KpiOutput(kpis, many=True).data
        return Response(pick_fields(rows, request, allowed=KpiOutput.Meta.fields))

    @operation(
        summary="Create a KPI",
        description="Admins only. The code is unique in the company (letters, digits, `_`); "
        "a ratio KPI names its numerator and denominator KPIs. Put it in a role's set with "
        "`POST /api/v1/sales-roles/{code}/kpis/`.",
        request=KpiInput,
        responses={201: KpiOutput},
        examples=[KPI_CREATE_EXAMPLE, KPI_CREATED_EXAMPLE],
        operation_id="kpis_create",
    )
    def post(self, request: Request) -> Response:
        require_configure(request.user)
        return service_answer(
            request, input=KpiInput, service=services.kpi_create, output=KpiOutput, created=True,
            company=request.user.company,
        )  # fmt: skip


KpiCreateApi = deprecated_twin(
    KpiListApi.post, new="POST /api/v1/kpis/", operation_id="kpis_create_old"
)


KPI_UPDATE_RULE = (
    "A KPI that has data (a report value, an imported figure, a plan or its history, "
    "a stored total) keeps its `unit`, `aggregation`, `numerator` and `denominator`: "
    "a change to any of them answers 400 with the reason, and nothing is saved. "
    "Create a new KPI instead and put it in the role's set from a date "
    "(`POST /api/v1/sales-roles/{code}/kpis/` and `DELETE …/kpis/{kpi}/`): past periods "
    "keep the old one. Direction, names, bands and decimals may change."
)


class KpiDetailApi(APIView):
    @extend_schema(
        summary="A KPI",
        description="One KPI of the company by its uid.",
        responses=KpiOutput,
        operation_id="kpis_retrieve",
    )
    def get(self, request: Request, uid: str) -> Response:
        kpi = get_object_or_404(KPI.objects.filter(company_id=request.user.company_id), uid=uid)
        return Response(KpiOutput(kpi).data)

    @operation(
        summary="Change a KPI",
        description=f"Admins only; only the fields sent change. {KPI_UPDATE_RULE}",
        request=KpiInput(partial=True),
        responses=KpiOutput,
        examples=example_pair(
            "a new English name",
            request={"name_en": "Meetings held in person"},
            response={**KPI_CREATED_EXAMPLE.value, "name_en": "Meetings held in person"},
        ),
        operation_id="kpis_partial_update",
    )
    def patch(self, request: Request, uid: str) -> Response:
        kpi = access.kpi_get_for_admin(actor=request.user, uid=uid)
        return service_answer(
            request, input=KpiInput, service=services.kpi_update, output=KpiOutput, partial=True,
            kpi=kpi,
        )  # fmt: skip


KpiUpdateApi = deprecated_twin(
    KpiDetailApi.patch,
    new="PATCH /api/v1/kpis/{uid}/",
    operation_id="kpis_update_old",
    method="patch",
    description=KPI_UPDATE_RULE,
)


class RoleKpiSetOutput(serializers.Serializer):
    sales_role = serializers.UUIDField()
    on = serializers.DateField()
    kpis = KpiOutput(many=True)


def _set_response(sales_role: SalesRole, on: datetime.date, kpis: list[KPI]) -> Response:
    return Response(RoleKpiSetOutput({"sales_role": sales_role.code, "on": on, "kpis": kpis}).data)


class RoleKpiListApi(APIView):
    @extend_schema(
        summary="A role's KPI set on a day",
        description="The 2–5 KPIs a sales role's managers report on the day `on` (the sets "
        "are effective-dated: a change from a date leaves earlier days as they were).",
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
    def change(
        self,
        request: Request,
        code: str,
        service: Callable[..., list[KPI]],
        data: object = None,
    ) -> Response:
        sales_role = access.sales_role_get_for_admin(actor=request.user, code=code)
        serializer = RoleKpiChangeInput(
            data=request.data if data is None else data, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        kpis = service(
            company=request.user.company,
            sales_role=sales_role,
            actor=request.user,
            **serializer.validated_data,
        )
        return _set_response(sales_role, serializer.validated_data["effective_from"], kpis)


class RoleKpiSetApi(_RoleKpiChangeApi, RoleKpiListApi):
    @extend_schema(
        summary="Add a KPI to a role's set from a day",
        description="Admins only. A set holds 2–5 KPIs: a sixth is refused with the reason. "
        "Answers the set as of `effective_from`.",
        request=RoleKpiChangeInput,
        responses={201: RoleKpiSetOutput},
        examples=example_pair(
            "meetings from January",
            request={"kpi": "meetings_held_api", "effective_from": "2027-01-01"},
            response={
                "sales_role": EXAMPLE_ROLE,
                "on": "2027-01-01",
                "kpis": [KPI_CREATED_EXAMPLE.value],
            },
            status="201",
        ),
        operation_id="sales_role_kpis_create",
    )
    def post(self, request: Request, code: str) -> Response:
        answer = _RoleKpiChangeApi.change(self, request, code, services.role_kpi_add)
        answer.status_code = status.HTTP_201_CREATED
        return answer


class RoleKpiItemApi(_RoleKpiChangeApi):
    @extend_schema(
        summary="Take a KPI out of a role's set from a day",
        description="Admins only. Days before `effective_from` keep it; fewer than 2 KPIs "
        "is refused with the reason. Answers the set as of `effective_from`.",
        parameters=[OpenApiParameter("effective_from", OpenApiTypes.DATE, required=True)],
        responses={200: RoleKpiSetOutput},
        operation_id="sales_role_kpis_destroy",
    )
    def delete(self, request: Request, code: str, kpi: str) -> Response:
        data = {"kpi": kpi, "effective_from": request.query_params.get("effective_from")}
        return self.change(request, code, services.role_kpi_remove, data=data)


def _old_role_kpi_path(
    service: Callable[..., list[KPI]], *, kpi: str, summary: str, new: str, operation_id: str
) -> type[APIView]:
    """`…/kpis/add/` or `…/kpis/remove/` (a POST with the KPI in the body), as they answered:
    the set, 200. A KPI whose code is `add` or `remove` is taken out by the item's DELETE,
    which reaches this path: it matches first."""

    class OldPath(_RoleKpiChangeApi):
        @extend_schema(
            summary=f"{summary} (old path)",
            description=deprecated_in_favour_of(new),
            request=RoleKpiChangeInput,
            responses=RoleKpiSetOutput,
            operation_id=operation_id,
            deprecated=True,
        )
        def post(self, request: Request, code: str) -> Response:
            return self.change(request, code, service)

        @extend_schema(exclude=True)
        def delete(self, request: Request, code: str) -> Response:
            return RoleKpiItemApi.delete(self, request, code, kpi=kpi)  # type: ignore[arg-type]

    return OldPath


RoleKpiAddApi = _old_role_kpi_path(
    services.role_kpi_add, kpi="add", summary="Add a KPI to a role's set",
    new="POST /api/v1/sales-roles/{code}/kpis/", operation_id="sales_role_kpis_add_old",
)  # fmt: skip
RoleKpiRemoveApi = _old_role_kpi_path(
    services.role_kpi_remove, kpi="remove", summary="Take a KPI out of a role's set",
    new="DELETE /api/v1/sales-roles/{code}/kpis/{kpi}/",
    operation_id="sales_role_kpis_remove_old",
)  # fmt: skip


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


PLAN_SET_DESCRIPTION = (
    "Sets (or replaces) the plan of a KPI for a month or week, of a manager or of a sales "
    "role (the default for its managers in every team: admins only). A manager's plan: an "
    "admin or the head of the manager's team. `value: null` clears the plan (204). The "
    "change is kept in the plan's history, and the totals are recomputed."
)


class PlanFilter(serializers.Serializer):
    month = MonthField(required=False, help_text="2026-12, or any day of it; default: this month")


class PlanListApi(APIView):
    @extend_schema(
        summary="Plans of a month",
        description="The plans starting in the month (monthly and weekly, per manager and role "
        "defaults). Admins and heads of sales.",
        parameters=[PlanFilter],
        responses=PlanOutput(many=True),
        examples=[
            OpenApiExample(
                "a bad month", parameter_only=("month", OpenApiParameter.QUERY), value="2026-13"
            ),
            OpenApiExample(
                "a bad month",
                value=error_body(
                    code="invalid",
                    message=f"month: {MONTH_FORMAT}",
                    fields={"month": [MONTH_FORMAT]},
                ),
                response_only=True,
                status_codes=["400"],
            ),
            OpenApiExample(
                "December", parameter_only=("month", OpenApiParameter.QUERY), value="2026-12"
            ),
        ],
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

    @operation(
        summary="Set or clear a plan",
        description=PLAN_SET_DESCRIPTION,
        request=PlanSetInput,
        responses={200: PlanOutput, 204: None},
        examples=example_pair(
            "a manager's December calls",
            request={
                "kpi": "calls",
                "period": "month",
                "start": "2026-12-01",
                "manager": EXAMPLE_MANAGER,
                "value": "1200",
            },
            response={
                "kpi": "calls",
                "period": "month",
                "start": "2026-12-01",
                "manager": EXAMPLE_MANAGER,
                "sales_role": None,
                "value": "1200.0000",
            },
        ),
        operation_id="plans_create",
    )
    def post(self, request: Request) -> Response:
        return service_answer(
            request, input=PlanSetInput, service=services.plan_set, output=PlanOutput,
            company=request.user.company,
        )  # fmt: skip


PlanSetApi = deprecated_twin(
    PlanListApi.post,
    new="POST /api/v1/plans/",
    operation_id="plans_set_old",
    summary="Set a plan (old path)",
)


# The working days of each month of 2026 by the Russian production calendar (247 in all).
RUSSIA_2026 = (15, 19, 21, 22, 19, 21, 23, 21, 22, 22, 20, 22)


class CalendarOutput(serializers.Serializer):
    year = serializers.IntegerField()
    working_days = serializers.IntegerField()
    months = serializers.DictField(child=serializers.IntegerField())
    provisional = serializers.BooleanField(
        help_text="The decree moving the year's days off is not yet in the installed calendar."
    )


class CalendarApi(APIView):
    @extend_schema(
        summary="Working days of a year",
        description="The company's working days per month: the country's production calendar "
        "with the company's own extra working days and days off. `provisional`: next year's "
        "decree is not yet in the installed calendar.",
        parameters=[OpenApiParameter("year", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses=CalendarOutput,
        examples=[
            OpenApiExample(
                "2026 in Russia",
                value={
                    "year": 2026,
                    "working_days": 247,
                    "months": dict(zip(map(str, range(1, 13)), RUSSIA_2026, strict=True)),
                    "provisional": False,
                },
                response_only=True,
            )
        ],
        operation_id="calendar_retrieve",
    )
    def get(self, request: Request, year: str) -> Response:
        year = int(year)
        if not 2000 <= year <= 2100:
            raise ApiValidationError({"year": [_("Год — от 2000 до 2100.")]})
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


@extend_schema_serializer(component_name="AbsenceCreateInput")
class AbsenceInput(serializers.Serializer):
    manager = CompanyRelatedField(User)
    kind = serializers.ChoiceField(choices=Absence.Kind.choices)
    start = serializers.DateField()
    end = serializers.DateField()


class AbsenceListApi(APIView):
    @extend_schema(
        summary="Absences",
        description="Vacations, sick leave and other absences (a day absent is not a working "
        "day of the manager: the plan splits over the others). Admins and heads of sales.",
        responses=AbsenceOutput(many=True),
        operation_id="absences_list",
    )
    def get(self, request: Request) -> Response:
        require_plan(request.user)
        absences = Absence.objects.filter(company=request.user.company).select_related("manager")
        return Response(AbsenceOutput(absences, many=True).data)

    @operation(
        summary="Record an absence",
        description="Admins only. The days may not overlap another absence of the same "
        "manager; the manager's plans and the totals of those days are recomputed.",
        request=AbsenceInput,
        responses={201: AbsenceOutput},
        examples=example_pair(
            "a week's vacation",
            request=(
                vacation := {
                    "manager": EXAMPLE_MANAGER,
                    "kind": "vacation",
                    "start": "2027-01-11",
                    "end": "2027-01-15",
                }
            ),
            response={"code": "8e7f6a5b-4c3d-4e2f-9a1b-0c9d8e7f6a5b", **vacation},
            status="201",
        ),
        operation_id="absences_create",
    )
    def post(self, request: Request) -> Response:
        require_configure(request.user)
        return service_answer(
            request, input=AbsenceInput, service=services.absence_create, output=AbsenceOutput,
            created=True, company=request.user.company,
        )  # fmt: skip


class AbsenceDetailApi(APIView):
    @extend_schema(
        summary="Remove an absence",
        description="Admins only; the days become working days of the manager again.",
        responses={204: None},
        operation_id="absences_destroy",
    )
    def delete(self, request: Request, code: str) -> Response:
        absence = access.absence_get_for_admin(actor=request.user, code=code)
        services.absence_delete(absence=absence, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


AbsenceCreateApi = deprecated_twin(
    AbsenceListApi.post, new="POST /api/v1/absences/", operation_id="absences_create_old"
)


class CalendarDayOutput(serializers.ModelSerializer):
    class Meta:
        model = CalendarDay
        fields = ["date", "is_working", "note"]


@extend_schema_serializer(component_name="CalendarDayInput")
class CalendarDayInput(serializers.Serializer):
    date = serializers.DateField()
    is_working = serializers.BooleanField(help_text="true: an extra working day; false: a day off")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CalendarDayListApi(APIView):
    @extend_schema(
        summary="The company's own calendar days",
        description="The company's extra working days and days off, which win over the "
        "country's calendar.",
        responses=CalendarDayOutput(many=True),
        operation_id="calendar_days_list",
    )
    def get(self, request: Request) -> Response:
        days = CalendarDay.objects.filter(company=request.user.company).order_by("date")
        return Response(CalendarDayOutput(days, many=True).data)

    @extend_schema(
        summary="Make a day working or a day off",
        description="Admins only; replaces the company's own setting of that day. The totals "
        "of the day's periods are recomputed.",
        request=CalendarDayInput,
        responses={200: CalendarDayOutput},
        examples=example_pair(
            "a Saturday worked",
            request=(saturday := {"date": "2027-01-09", "is_working": True, "note": "Перенос"}),
            response=saturday,
        ),
        operation_id="calendar_days_create",
    )
    def post(self, request: Request) -> Response:
        return service_answer(
            request, input=CalendarDayInput, service=services.calendar_day_set,
            output=CalendarDayOutput, company=request.user.company,
        )  # fmt: skip


class CalendarDayDetailApi(APIView):
    @extend_schema(
        summary="Back to the country's calendar",
        description="Admins only; the day is again as the production calendar has it.",
        responses={204: None},
        operation_id="calendar_days_destroy",
    )
    def delete(self, request: Request, date: str) -> Response:
        day = serializers.DateField().to_internal_value(date)
        get_object_or_404(CalendarDay.objects.filter(company=request.user.company), date=day)
        services.calendar_day_remove(company=request.user.company, date=day, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BandsSerializer(serializers.Serializer):
    band_red_below = serializers.DecimalField(max_digits=6, decimal_places=2)
    band_green_from = serializers.DecimalField(max_digits=6, decimal_places=2)


BANDS_RULE = (
    "Completion below `band_red_below` is red, from `band_green_from` green, yellow between "
    "(60 and 80 by default); a KPI may override them."
)


class BandsApi(APIView):
    @extend_schema(
        summary="The company's colour bands",
        description=BANDS_RULE,
        responses=BandsSerializer,
        operation_id="bands_retrieve",
    )
    def get(self, request: Request) -> Response:
        return Response(BandsSerializer(request.user.company).data)

    @operation(
        summary="Change the colour bands",
        description=f"Admins only. {BANDS_RULE}",
        request=BandsSerializer,
        responses=BandsSerializer,
        examples=example_pair(
            "red below 50, green from 90",
            request=(bands := {"band_red_below": "50.00", "band_green_from": "90.00"}),
            response=bands,
        ),
        operation_id="bands_partial_update",
    )
    def patch(self, request: Request) -> Response:
        require_configure(request.user)
        return service_answer(
            request, input=BandsSerializer, service=services.bands_set, output=BandsSerializer,
            company=request.user.company,
        )  # fmt: skip


BandsUpdateApi = deprecated_twin(
    BandsApi.patch, new="PATCH /api/v1/bands/", operation_id="bands_update_old"
)
