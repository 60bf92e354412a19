"""Stored totals for integrations and the dashboards: read-only; and the BI exports."""

import datetime
from collections.abc import Callable, Iterator

from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_common import EXAMPLE_MANAGER, ManagerInViewField, TeamInViewField
from accounts.api_common import query as query_of
from accounts.authentication import ApiTokenAuthentication, CompanyTokenAuthentication
from accounts.models import Company, CompanyToken, SalesRole, Team, User
from accounts.permissions import require_lead
from kpi.bands import Band
from kpi.models import KPI
from reports.figures import Sides
from rollups import exports, selectors
from rollups.figures import ReadingKind, figure_of_total
from rollups.models import Period, Scope, Total


class PeriodInput(serializers.Serializer):
    period = serializers.ChoiceField(choices=Period.choices, default=Period.MONTH)
    start = serializers.DateField(help_text="any day of the period")


def _percent(source: str | None, help_text: str) -> serializers.DecimalField:
    where = {"source": source} if source else {}
    return serializers.DecimalField(
        max_digits=7, decimal_places=2, read_only=True, allow_null=True, help_text=help_text,
        **where,
    )  # fmt: skip


# A side of a figure as the answer gives it: the decimal as text, null where the KPI has no
# second source (OpenApiTypes.DECIMAL would say a number, which the answer is not).
FIGURE_TEXT = {
    "type": "string",
    "format": "decimal",
    "pattern": r"^-?\d+(\.\d+)?$",
    "nullable": True,
}


class TotalOutput(serializers.ModelSerializer):
    """A stored total with the figure every screen shows of it (rollups.figures.Figure)."""

    kpi = serializers.CharField(source="kpi.code")
    subject = serializers.SerializerMethodField(help_text="the manager's, team's or company code")
    advice = serializers.SerializerMethodField(help_text="what the share says about the plans")
    completion = _percent(
        None,
        "actual ÷ the whole period's plan × 100 (plan ÷ actual for a lower-is-better KPI); of "
        "a running period that is the share of the whole plan done already, neither reading: "
        "see done_so_far_completion and pace_completion",
    )
    plan_to_date = serializers.DecimalField(
        max_digits=24, decimal_places=4, read_only=True, allow_null=True,
        help_text="while the period runs: the plan of the working days elapsed (the plan × "
        "elapsed ÷ working days for a summed KPI, the target for any other), in the KPI's unit",
    )  # fmt: skip
    done_so_far_completion = _percent(
        "figure.done_so_far_completion",
        "done so far («выполнено на сегодня»): actual ÷ plan_to_date × 100 while the period "
        "runs; of a finished period, its completion",
    )
    pace_completion = _percent(
        "figure.pace_completion",
        "pace («по темпу»): forecast ÷ the whole period's plan × 100 while the period runs; "
        "null once it is over",
    )
    band_reading = serializers.ChoiceField(
        choices=[(kind.value, kind.value) for kind in ReadingKind],
        source="figure.band_reading",
        read_only=True,
        help_text="which reading colours band: pace while the period runs, done (its "
        "completion) once it is over; the same rule as every screen",
    )
    band = serializers.ChoiceField(
        choices=[(band.value, band.value) for band in Band],
        source="figure.shown_band",
        read_only=True,
        help_text="the traffic light, as every screen shows it: the colour of the reading "
        "named by band_reading (pace_completion while the period runs, done_so_far_completion "
        "once it is over), rounded to a whole percent (59.96 is «60 %», yellow); none without "
        "a plan or a pace",
    )

    class Meta:
        model = Total
        fields = [
            "scope",
            "subject",
            "kpi",
            "period",
            "start",
            "end",
            "actual",
            "plan",
            "completion",
            "band",
            "band_reading",
            "plan_to_date",
            "done_so_far_completion",
            "pace_completion",
            "days_reported",
            "working_days",
            "elapsed_days",
            "forecast",
            "at_risk",
            "meeting_plan",
            "share_meeting_plan",
            "advice",
            "differs",
            "manager_value",
            "source_value",
            "computed_at",
        ]
        # The same unit as the reports' figures: a duration in seconds.
        extra_kwargs = {
            field: {"help_text": "in the KPI's unit (a duration in seconds)"}
            for field in ("actual", "plan", "forecast")
        }

    # The figure of record (reports/figures.py): `actual` is it; for a KPI checked against
    # a source, what the managers typed and what the source recorded, where both have figures.
    differs = serializers.SerializerMethodField(
        help_text="the managers' and the source's figures of the period differ (the KPI's "
        "figure of record is `source` or `checked`); `actual` is the figure of record"
    )
    manager_value = serializers.SerializerMethodField(help_text="what the managers typed")
    source_value = serializers.SerializerMethodField(help_text="what the CRM or telephony says")

    def _sides(self, total: Total) -> Sides | None:
        return self.context.get("sides", {}).get((total.scope, total.subject_id, total.kpi_id))

    def get_differs(self, total: Total) -> bool:
        sides = self._sides(total)
        return sides is not None and sides.differs

    @extend_schema_field(FIGURE_TEXT)
    def get_manager_value(self, total: Total) -> str | None:
        sides = self._sides(total)
        # A side not known is null, not the text "None".
        return None if sides is None or sides.manager_value is None else str(sides.manager_value)

    @extend_schema_field(FIGURE_TEXT)
    def get_source_value(self, total: Total) -> str | None:
        sides = self._sides(total)
        # A side not known is null, not the text "None".
        return None if sides is None or sides.source_value is None else str(sides.source_value)

    def get_subject(self, total: Total) -> str:
        return str(self.context["codes"].get((total.scope, total.subject_id), ""))

    def get_advice(self, total: Total) -> str:
        return selectors.plan_advice(total.share_meeting_plan)


