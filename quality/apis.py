"""Call scores for integrations: read them as the pages show them, and score a call.

The same rules and messages as the pages: a manager reads their own scores, a head of sales
their teams', a controller and an admin the company's (`selectors.scores_in_view`); scoring
goes through `services.call_score_save`, so scoring a call again is correcting one's own
score, never a second one. The pages have no deleting of a score, nor has the API.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_common import (
    EXPAND,
    FIELDS,
    ManagerCodeField,
    ManagerInViewField,
    MonthField,
    cursor,
    example_pair,
    page_answer,
    query,
)
from accounts.api_errors import error_body
from accounts.models import User
from accounts.permissions import in_view_of, may_score
from crm_sync.models import Call
from kpi.periods import month_bounds
from quality import access, selectors, services
from quality.models import CallScore, CallType, ItemMark


def require_scores_seen(actor: User) -> None:
    """The scores page's rule: scorers and managers (their own); nobody else."""
    if not (may_score(actor) or actor.is_manager):
        raise PermissionDenied(
            _("Оценки звонков видят менеджер (свои), руководитель, контролёр и администратор.")
        )


@extend_schema_field(OpenApiTypes.UUID)
class ScoredManagerField(ManagerInViewField):
    """A manager whose scores the caller sees: a controller, every manager of the company."""

    def to_internal_value(self, data: object) -> User:
        viewer = self.context["request"].user
        managers = (
            selectors.managers_to_check(company=viewer.company, viewer=viewer)
            if may_score(viewer)
            else in_view_of(viewer)
        )
        code = serializers.UUIDField(error_messages={"invalid": self.error_messages["invalid"]})
        manager = managers.filter(code=code.to_internal_value(data)).first()
        if manager is None:
            self.fail("unseen")
        return manager


class ScoreFilter(serializers.Serializer):
    month = MonthField(required=False, help_text="the month of the call: 2026-12, or a day of it")
    manager = ScoredManagerField(
        required=False, help_text="a manager whose scores you see; anyone else is a 400"
    )
    call_type = serializers.UUIDField(required=False, help_text="a call type's code")


class MarkOutput(serializers.ModelSerializer):
    item = serializers.UUIDField(source="item.code")
    text = serializers.CharField(source="item.text")

    class Meta:
        model = ItemMark
        fields = ["item", "text", "done", "weight"]


class ScoreOutput(serializers.ModelSerializer):
    call = serializers.UUIDField(source="call.code")
    call_type = serializers.UUIDField(source="call_type.code")
    call_type_name = serializers.CharField(source="call_type.name")
    manager = ManagerCodeField(source="manager.code", read_only=True)
    controller = serializers.UUIDField(source="controller.code", allow_null=True, default=None)
    score = serializers.DecimalField(
        max_digits=5, decimal_places=2, help_text="percent of the checklist's weight done"
    )

    class Meta:
        model = CallScore
        fields = [
            "code", "call", "call_type", "call_type_name", "manager", "controller", "call_date",
            "scored_on", "score", "comment", "updated_at",
        ]  # fmt: skip


class ScoreDetailOutput(ScoreOutput):
    marks = serializers.SerializerMethodField()

    class Meta(ScoreOutput.Meta):
        fields = [*ScoreOutput.Meta.fields, "marks"]

    @extend_schema_field(MarkOutput(many=True))
    def get_marks(self, score: CallScore) -> list[dict]:
        return MarkOutput(selectors.marks_of(score), many=True).data


class ScoreInput(serializers.Serializer):
    call = serializers.UUIDField(help_text="the call's code (`GET /api/v1/calls/`)")
    call_type = serializers.UUIDField(help_text="the call type whose checklist is used")
    done = serializers.ListField(
        child=serializers.UUIDField(),
        allow_empty=True,
        help_text="codes of the checklist points the manager did; the others count as missed",
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="")


def _scores(request: Request) -> QuerySet[CallScore]:
    require_scores_seen(request.user)
    filters = query(ScoreFilter, request)
    scores = selectors.scores_in_view(company=request.user.company, viewer=request.user)
    if filters.get("month"):
        first, last = month_bounds(filters["month"])
        scores = scores.filter(call_date__gte=first, call_date__lte=last)
    if filters.get("manager"):
        scores = scores.filter(manager=filters["manager"])
    if filters.get("call_type"):
        scores = scores.filter(call_type__code=filters["call_type"])
    return scores.order_by("-call_date", "-id")


REQUIRED = "Обязательное поле."
SCORE_EXAMPLES = [
    OpenApiExample(
        "a score",
        value={
            "code": "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
            "call": "5b0e7c1e-3f43-4a57-9d7a-2f7d1c0b6a11",
            "call_type": "0d7f3c52-8f6e-4c5e-b1a3-6a9b3b7c9e21",
            "call_type_name": "Выявление потребностей",
            "manager": "7c6b5a49-3827-4165-9e4d-3c2b1a0f9e8d",
            "controller": "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901",
            "call_date": "2026-12-04",
            "scored_on": "2026-12-05",
            "score": "50.00",
            "comment": "Не выяснили бюджет.",
            "updated_at": "2026-12-05T10:15:00+03:00",
            "marks": [
                {
                    "item": "9a4f0c3e-2b71-4b8f-8d0e-1c2b3a4d5e6f",
                    "text": "Поздоровался",
                    "done": True,
                    "weight": 1,
                },
                {
                    "item": "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9",
                    "text": "Выяснил бюджет",
                    "done": False,
                    "weight": 1,
                },
            ],
        },
        response_only=True,
        status_codes=["201"],
    ),
    OpenApiExample("nothing named", value={"comment": "?"}, request_only=True),
    OpenApiExample(
        "nothing named",
        value=error_body(
            code="invalid",
            message="Проверьте поля: call, call_type, done.",
            fields={"call": [REQUIRED], "call_type": [REQUIRED], "done": [REQUIRED]},
        ),
        response_only=True,
        status_codes=["400"],
    ),
]


