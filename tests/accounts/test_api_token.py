"""The API's token header, fuzzed: every malformed or unknown key is a 401 with a message."""

import uuid

import pytest
from django.test import Client

from tests.accounts.test_url_leaks import OBJECT_PARAMS, all_patterns, fill

# Every shape of a bad key: empty, no company, company 0 (which names the operators), an id
# beyond bigint, negative, not a number, digits that are not ASCII, markup, control
# characters, UTF-8 bytes as a WSGI server hands them over (Latin-1), and very long.
BAD_HEADERS = [
    "Token",
    "Token ",
    "Token .",
    "Token 0.x",
    "Token 0." + "a" * 43,
    "Token 00." + "a" * 43,
    "Token 99999999999999999999.x",
    "Token 99999999999999999999." + "a" * 43,
    "Token 9223372036854775808." + "a" * 43,
    "Token 9223372036854775807." + "a" * 43,
    "Token -1.x",
    "Token -1." + "a" * 43,
    "Token +1." + "a" * 43,
    "Token abc.def",
    "Token 1",
    "Token 1.",
    "Token .abc",
    "Token 1.2.3",
    "Token 1..x",
    "Token ١٢." + "a" * 43,
    "Token ²." + "a" * 43,
    "Token 1." + "ё" * 43,
    "Token " + "ключ".encode().decode("latin-1"),
    "Token 1." + "\x00" * 43,
    "Token 1.<script>alert(1)</script>",
    "Token 1.' OR 1=1 --",
    "Token a b",
    "Token 1." + "a" * 10_000,
    "Token " + "9" * 10_000 + ".x",
    "token 0.x",
    "TOKEN 0.x",
]


def api_paths() -> list[str]:
    codes = {param: str(uuid.uuid4()) for param in OBJECT_PARAMS}
    paths = []
    for route, _name in all_patterns():
        if route.startswith("/api/v1/") and (path := fill(route, codes)) is not None:
            paths.append(path)
    return sorted(set(paths))


@pytest.mark.parametrize("header", BAD_HEADERS, ids=range(len(BAD_HEADERS)))
def test_a_malformed_or_unknown_token_is_a_401_with_a_message(alpha, header):
    response = Client(headers={"Authorization": header}).get("/api/v1/me/")
    assert response.status_code == 401, header[:60]
    assert response.json()["message"]
    assert response.headers["WWW-Authenticate"] == "Token"


def test_token_zero_is_refused_on_every_api_endpoint_and_method(alpha):
    client = Client(headers={"Authorization": "Token 0." + "a" * 43})
    for path in api_paths():
        for method in ("get", "post", "patch", "delete"):
            response = getattr(client, method)(path)
            assert response.status_code == 401, (method, path, response.status_code)


def test_a_valid_token_still_works_and_another_companys_id_does_not_open_it(alpha, beta):
    _company, _dot, secret = alpha.api_key.partition(".")
    ok = Client(headers={"Authorization": f"Token {alpha.api_key}"}).get("/api/v1/me/")
    assert ok.status_code == 200
    moved = Client(headers={"Authorization": f"Token {beta.company.pk}.{secret}"})
    assert moved.get("/api/v1/me/").status_code == 401