class BenchmarkOutput(serializers.Serializer):
    sales_role = serializers.UUIDField()
    kpi = serializers.CharField()
    manager = serializers.UUIDField()
    completion = serializers.DecimalField(max_digits=7, decimal_places=2)
    actual = serializers.DecimalField(max_digits=24, decimal_places=4, allow_null=True)


PERIOD_PARAMETERS = [
    OpenApiParameter("period", OpenApiTypes.STR, enum=[c for c, _label in Period.choices]),
    OpenApiParameter("start", OpenApiTypes.DATE, required=True),
]


def _codes(totals: list[Total]) -> dict[tuple[str, int], object]:
    users = {t.subject_id for t in totals if t.scope == Scope.MANAGER}
    teams = {t.subject_id for t in totals if t.scope == Scope.TEAM}
    codes: dict[tuple[str, int], object] = {
        (Scope.MANAGER, pk): code
        for pk, code in User.objects.filter(pk__in=users).values_list("pk", "code")
    }
    codes.update(
        ((Scope.TEAM, pk), code)
        for pk, code in Team.objects.filter(pk__in=teams).values_list("pk", "code")
    )
    return codes


class TotalFilter(serializers.Serializer):
    team = TeamInViewField(
        required=False,
        help_text="a team you see: its total and its managers'; another team is a 400",
    )
    manager = ManagerInViewField(
        required=False, help_text="a manager you see: their totals; anyone else is a 400"
    )


def _narrowed(totals: QuerySet[Total], filters: dict) -> QuerySet[Total]:
    """`?team=` keeps the team's row and its managers' rows, `?manager=` the manager's."""
    if filters.get("team"):
        team = filters["team"]
        managers = User.objects.filter(team=team).values("pk")
        totals = totals.filter(
            Q(scope=Scope.TEAM, subject_id=team.pk)
            | Q(scope=Scope.MANAGER, subject_id__in=managers)
        )
    if filters.get("manager"):
        totals = totals.filter(scope=Scope.MANAGER, subject_id=filters["manager"].pk)
    return totals


class TotalListApi(APIView):
    @extend_schema(
        parameters=[*PERIOD_PARAMETERS, TotalFilter],
        responses=TotalOutput(many=True),
        operation_id="totals_list",
        summary="Totals of a period",
        description="The stored totals of the managers, teams and company you see for a day, "
        "ISO week or month: actual, plan, completion and both readings of a running period "
        "(`done_so_far_completion`, `pace_completion`), the light (`band`, `band_reading`), "
        "forecast and at-risk flag; the same figures as every screen. `?team=` keeps a "
        "team's row and its managers' rows, `?manager=` a manager's rows.",
    )
    def get(self, request: Request) -> Response:
        query = PeriodInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query_of(TotalFilter, request)
        rows = total_rows(
            company=request.user.company,
            viewer=request.user,
            narrow=lambda totals: _narrowed(totals, filters),
            **query.validated_data,
        )
        return Response(rows)


