"""One shape for every error the API answers: `{"code", "message", "fields"}`.

`code` is a machine code an integration can branch on (`invalid`, `permission_denied`,
`not_found`, `not_authenticated`, …), `message` a sentence in the request's language
(Russian unless the caller asked for English), `fields` the messages per input field
(`{"values.calls": ["…"]}`), empty when the refusal is about the request as a whole.
A service's refusal (Django's ValidationError, PermissionDenied, Http404) reads the same
as the serializer's, so a page and the API give one message for one rule.
"""

from collections.abc import Mapping

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler

# Keys a serializer or a service uses for a refusal that names no field.
WHOLE_REQUEST = {"non_field_errors", "detail", "__all__"}


class ErrorOutput(serializers.Serializer):
    """The body of every 4xx answer."""

    code = serializers.CharField(
        help_text="machine code: invalid, parse_error, not_authenticated, "
        "authentication_failed, permission_denied, not_found, method_not_allowed, "
        "not_acceptable, unsupported_media_type, throttled, conflict, needs_confirmation"
    )
    message = serializers.CharField(help_text="what went wrong, in the request's language")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="the messages per input field (`values.calls` for a nested one); "
        "empty when the refusal names no field",
    )


def error_body(*, code: str, message: str, fields: Mapping[str, list[str]] | None = None) -> dict:
    return {"code": code, "message": message, "fields": dict(fields or {})}


def _flatten(detail: object, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as `{"a.b": [messages]}`."""
    if isinstance(detail, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = str(key) if not prefix else f"{prefix}.{key}"
            for field, messages in _flatten(value, name).items():
                flat.setdefault(field, []).extend(messages)
        return flat
    if isinstance(detail, list | tuple):
        if all(not isinstance(item, Mapping | list | tuple) for item in detail):
            return {prefix: [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            for field, messages in _flatten(item, f"{prefix}.{index}" if prefix else str(index)):
                flat.setdefault(field, []).extend(messages)
        return flat
    return {prefix: [str(detail)]}


def _validation_body(detail: object) -> dict:
    flat = _flatten(detail)
    whole = [m for key in WHOLE_REQUEST | {""} for m in flat.pop(key, [])]
    if whole:
        message = " ".join(whole)
    elif len(flat) == 1:
        ((field, messages),) = flat.items()
        message = f"{field}: {messages[0]}"
    else:
        message = _("Проверьте поля: %(fields)s.") % {"fields": ", ".join(flat)}
    return error_body(code="invalid", message=message, fields=flat)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler (statuses, headers such as WWW-Authenticate and Retry-After), then the
    body in the one shape."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    elif isinstance(exc, Http404):
        # get_object_or_404's text names the model in English: the caller learns only that
        # nothing of theirs has that code.
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = exception_handler(exc, context)
    if response is not None:
        from accounts.middleware import roll_back_request  # it imports this module

        # As DRF's handler does under ATOMIC_REQUESTS: a refused call leaves nothing written.
        roll_back_request(context["request"])
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(exc.detail)
    else:
        detail = exc.detail
        message = detail if isinstance(detail, str) else " ".join(_flatten(detail).get("", []))
        response.data = error_body(code=_code_of(exc), message=str(message))
    return response


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return exc.default_code
