"""How the API describes itself: the token scheme, and every operation's error answers.

`ApiSchema` adds to each operation the 4xx it can answer (the one body of
`accounts.api_errors.ErrorOutput`, with an example each), so that no operation documents
only its success: 400 where it takes input, 401 and 403 everywhere a login is needed, 404
where the path names an object.
"""

from collections.abc import Iterator

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework.permissions import AllowAny

from accounts.api_errors import ErrorOutput, error_body


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`: create a key on your profile page.",
        }


ERRORS = {
    "400": (
        "The input is refused: `fields` names each field with its messages, `message` sums "
        "them up.",
        error_body(
            code="invalid",
            message="month: Месяц пишется как 2026-12 (год-месяц) или как дата в нём.",
            fields={"month": ["Месяц пишется как 2026-12 (год-месяц) или как дата в нём."]},
        ),
    ),
    "401": (
        "No valid token or session: send `Authorization: Token <key>`.",
        error_body(code="not_authenticated", message="Учетные данные не были предоставлены."),
    ),
    "403": (
        "Your role may not do this (the same rule and message as the page), or a temporary "
        "password must be changed first.",
        error_body(
            code="permission_denied",
            message="Настраивает компанию только администратор.",
        ),
    ),
    "404": (
        "Nothing of your company has this code (another company's object is not found either).",
        error_body(code="not_found", message="Страница не найдена."),
    ),
}


def _error_response(status: str) -> OpenApiResponse:
    description, body = ERRORS[status]
    example = OpenApiExample(f"error {status}", value=body, status_codes=[status])
    return OpenApiResponse(ErrorOutput, description=description, examples=[example])


class ApiSchema(AutoSchema):
    def _error_statuses(self) -> list[str]:
        statuses = []
        takes_input = self.method in ("POST", "PUT", "PATCH") or bool(
            self.get_override_parameters()
        )
        if takes_input:
            statuses.append("400")
        if not any(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            statuses += ["401", "403"]
        if "{" in self.path:
            statuses.append("404")
        return statuses

    def _get_response_bodies(self, direction: str = "response") -> dict:  # type: ignore[override]
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status in self._error_statuses():
            if status not in responses:
                responses[status] = self._get_response_for_code(
                    _error_response(status), status, direction=direction
                )
        return responses

    def get_summary(self) -> str | None:
        """Left out on an operation: the first line of its description."""
        description = self.get_description() or ""
        return description.strip().split("\n")[0].rstrip(".") or None


class CompanyTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.CompanyTokenAuthentication"
    name = "companyTokenAuth"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A company token (`POST /api/v1/company-tokens/`), for the exports "
            "its scopes allow.",
        }


def fields_are_optional(result: dict, generator: object, request: object, public: bool) -> dict:
    """A response that `?fields=` may narrow holds only the fields asked for: its objects
    declare no required property (schemathesis found `?fields=last_name` breaking the
    schema's `required`). A page's own keys (`next`, `results`) stay required."""
    schemas = result.get("components", {}).get("schemas", {})

    def refs(node: object) -> Iterator[str]:
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"].rsplit("/", 1)[-1]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    narrowed: set[str] = set()
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            if not any(p.get("name") == "fields" for p in operation.get("parameters", [])):
                continue
            for status, response in operation.get("responses", {}).items():
                if str(status).startswith("2"):
                    narrowed.update(refs(response))
    seen: set[str] = set()
    while narrowed:
        name = narrowed.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        schema = schemas[name]
        # A list that still answers its old shape too is an anyOf of the two pages.
        for shape in schema.get("anyOf", []):
            if "results" in shape.get("properties", {}):
                narrowed.update(refs(shape["properties"]["results"]))
            else:
                narrowed.update(refs(shape))
        if "anyOf" in schema:
            continue
        if "results" in schema.get("properties", {}):
            narrowed.update(refs(schema["properties"]["results"]))
            continue
        schema.pop("required", None)
    return result
