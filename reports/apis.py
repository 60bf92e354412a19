"""The reports API: the same rules and messages as the form, for integrations and mobile."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions
from accounts.api_common import (
    EXAMPLE_MANAGER,
    EXPAND,
    ManagerCodeField,
    ManagerInViewField,
    cursor_or_legacy,
    deprecated_twin,
    example_pair,
    operation,
    page_answer,
    query,
)
from accounts.api_errors import ErrorOutput, error_body
from accounts.models import User
from accounts.permissions import of_managers_in_view
from kpi.values import parse_plain
from reports import access, services
from reports.models import DailyReport, ReportChange, ReportValue

# One unit per field, in and out: what GET gives can be posted back unchanged.
FIGURE_UNIT = (
    "in the KPI's unit: a count, money, a percent or a number as a decimal; "
    "a duration in seconds (5400 = 1 h 30 min)"
)


class ValueOutput(serializers.ModelSerializer):
    kpi = serializers.CharField(source="kpi.code")

    class Meta:
        model = ReportValue
        fields = ["kpi", "value", "source"]
        extra_kwargs = {"value": {"help_text": f"the figure {FIGURE_UNIT}"}}


class ChangeOutput(serializers.ModelSerializer):
    kpi = serializers.CharField(source="kpi.code")
    changed_by = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = ReportChange
        fields = ["kpi", "old_value", "new_value", "changed_by", "changed_at", "reason"]
        extra_kwargs = {
            "old_value": {"help_text": f"the figure before, {FIGURE_UNIT}"},
            "new_value": {"help_text": f"the figure after, {FIGURE_UNIT}"},
        }


class ReportOutput(serializers.ModelSerializer):
    manager = ManagerCodeField(source="manager.code", read_only=True)
    values = ValueOutput(many=True, read_only=True)
    changes = ChangeOutput(many=True, read_only=True)

    class Meta:
        model = DailyReport
        fields = [
            "code",
            "manager",
            "date",
            "submitted_at",
            "updated_at",
            "version",
            "values",
            "changes",
        ]


class ReportInput(serializers.Serializer):
    values = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        help_text=(
            f"KPI code → the figure {FIGURE_UNIT}; a JSON number or a string of digits with "
            "an optional decimal point (1500.50, 5400). Bounds: a count is whole, at most "
            "10 000 a day; money has two decimals, at most 10¹²; a day's duration is at most "
            "86 400 s; a percent is 0–1 000."
        ),
    )
    version = serializers.IntegerField(
        required=False, allow_null=True, help_text="the version you saw; 0 or absent: a new report"
    )
    confirmed = serializers.BooleanField(default=False, help_text="yes, unusual figures are right")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ReportSubmitInput(ReportInput):
    date = serializers.DateField()
    manager = serializers.UUIDField(required=False, help_text="for heads and admins; default: you")


class ConflictOutput(ErrorOutput):
    needs_confirmation = serializers.DictField(
        child=serializers.CharField(), required=False, help_text="KPI code → the question"
    )
    conflict = serializers.CharField(required=False)
    version = serializers.IntegerField(required=False, help_text="the stored version")
    stored = serializers.DictField(
        child=serializers.CharField(), required=False, help_text="KPI code → the stored figure"
    )


def _answer(submission: services.Submission) -> Response:
    report = DailyReport.objects.prefetch_related("values__kpi", "changes__kpi").get(
        pk=submission.report.pk
    )
    code = status.HTTP_201_CREATED if submission.created else status.HTTP_200_OK
    return Response(ReportOutput(report).data, status=code)


def _figures(values: dict[str, str]) -> dict[str, Decimal | str]:
    """The API's figures are numbers in the KPI's unit, never read as typed (where a bare
    number of a duration would be minutes); a blank one is left for the service to name."""
    figures: dict[str, Decimal | str] = {}
    errors: dict[str, str] = {}
    for code, text in values.items():
        if not text.strip():
            figures[code] = text
            continue
        try:
            figures[code] = parse_plain(text)
        except DjangoValidationError as refusal:
            errors[code] = refusal.messages[0]
    if errors:
        raise DjangoValidationError(errors)
    return figures


def _submit(request: Request, manager: User, day: datetime.date, data: dict) -> Response:
    try:
        submission = services.report_submit(
            company=request.user.company,
            manager=manager,
            day=day,
            values=_figures(data["values"]),
            actor=request.user,
            version=data.get("version") or 0,
            confirmed=data["confirmed"],
            reason=data["reason"],
        )
    except services.NeedsConfirmation as question:
        body = error_body(
            code="needs_confirmation",
            message=_("Значения необычно велики: проверьте их и отправьте с confirmed: true."),
            fields={code: [text] for code, text in question.questions.items()},
        )
        return Response(
            {**body, "needs_confirmation": question.questions}, status=status.HTTP_409_CONFLICT
        )
    except services.ReportConflict as conflict:
        return Response(
            {
                **error_body(code="conflict", message=conflict.message),
                "conflict": conflict.message,
                "version": conflict.report.version,
                "stored": {k: str(v) for k, v in conflict.stored.items()},
            },
            status=status.HTTP_409_CONFLICT,
        )
    return _answer(submission)


class ReportFilter(serializers.Serializer):
    date = serializers.DateField(required=False, help_text="the report's day")
    manager = ManagerInViewField(
        required=False, help_text="a manager you see; anyone else is a 400, not an empty list"
    )


FILED = {
    "date": "2026-12-01",
    "manager": EXAMPLE_MANAGER,
    "values": {"calls": "60", "long_calls": "25", "talk_time": "5400", "leads": "4"},
}
REPORT = {
    "code": "4d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a",
    "manager": EXAMPLE_MANAGER,
    "date": "2026-12-01",
    "submitted_at": "2026-12-01T18:40:00+03:00",
    "updated_at": "2026-12-01T18:40:00+03:00",
    "version": 1,
    "values": [
        {"kpi": code, "value": f"{value}.0000", "source": "manual"}
        for code, value in FILED["values"].items()
    ],
    "changes": [],
}
STALE = (
    "Отчёт за этот день уже отправлен из другой вкладки или с другого устройства, ваши цифры "
    "не сохранены. Звонки — сохранено 45, у вас 42. Проверьте и отправьте ещё раз, если "
    "верны ваши."
)
CONFLICT_409 = OpenApiResponse(
    ConflictOutput,
    description="`needs_confirmation`: figures far above the manager's usual ones; send "
    "again with `confirmed: true` if they are right. `conflict`: the report changed since "
    "the `version` you sent (`stored` holds what is saved now).",
    examples=[
        OpenApiExample(
            "far above usual",
            value={
                **error_body(
                    code="needs_confirmation",
                    message="Значения необычно велики: проверьте их и отправьте с confirmed: true.",
                    fields={
                        "calls": ["420 — намного больше обычного (обычно около 40). Всё верно?"]
                    },
                ),
                "needs_confirmation": {
                    "calls": "420 — намного больше обычного (обычно около 40). Всё верно?"
                },
            },
            status_codes=["409"],
        ),
        OpenApiExample(
            "changed meanwhile",
            value={
                **error_body(code="conflict", message=STALE),
                "conflict": STALE,
                "version": 2,
                "stored": {"calls": "45"},
            },
            status_codes=["409"],
        ),
    ],
)
SUBMIT_DESCRIPTION = (
    "A manager files their own report; a head of sales or an admin names the `manager` "
    "(their team's, on any day). The same rules and messages as the form: the KPIs of the "
    "manager's role on that day, the bounds of each unit, no future day, the back-dating "
    "window, a closed month. 201 for a new report, 200 for a change of an existing one "
    "(`version` must be the one you saw; the history keeps every change)."
)


class ReportListApi(APIView):
    # Was the newest 200 reports, older ones out of reach: a stable cursor reaches them all.
    # The bare list stays the answer without ?page_size=/?cursor= for one release.
    pagination_class = cursor_or_legacy("-date", "-id", legacy="list")

    @extend_schema(
        summary="Reports",
        description="The end-of-day reports of the managers you see, newest day first, with "
        "their figures and history. With `?page_size=` (up to 500; or a `cursor`): pages "
        "with a stable cursor, follow `next` until it is null (a report filed meanwhile "
        "neither repeats nor pushes another off a page). Without either, for one more "
        "release, the old answer: a bare list of the newest 200 (deprecated). "
        "`?expand=manager` gives names.",
        parameters=[ReportFilter, EXPAND],
        responses=ReportOutput(many=True),
        operation_id="reports_list",
    )
    def get(self, request: Request) -> Response:
        user = request.user
        filters = query(ReportFilter, request)
        reports = of_managers_in_view(
            DailyReport.objects.filter(company=user.company).select_related("manager"),
            viewer=user,
        )
        if filters.get("date"):
            reports = reports.filter(date=filters["date"])
        if filters.get("manager"):
            reports = reports.filter(manager=filters["manager"])
        reports = reports.prefetch_related("values__kpi", "changes__kpi").order_by("-date", "-id")
        return page_answer(self, request, reports, ReportOutput, fields=False)

    @operation(
        summary="File a report",
        description=SUBMIT_DESCRIPTION,
        request=ReportSubmitInput,
        responses={201: ReportOutput, 200: ReportOutput, 409: CONFLICT_409},
        examples=[
            OpenApiExample("a day's report", value=FILED, request_only=True),
            # Its times are made up on each call: not the replayed pair.
            OpenApiExample(
                "the report filed", value=REPORT, response_only=True, status_codes=["201"]
            ),
        ],
        operation_id="reports_create",
    )
    def post(self, request: Request) -> Response:
        return _submit_new(request)


def _submit_new(request: Request) -> Response:
    serializer = ReportSubmitInput(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    manager = request.user
    if data.get("manager"):
        manager = User.objects.filter(
            company=request.user.company, code=data["manager"], role=User.Role.MANAGER
        ).first()
        if manager is None:
            raise ApiValidationError({"manager": [_("Нет такого менеджера.")]})
        if manager.pk != request.user.pk:
            permissions.require_correct(request.user, manager)
    elif not request.user.is_manager:
        raise ApiValidationError({"manager": [_("Укажите менеджера.")]})
    return _submit(request, manager, data["date"], data)


ReportSubmitApi = deprecated_twin(
    ReportListApi.post, new="POST /api/v1/reports/", operation_id="reports_submit_old"
)


def _correct(request: Request, code: str) -> Response:
    report = access.report_get_for_viewer(actor=request.user, code=code)
    serializer = ReportInput(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = dict(serializer.validated_data)
    if data.get("version") is None:
        raise ApiValidationError(
            {"version": [_("Передайте version отчёта, который вы исправляете.")]}
        )
    return _submit(request, report.manager, report.date, data)


CORRECT_DESCRIPTION = (
    "A correction keeps the history (who, when, old and new figure, the reason). The manager "
    "within their back-dating window, their head or an admin on any day; a closed month is "
    "refused. `version` is the report's version you saw."
)


class ReportDetailApi(APIView):
    @extend_schema(
        summary="A report",
        description="One report of a manager you see, with its figures and history.",
        responses=ReportOutput,
        operation_id="reports_retrieve",
    )
    def get(self, request: Request, code: str) -> Response:
        report = access.report_get_for_viewer(actor=request.user, code=code)
        return Response(ReportOutput(report).data)

    @operation(
        summary="Correct a report",
        description=CORRECT_DESCRIPTION,
        request=ReportInput,
        responses={200: ReportOutput, 409: CONFLICT_409},
        examples=example_pair(
            "a figure corrected",
            request={
                "values": {**FILED["values"], "calls": "61"},
                "version": 1,
                "reason": "Опечатка",
            },
            response={
                **REPORT,
                "version": 2,
                "updated_at": "2026-12-02T09:05:00+03:00",
                "values": [
                    {**v, "value": "61.0000"} if v["kpi"] == "calls" else v
                    for v in REPORT["values"]
                ],
                "changes": [
                    {
                        "kpi": "calls",
                        "old_value": "60.0000",
                        "new_value": "61.0000",
                        "changed_by": "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901",
                        "changed_at": "2026-12-02T09:05:00+03:00",
                        "reason": "Опечатка",
                    }
                ],
            },
        ),
        operation_id="reports_partial_update",
    )
    def patch(self, request: Request, code: str) -> Response:
        return _correct(request, code)


ReportCorrectApi = deprecated_twin(
    ReportDetailApi.patch,
    new="PATCH /api/v1/reports/{code}/",
    operation_id="reports_correct_old",
)
