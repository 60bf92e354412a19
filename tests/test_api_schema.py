"""The API's schema as CI checks it: valid with warnings as errors, every operation
documented with its errors, the old paths deprecated, and its examples true when replayed."""

import json
import re
from io import StringIO

import jsonschema
import pytest
from django.core.management import call_command
from django.test import Client

from accounts import tenancy
from accounts.api_common import EXAMPLE_MANAGER, EXAMPLE_ROLE, EXAMPLE_TEAM
from tests.conftest import Cast

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
OLD_PATHS = re.compile(r"/(create|update|add|remove|set|submit|correct)/$")


@pytest.fixture(scope="module")
def schema() -> dict:
    out = StringIO()
    # --fail-on-warn makes any warning of drf-spectacular an error (exit status 1).
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json",
                 stdout=out)  # fmt: skip
    return json.loads(out.getvalue())


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_the_schema_is_valid_with_warnings_as_errors(schema: dict):
    assert schema["openapi"].startswith("3.")
    assert len(list(operations(schema))) >= 50


def test_every_operation_has_a_summary_a_description_and_its_errors(schema: dict):
    error = {"$ref": "#/components/schemas/ErrorOutput"}
    for path, method, operation in operations(schema):
        label = f"{method.upper()} {path}"
        assert operation.get("summary") and operation.get("description"), label
        responses = operation["responses"]
        expected = {"401", "403"}
        query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
        if method in ("post", "patch", "put") or query:
            expected.add("400")
        if "{" in path:
            expected.add("404")
        assert expected <= set(responses), (label, sorted(responses))
        for status in expected:
            content = responses[status]["content"]["application/json"]
            assert content["schema"] == error, (label, status)
            assert content["examples"], (label, status)
        for status, response in responses.items():
            # Every documented error with a body shows it (a report's 409 too).
            if not status.startswith("2") and "content" in response:
                assert response["content"]["application/json"].get("examples"), (label, status)


def _json_schema(node: object) -> object:
    """An OpenAPI 3.0 schema as JSON Schema: `nullable` becomes a null alternative."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        if "type" in converted and "enum" not in converted:
            converted["type"] = [converted["type"], "null"]
        else:
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


def test_every_answer_shows_an_example_that_its_schema_accepts(schema: dict):
    """Every operation shows what comes back on success (a read too: a page with `next`,
    `previous` and `results`, a CSV with its columns) and on each error with a body; each
    example is valid against the schema of its answer."""
    components = _json_schema(schema["components"])
    without = []
    for path, method, operation in operations(schema):
        label = f"{method.upper()} {path}"
        shown = False
        for status, response in operation["responses"].items():
            if "content" not in response:
                shown = shown or status.startswith("2")  # 204: nothing comes back
                continue
            for media, content in response["content"].items():
                examples = content.get("examples", {})
                if not examples:
                    continue
                shown = shown or status.startswith("2")
                validator = jsonschema.Draft202012Validator(
                    {**_json_schema(content["schema"]), "components": components}
                )
                for name, example in examples.items():
                    errors = [error.message for error in validator.iter_errors(example["value"])]
                    assert not errors, (label, status, media, name, errors[:3])
        if not shown:
            without.append(label)
    assert without == []


def test_every_write_shows_what_to_send_and_what_comes_back(schema: dict):
    for path, method, operation in operations(schema):
        if method not in ("post", "patch", "put") or operation.get("deprecated"):
            continue
        label = f"{method.upper()} {path}"
        body = operation["requestBody"]["content"]["application/json"]
        assert body.get("examples"), label
        answers = [
            response["content"]["application/json"].get("examples")
            for status, response in operation["responses"].items()
            if status.startswith("2") and "content" in response
        ]
        assert any(answers), label


def test_the_old_paths_are_deprecated_and_the_resources_are_not(schema: dict):
    old = {(p, m) for p, m, op in operations(schema) if OLD_PATHS.search(p)}
    deprecated = {(p, m) for p, m, op in operations(schema) if op.get("deprecated")}
    assert old == deprecated
    methods = {(p, m) for p, m, op in operations(schema)}
    for resource in [
        ("/api/v1/users/", "post"), ("/api/v1/users/{code}/", "patch"),
        ("/api/v1/teams/", "post"), ("/api/v1/teams/{code}/", "patch"),
        ("/api/v1/kpis/", "post"), ("/api/v1/kpis/{uid}/", "patch"),
        ("/api/v1/sales-roles/{code}/kpis/", "post"),
        ("/api/v1/sales-roles/{code}/kpis/{kpi}/", "delete"),
        ("/api/v1/plans/", "post"), ("/api/v1/absences/", "post"),
        ("/api/v1/absences/{code}/", "delete"), ("/api/v1/calendar/days/", "post"),
        ("/api/v1/calendar/days/{date}/", "delete"), ("/api/v1/reports/", "post"),
        ("/api/v1/reports/{code}/", "patch"), ("/api/v1/bands/", "patch"),
    ]:  # fmt: skip
        assert resource in methods, resource


def _literal(expected: object, actual: object) -> None:
    """The example's value, where it is not one the server makes up (a code, a uid)."""
    if isinstance(expected, str) and UUID.fullmatch(expected):
        return
    if isinstance(expected, dict):
        assert isinstance(actual, dict), actual
        for key, value in expected.items():
            assert key in actual, (key, actual)
            _literal(value, actual[key])
        return
    assert expected == actual