class ScoreListApi(APIView):
    pagination_class = cursor("-call_date", "-id")

    @extend_schema(
        parameters=[ScoreFilter, FIELDS, EXPAND],
        responses=ScoreOutput(many=True),
        operation_id="scores_list",
        summary="Call scores",
        description="The call scores you see, newest call first: a manager their own, a head "
        "of sales their teams', a quality controller and an admin the company's (as the "
        "scores page). Pages of 100 (`?page_size=` up to 500) with a stable cursor: follow "
        "`next` until it is null. `?fields=` keeps the fields named, `?expand=manager` gives "
        "the manager's names.",
    )
    def get(self, request: Request) -> Response:
        return page_answer(self, request, _scores(request), ScoreOutput)

    @extend_schema(
        request=ScoreInput,
        responses={201: ScoreDetailOutput, 200: ScoreDetailOutput},
        operation_id="scores_create",
        summary="Score a call",
        description="A quality controller, an admin or the head of the call's manager's "
        "team scores a call against the checklist of a call type: `done` lists the points "
        "the manager did. Scoring the same call and type again replaces your own score "
        "(200) instead of adding one (201), as on the page; the manager's «Качество "
        "звонков» KPI of that day is recomputed. Refused with the page's reason: a call "
        "without a manager, a call type no longer checked, a point not of its checklist. "
        'For example `{"call": "<call code>", "call_type": "<type code>", '
        '"done": ["<item code>"], "comment": "Не выяснили бюджет."}`.',
        examples=SCORE_EXAMPLES,
    )
    def post(self, request: Request) -> Response:
        serializer = ScoreInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        call = access.call_get_for_scorer(actor=request.user, code=str(data["call"]))
        call_type = access.call_type_get(actor=request.user, code=str(data["call_type"]))
        existed = call.scores.filter(call_type=call_type, controller=request.user).exists()
        score = _save(request, call, call_type, data)
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(ScoreDetailOutput(score).data, status=code)


class ScoreChangeInput(serializers.Serializer):
    done = serializers.ListField(
        child=serializers.UUIDField(),
        allow_empty=True,
        help_text="codes of the checklist points the manager did; the others count as missed",
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="")


def _save(request: Request, call: Call, call_type: CallType, data: dict) -> CallScore:
    """Through the page's service; a point not of the checklist is named under `done`."""
    items = {str(item.code): item.pk for item in call_type.items.all()}
    if any(str(code) not in items for code in data["done"]):
        raise serializers.ValidationError(
            {"done": [_("Отмеченный пункт не из этого чек-листа: обновите страницу.")]}
        )
    score = services.call_score_save(
        company=request.user.company, call=call, call_type=call_type, controller=request.user,
        done_items={items[str(code)] for code in data["done"]}, comment=data["comment"],
    )  # fmt: skip
    return selectors.scores_in_view(company=request.user.company, viewer=request.user).get(
        pk=score.pk
    )


class ScoreDetailApi(APIView):
    @extend_schema(
        responses=ScoreDetailOutput,
        operation_id="scores_retrieve",
        summary="A call score",
        description="One score you see, with its checklist: each point, whether the manager "
        "did it and its weight when scored.",
    )
    def get(self, request: Request, code: str) -> Response:
        require_scores_seen(request.user)
        score = access.score_get_for_viewer(actor=request.user, code=code)
        return Response(ScoreDetailOutput(score).data)

    @extend_schema(
        request=ScoreChangeInput,
        responses=ScoreDetailOutput,
        examples=example_pair(
            "every item done",
            request={
                "done": [mark["item"] for mark in SCORE_EXAMPLES[0].value["marks"]],
                "comment": "Всё по чек-листу.",
            },
            response={
                **SCORE_EXAMPLES[0].value,
                "score": "100.00",
                "comment": "Всё по чек-листу.",
                "marks": [{**m, "done": True} for m in SCORE_EXAMPLES[0].value["marks"]],
            },
        ),
        operation_id="scores_partial_update",
        summary="Change your score of a call",
        description="The controller who gave the score changes it, as scoring the call again "
        "on the page does: the points done and the comment (the checklist's current points; "
        "the manager's «Качество звонков» KPI of the call's day is recomputed). Another "
        "controller's score is theirs: 403 (score the call yourself with `POST`).",
    )
    def patch(self, request: Request, code: str) -> Response:
        require_scores_seen(request.user)
        score = access.score_get_for_viewer(actor=request.user, code=code)
        if score.controller_id != request.user.pk:
            raise PermissionDenied(_("Оценку меняет тот, кто её поставил."))
        serializer = ScoreChangeInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        call = access.call_get_for_scorer(actor=request.user, code=str(score.call.code))
        changed = _save(request, call, score.call_type, serializer.validated_data)
        return Response(ScoreDetailOutput(changed).data)
