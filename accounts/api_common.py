"""What every API resource shares: filters that refuse what the caller may not see, the
month format, cursor pagination, `?fields=` and `?expand=`.

A filter naming a manager or a team outside the caller's view is a 400 that says so, never
a filter silently dropped (which would answer with the caller's whole view, as if it were
the named manager's figures).
"""

import datetime
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination, LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Team, User
from accounts.permissions import in_view_of, teams_in_view_of

MONTH = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})(?:-(?P<day>\d{2}))?", re.ASCII)


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}(-\d{2})?$", "example": "2026-12"})
class MonthField(serializers.Field):
    """A month as `2026-12`, or any day of it as `2026-12-15`; the first day of it."""

    default_error_messages = {
        "invalid": gettext_lazy("Месяц пишется как 2026-12 (год-месяц) или как дата в нём."),
    }

    def to_internal_value(self, data: object) -> datetime.date:
        match = MONTH.fullmatch(str(data).strip()) if isinstance(data, str) else None
        if match is None:
            self.fail("invalid")
        try:
            day = datetime.date(int(match["year"]), int(match["month"]), int(match["day"] or 1))
        except ValueError:
            self.fail("invalid")
        return day.replace(day=1)

    def to_representation(self, value: datetime.date) -> str:
        return value.strftime("%Y-%m")


@extend_schema_field(OpenApiTypes.UUID)
class ManagerInViewField(serializers.Field):
    """A manager's code, among those the caller sees (`accounts.permissions.in_view_of`)."""

    default_error_messages = {
        "invalid": gettext_lazy("Код менеджера — это UUID."),
        "unseen": gettext_lazy("Нет такого менеджера среди тех, кого вы видите."),
    }

    def to_internal_value(self, data: object) -> User:
        code = serializers.UUIDField(error_messages={"invalid": self.error_messages["invalid"]})
        uuid = code.to_internal_value(data)
        manager = in_view_of(self.context["request"].user).filter(code=uuid).first()
        if manager is None:
            self.fail("unseen")
        return manager

    def to_representation(self, value: User) -> str:
        return str(value.code)


@extend_schema_field(OpenApiTypes.UUID)
class TeamInViewField(serializers.Field):
    """A team's code, among those whose figures the caller sees (`teams_in_view_of`)."""

    default_error_messages = {
        "invalid": gettext_lazy("Код команды — это UUID."),
        "unseen": gettext_lazy("Нет такой команды среди тех, что вы видите."),
    }

    def to_internal_value(self, data: object) -> Team:
        code = serializers.UUIDField(error_messages={"invalid": self.error_messages["invalid"]})
        uuid = code.to_internal_value(data)
        team = teams_in_view_of(self.context["request"].user).filter(code=uuid).first()
        if team is None:
            self.fail("unseen")
        return team

    def to_representation(self, value: Team) -> str:
        return str(value.code)