def total_rows(
    *,
    company: Company,
    viewer: User | None,
    period: str,
    start: datetime.date,
    narrow: Callable[[QuerySet[Total]], QuerySet[Total]] | None = None,
) -> list[dict]:
    """The totals of a period as the API and the BI export give them (TotalOutput)."""
    stored = selectors.totals_of_period(company=company, viewer=viewer, period=period, start=start)
    totals = list(narrow(stored) if narrow else stored)
    codes = _codes(totals)
    for total in totals:
        total.kpi.company = company  # the KPI's bands fall back to its company's
        # The readings and the light of the dashboard's own Figure, never a second rule.
        total.figure = figure_of_total(total, total.kpi)
    codes[(Scope.COMPANY, company.pk)] = company.code
    sides = selectors.totals_sides(company=company, totals=totals)
    context = {"codes": codes, "sides": sides}
    return TotalOutput(totals, many=True, context=context).data


class BenchmarkListApi(APIView):
    @extend_schema(
        parameters=PERIOD_PARAMETERS,
        responses=BenchmarkOutput(many=True),
        operation_id="totals_best_on_role",
        summary="The best manager on each role",
        description="Per sales role and KPI, the manager with the highest completion of the "
        "period (the benchmark each manager is compared with).",
    )
    def get(self, request: Request) -> Response:
        query = PeriodInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        company = request.user.company
        best = selectors.best_on_role(company=company, **query.validated_data)
        roles = dict(SalesRole.objects.filter(company=company).values_list("pk", "code"))
        people = dict(
            User.objects.filter(pk__in=[b.manager_id for b in best.values()]).values_list(
                "pk", "code"
            )
        )
        kpis = dict(KPI.objects.filter(company=company).values_list("pk", "code"))
        rows = [
            {
                "sales_role": roles[b.sales_role_id],
                "kpi": kpis[b.kpi_id],
                "manager": people[b.manager_id],
                "completion": b.completion,
                "actual": b.actual,
            }
            for b in best.values()
        ]
        return Response(BenchmarkOutput(rows, many=True).data)


# --- Exports for BI tools -------------------------------------------------------------------

EXPORT_AUTH = [
    CompanyTokenAuthentication,
    ApiTokenAuthentication,
    SessionAuthentication,
]
MEDIA = {"csv": "text/csv", "jsonl": "application/x-ndjson"}
EXPORT_ACCESS = (
    " Heads of sales (their teams) and admins, or a company token with the `exports:read` "
    "scope (`Authorization: Bearer <key>`, the whole company; made by an admin with "
    "`POST /api/v1/company-tokens/`). Streamed; the column names are stable (new ones are "
    "only ever added at the end). Numbers in the KPI's unit with a decimal point (a duration "
    "in seconds), dates ISO."
)


def _export_viewer(request: Request) -> User | None:
    """The viewer whose view the export is cut to; None for a company token (the company)."""
    if isinstance(request.auth, CompanyToken):
        if CompanyToken.Scope.EXPORTS_READ not in request.auth.scopes:
            raise PermissionDenied(_("У этого токена нет права на выгрузки (exports:read)."))
        return None
    require_lead(request.user)
    return request.user