def test_the_docs_examples_replayed_literally_give_what_they_show(schema: dict, alpha: Cast):
    """Each request example (a body or a query parameter) is sent as written, and the answer
    is the response example of the same name, status and body. The examples' codes of a
    manager, a team and a sales role stand for the caller's own (docs/api.md), as does the
    demo company's login namespace: they are swapped for the test company's."""
    manager = alpha.managers[1]
    with tenancy.tenant_context(alpha.company):
        role = manager.sales_role.code
    own = {
        EXAMPLE_MANAGER: str(manager.code), EXAMPLE_TEAM: str(alpha.team.code),
        EXAMPLE_ROLE: str(role), "vector.": alpha.admin.username.partition(".")[0] + ".",
    }  # fmt: skip

    def yours(value: object) -> object:
        text = json.dumps(value, ensure_ascii=False)
        for example, real in own.items():
            text = text.replace(example, real)
        return json.loads(text)

    client = Client(headers={"Authorization": f"Token {alpha.api_key}"})
    replayed = 0
    for path, method, operation in operations(schema):
        if "{" in path or operation.get("deprecated"):
            # The examples' objects of a path are no company's; an old path answers as its
            # resource, whose examples are replayed.
            continue
        requests: dict[str, dict] = {}
        for parameter in operation.get("parameters", []):
            for name, example in parameter.get("examples", {}).items():
                requests.setdefault(name, {"query": {}})["query"][parameter["name"]] = example[
                    "value"
                ]
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        for name, example in body.get("examples", {}).items():
            requests.setdefault(name, {})["body"] = example["value"]
        for name, request in yours(requests).items():
            if "body" in request:
                answer = getattr(client, method)(
                    path, request["body"], content_type="application/json"
                )
            else:
                answer = getattr(client, method)(path, request.get("query", {}))
            shown = [
                (status, response["content"]["application/json"]["examples"][name]["value"])
                for status, response in operation["responses"].items()
                if name
                in response.get("content", {}).get("application/json", {}).get("examples", {})
            ]
            label = f"{method.upper()} {path} «{name}»"
            if not shown:
                assert 200 <= answer.status_code < 300, (label, answer.content)
            else:
                ((status, value),) = shown
                assert answer.status_code == int(status), (label, answer.content)
                _literal(yours(value), answer.json())
            replayed += 1
    assert replayed >= 12