def query(serializer_class: type[serializers.Serializer], request: object) -> dict:
    """The validated query string of a list (400 in the one error shape otherwise)."""
    serializer = serializer_class(data=request.query_params, context={"request": request})  # type: ignore[attr-defined]
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class Cursor(CursorPagination):
    """Stable pages: a cursor keeps its place while rows are added (no row twice, none
    skipped), unlike an offset. `?page_size=` up to 500."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("-id",)
    invalid_cursor_message = gettext_lazy("Неверный курсор: возьмите ссылку next или previous.")


def cursor(*ordering: str) -> type[Cursor]:
    return type("Cursor", (Cursor,), {"ordering": ordering})


LEGACY_DESCRIPTION = (
    "Deprecated, kept for one release: without `?page_size=` or `?cursor=` the list answers "
    "in its old shape ({shape}). Send `?page_size=` to get the cursor page now; it becomes the "
    "only shape in the next release."
)


class CursorOrLegacy(Cursor):
    """A list that paged differently before the cursor came keeps its old answer for one
    release: an integrator's script written against it must not break without warning.
    The cursor page is opted into by naming `page_size` or `cursor`; the old shape is
    marked deprecated in the schema (docs/api.md, «Lists»).

    `legacy` is `"list"` (a bare list of the newest `legacy_cap` rows, as `reports/` was) or
    `"limit_offset"` (`{count, next, previous, results}` with `?limit=&offset=`, as `deals/`
    and `calls/` were)."""

    legacy = "list"
    legacy_cap = 200

    def paginate_queryset(self, queryset, request, view=None):  # type: ignore[no-untyped-def]
        self.legacy_pager: LimitOffsetPagination | None = None
        self.opted_in = bool({"page_size", "cursor"} & set(request.query_params))
        if self.opted_in:
            return super().paginate_queryset(queryset, request, view)
        if self.legacy == "list":
            return list(queryset[: self.legacy_cap])
        self.legacy_pager = LimitOffsetPagination()
        return self.legacy_pager.paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):  # type: ignore[no-untyped-def]
        if self.opted_in:
            return super().get_paginated_response(data)
        if self.legacy_pager is not None:
            return self.legacy_pager.get_paginated_response(data)
        return Response(data)

    def _legacy_schema(self, schema: dict) -> dict:
        if self.legacy == "list":
            # `schema` is already the array of rows (what a page's `results` holds).
            old, shape = dict(schema), "a bare list of the newest 200"
        else:
            old = LimitOffsetPagination().get_paginated_response_schema(schema)
            shape = "`{count, next, previous, results}` with `?limit=&offset=`"
        return {**old, "deprecated": True, "description": LEGACY_DESCRIPTION.format(shape=shape)}

    def get_paginated_response_schema(self, schema: dict) -> dict:
        # anyOf, not oneOf: the old limit-offset page is also a valid cursor page.
        return {
            "anyOf": [super().get_paginated_response_schema(schema), self._legacy_schema(schema)]
        }

    def get_schema_operation_parameters(self, view):  # type: ignore[no-untyped-def]
        parameters = super().get_schema_operation_parameters(view)
        if self.legacy == "limit_offset":
            for parameter in LimitOffsetPagination().get_schema_operation_parameters(view):
                parameters.append({**parameter, "deprecated": True})
        return parameters


def cursor_or_legacy(*ordering: str, legacy: str) -> type[CursorOrLegacy]:
    return type("Cursor", (CursorOrLegacy,), {"ordering": ordering, "legacy": legacy})


def pick_fields(rows: list[dict], request: object, *, allowed: Iterable[str]) -> list[dict]:
    """`?fields=code,name` keeps only those fields of each row; an unknown one is a 400."""
    wanted = request.query_params.get("fields", "")  # type: ignore[attr-defined]
    names = [name.strip() for name in wanted.split(",") if name.strip()]
    if not names:
        return rows
    unknown = [name for name in names if name not in set(allowed)]
    if unknown:
        raise serializers.ValidationError(
            {"fields": [_("Нет таких полей: %(names)s.") % {"names": ", ".join(unknown)}]}
        )
    return [{name: row[name] for name in names} for row in rows]


def expansions(request: object, allowed: Iterable[str]) -> set[str]:
    """`?expand=manager,team`: which references to give as objects with names, not codes."""
    wanted = {
        name.strip()
        for name in request.query_params.get("expand", "").split(",")  # type: ignore[attr-defined]
        if name.strip()
    }
    unknown = wanted - set(allowed)
    if unknown:
        message = _("Так раскрыть нельзя: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        raise serializers.ValidationError({"expand": [message]})
    return wanted


FIELDS = OpenApiParameter(
    "fields",
    OpenApiTypes.STR,
    description="comma-separated names of the fields to keep in each row (`code,last_name`); "
    "an unknown name is a 400",
)
EXPAND = OpenApiParameter(
    "expand",
    OpenApiTypes.STR,
    enum=["manager"],
    description="`manager`: the manager as `{code, first_name, last_name}` instead of a code",
)


def deprecated_in_favour_of(operation: str) -> str:
    return (
        f"Deprecated: kept for one release, answers as `{operation}` does; move to that operation."
    )


# The codes the docs' examples use: they stand for the caller's own objects (the demo
# company's login namespace `vector.` likewise), which the docs' replay swaps in
# (tests/test_api_schema.py).
EXAMPLE_MANAGER = "3f2b6a8e-1c4d-4e5f-9a0b-1c2d3e4f5a6b"
EXAMPLE_TEAM = "7d9e0f1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a"
EXAMPLE_ROLE = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"


def example_pair(
    name: str, *, request: object, response: object, status: str = "200"
) -> list[OpenApiExample]:
    """A request example and the answer it gets, under one name: the docs' replay sends the
    one and expects the other (a code or a uid the server makes up aside)."""
    return [
        OpenApiExample(name, value=request, request_only=True),
        OpenApiExample(name, value=response, response_only=True, status_codes=[status]),
    ]


def operation(**schema: Any) -> Callable[[Callable], Callable]:
    """`extend_schema` of a resource's operation, its arguments kept on the handler for the
    old path that answers as it does (`deprecated_twin`)."""

    def decorate(handler: Callable) -> Callable:
        handler.schema_arguments = schema  # type: ignore[attr-defined]
        return extend_schema(**schema)(handler)

    return decorate


def deprecated_twin(
    handler: Callable,
    *,
    new: str,
    operation_id: str,
    method: str = "post",
    description: str = "",
    **overrides: Any,
) -> type[APIView]:
    """The old RPC path of an operation (`/kpis/create/`), kept for one release: a view that
    answers `method` as `handler` (the resource's, declared with `operation`) does, described
    by the same request and responses, deprecated in favour of `new` ("POST /api/v1/kpis/").

    The examples stay with the resource: the docs' replay (tests/test_api_schema.py) sends
    each once. `overrides` replace what the old path answered otherwise (a 200 where the
    resource says 201)."""
    schema = {
        key: value
        for key, value in handler.schema_arguments.items()  # type: ignore[attr-defined]
        if key in ("request", "responses")
    }
    schema.update(
        summary=f"{handler.schema_arguments['summary']} (old path)",  # type: ignore[attr-defined]
        description=f"{description} {deprecated_in_favour_of(new)}".strip(),
        operation_id=operation_id,
        deprecated=True,
    )
    schema.update(overrides)

    def answer(self: APIView, request: Request, *args: Any, **kwargs: Any) -> Response:
        return handler(self, request, *args, **kwargs)

    answer.__name__ = method
    return type(f"Old{operation_id.title().replace('_', '')}Api", (APIView,), {
        method: extend_schema(**schema)(answer)
    })  # fmt: skip


def service_answer(
    request: Request,
    *,
    input: type[serializers.Serializer],
    service: Callable[..., Any],
    output: type[serializers.Serializer],
    created: bool = False,
    partial: bool = False,
    **arguments: Any,
) -> Response:
    """A write operation's body, one for every resource: the input validated (a 400 in the
    one error shape), the service called with `arguments` (`company=` to create, the object
    to change), the caller as `actor` and the fields as keyword arguments, and the output of
    what the service returns: 201 for something new, 204 for nothing (a plan cleared).

    Who may write is the service's rule, or the view's check before this call (so that a
    read-only role hears 403 before any 400 of its input)."""
    serializer = input(data=request.data, partial=partial, context={"request": request})
    serializer.is_valid(raise_exception=True)
    result = service(actor=request.user, **arguments, **serializer.validated_data)
    if result is None:
        return Response(status=status.HTTP_204_NO_CONTENT)
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Response(output(result).data, status=code)


def page_answer(
    view: APIView,
    request: Request,
    rows: Any,
    output: type[serializers.ModelSerializer],
    *,
    fields: bool = True,
) -> Response:
    """A page of a list with `?expand=manager` (and `?fields=` where `fields`), paged by the
    view's `pagination_class`."""
    paginator = view.pagination_class()  # type: ignore[attr-defined]
    page = paginator.paginate_queryset(rows, request, view=view)
    data = people_expanded(output(page, many=True).data, request)
    if fields:
        data = pick_fields(data, request, allowed=output.Meta.fields)
    return paginator.get_paginated_response(data)