def _streamed(chunks: Iterator[str], fmt: str, name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=f"{MEDIA[fmt]}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


class ExportTotalsApi(APIView):
    authentication_classes = EXPORT_AUTH

    def get(self, request: Request, fmt: str) -> StreamingHttpResponse:
        viewer = _export_viewer(request)
        query = PeriodInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        company = request.user.company
        rows = total_rows(company=company, viewer=viewer, **query.validated_data)
        kpi_names = {kpi.code: kpi.name for kpi in KPI.objects.filter(company=company)}
        table = list(exports.total_table(company=company, rows=rows, kpi_names=kpi_names))
        write = exports.as_csv if fmt == "csv" else exports.as_json_lines
        start = query.validated_data["start"].isoformat()
        return _streamed(write(table, exports.TOTAL_COLUMNS), fmt, f"totals-{start}")


class FactsInput(serializers.Serializer):
    start = serializers.DateField(help_text="the first day")
    end = serializers.DateField(help_text="the last day, included; at most 366 days in all")

    def validate(self, data: dict) -> dict:
        if data["end"] < data["start"]:
            raise serializers.ValidationError({"end": _("Конец периода раньше его начала.")})
        if (data["end"] - data["start"]).days + 1 > 366:
            raise serializers.ValidationError({"end": _("Период длиннее 366 дней.")})
        return data


class ExportFactsApi(APIView):
    authentication_classes = EXPORT_AUTH

    def get(self, request: Request, fmt: str) -> StreamingHttpResponse:
        viewer = _export_viewer(request)
        query = FactsInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        company = request.user.company
        values = exports.facts_of(
            company=company,
            viewer=viewer,
            first=query.validated_data["start"],
            last=query.validated_data["end"],
        )
        write = exports.as_csv if fmt == "csv" else exports.as_json_lines
        chunks = exports.in_company(
            company, write(exports.fact_table(values), exports.FACT_COLUMNS)
        )
        start = query.validated_data["start"].isoformat()
        return _streamed(chunks, fmt, f"facts-{start}")


# One row of each table as the demo company's December 2026 gives it.
EXAMPLE_TOTAL = {
    "period": "month", "start": "2026-12-01", "end": "2026-12-31", "scope": "manager",
    "subject_code": EXAMPLE_MANAGER, "subject_name": "Иванов Иван", "kpi_code": "calls",
    "kpi_name": "Звонки", "actual": "212", "plan": "800", "plan_to_date": "190.4762",
    "completion": "111.30", "done_so_far_completion": "111.30", "pace_completion": "111.30",
    "band": "green", "band_reading": "done", "forecast": "890.4", "at_risk": False,
    "working_days": 21, "elapsed_days": 5, "days_reported": 5, "share_meeting_plan": None,
    "computed_at": "2026-12-05T03:00:00+03:00",
}  # fmt: skip
EXAMPLE_FACT = {
    "date": "2026-12-04", "manager_code": EXAMPLE_MANAGER, "manager_name": "Иванов Иван",
    "kpi_code": "calls", "kpi_name": "Звонки", "value": "42", "value_source": "manual",
    "report_code": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e", "report_version": 1,
    "submitted_at": "2026-12-04T18:05:00+03:00", "updated_at": "2026-12-04T18:05:00+03:00",
}  # fmt: skip


def _document_export(view: type[APIView], fmt: str, what: str, query: object) -> type[APIView]:
    """One documented view class per format: the two paths differ in their media type."""
    columns = exports.TOTAL_COLUMNS if "totals" in what else exports.FACT_COLUMNS
    row = EXAMPLE_TOTAL if "totals" in what else EXAMPLE_FACT
    write = exports.as_csv if fmt == "csv" else exports.as_json_lines
    schema = extend_schema(
        summary=f"Export {what} ({fmt.upper()})",
        description=f"{what.capitalize()} as a flat table, columns: "
        + ", ".join(f"`{c}`" for c in columns)
        + "."
        + EXPORT_ACCESS,
        parameters=[query],
        responses={(200, MEDIA[fmt]): OpenApiTypes.STR},
        # Written by the export's own writer, so the example has its real columns.
        examples=[
            OpenApiExample(
                "a row",
                value="".join(write([row], columns)),
                response_only=True,
                media_type=MEDIA[fmt],
            )
        ],
        operation_id=f"exports_{what.split()[0]}_{fmt}",
    )

    def get(self: APIView, request: Request, fmt: str) -> StreamingHttpResponse:
        return view.get(self, request, fmt)  # type: ignore[attr-defined]

    # A function of its own: extend_schema marks the function it decorates.
    return type(f"{view.__name__}{fmt.capitalize()}", (view,), {"get": schema(get)})


ExportTotalsCsvApi = _document_export(ExportTotalsApi, "csv", "totals of a period", PeriodInput)
ExportTotalsJsonlApi = _document_export(ExportTotalsApi, "jsonl", "totals of a period", PeriodInput)
ExportFactsCsvApi = _document_export(ExportFactsApi, "csv", "facts of days", FactsInput)
ExportFactsJsonlApi = _document_export(ExportFactsApi, "jsonl", "facts of days", FactsInput)
