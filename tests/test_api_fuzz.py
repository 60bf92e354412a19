"""Schemathesis against the served schema, every operation, as the alpha company's admin.

Bounded and derandomised so that CI stays fast and a failure reproduces: each operation
gets FUZZ_EXAMPLES generated requests (positive data: what the schema says is valid),
and every response must be no server error and must match the schema where the schema
documents its status.
"""

import os
import time

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)

from salesdesk.wsgi import application
from tests.conftest import Cast

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]


@pytest.fixture
def in_test_transaction():
    """The WSGI app would close the test's connection after each request: as in Django's
    test client, requests share the test's connection and transaction instead."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_every_api_operation_survives_generated_requests(
    alpha: Cast, in_test_transaction: None, capsys: pytest.CaptureFixture
):
    headers = {"Authorization": f"Token {alpha.api_key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, headers=headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    failures: dict[str, BaseException | Exception] = {}
    calls = 0
    started = time.monotonic()
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as error:
            failures[operation.label] = error
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(f"\nfuzz: operations={len(operations)} requests={calls} seconds={elapsed:.1f}")
    assert not failures, "\n\n".join(f"{label}:\n{error}" for label, error in failures.items())