def people_expanded(
    rows: list[dict], request: object, *, keys: Iterable[str] = ("manager",)
) -> list[dict]:
    """`?expand=manager`: each manager's code in `rows` replaced by their code and names.

    The rows are already what the caller may see (each list's own rule: a controller the
    company's scores, a manager their own reports), so the names are those of the people the
    rows name, within the caller's company; not `users_listed_for`, which is who may list
    users/ and left a controller's or a manager's rows with bare codes."""
    wanted = expansions(request, keys)
    if not wanted:
        return rows
    codes = {str(row[key]) for row in rows for key in wanted if row.get(key)}
    viewer = request.user  # type: ignore[attr-defined]
    people = {
        str(code): {"code": str(code), "first_name": first, "last_name": last}
        for code, first, last in User.objects.filter(company_id=viewer.company_id)
        .filter(code__in=codes)
        .values_list("code", "first_name", "last_name")
    }
    for row in rows:
        for key in wanted:
            if row.get(key):
                row[key] = people.get(str(row[key]), row[key])
    return rows


PERSON = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "format": "uuid"},
        "first_name": {"type": "string"},
        "last_name": {"type": "string"},
    },
    "required": ["code", "first_name", "last_name"],
}
EXPANDABLE = "the manager's code; with `?expand=manager`, `{code, first_name, last_name}`"


@extend_schema_field(
    {"oneOf": [{"type": "string", "format": "uuid"}, PERSON], "description": EXPANDABLE}
)
class ManagerCodeField(serializers.UUIDField):
    """A manager's code, which `?expand=manager` turns into the manager with names."""


@extend_schema_field(
    {
        "oneOf": [{"type": "string", "format": "uuid"}, PERSON],
        "nullable": True,
        "description": EXPANDABLE,
    }
)
class OptionalManagerCodeField(serializers.UUIDField):
    """A manager's code or null, which `?expand=manager` turns into the manager with names."""
