"""`manage.py check --deploy` fails an installation that would quietly lose its guarantees:
an app database role that row-level security does not bind, CRM tokens under a key derived
from SECRET_KEY, e-mailed links to plain HTTP (unless the plain-HTTP mode is chosen)."""

import os
import secrets
import uuid

import dj_database_url
import psycopg
import pytest
from cryptography.fernet import Fernet
from django.db import connections

from tests.test_settings import run_manage

pytestmark = pytest.mark.django_db


def production(**overrides: str) -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "salesdesk.example.com",
        "SITE_URL": "https://salesdesk.example.com",
        "CRM_CREDENTIALS_KEY": Fernet.generate_key().decode(),
        "DATABASE_URL": url_as(os.environ["DATABASE_URL"]),
        "REDIS_URL": os.environ["REDIS_URL"],
        **overrides,
    }


def url_as(base: str, *, user: str | None = None, password: str | None = None) -> str:
    """`base`'s server, on this worker's migrated test database, as `user`."""
    parts = dj_database_url.parse(base)
    name = connections["default"].settings_dict["NAME"]
    return (
        f"postgres://{user or parts['USER']}:{password or parts['PASSWORD']}"
        f"@{parts['HOST']}:{parts['PORT']}/{name}"
    )


def check_deploy(env: dict[str, str]) -> tuple[int, str]:
    result = run_manage("check", "--deploy", "--fail-level", "ERROR", **env)
    return result.returncode, result.stdout + result.stderr


@pytest.fixture
def role():
    """A throwaway login role; `role(options)` creates it and returns its URL."""
    admin = os.environ["DATABASE_ADMIN_URL"]
    names = []

    def create(options: str) -> str:
        name = f"salesdesk_check_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD 'pw' {options}")
        names.append(name)
        return url_as(admin, user=name, password="pw")

    yield create
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f"DROP ROLE {name}")


def test_the_app_role_passes():
    status, output = check_deploy(production())
    assert status == 0, output


def test_a_superuser_fails():
    status, output = check_deploy(production(DATABASE_URL=url_as(os.environ["DATABASE_ADMIN_URL"])))
    assert status != 0
    assert "salesdesk.E001" in output and "is a superuser" in output


def test_the_tables_owner_fails():
    status, output = check_deploy(production(DATABASE_URL=url_as(os.environ["DATABASE_OWNER_URL"])))
    assert status != 0
    assert "salesdesk.E003" in output and "accounts_company" in output


def test_a_role_that_inherits_the_owner_s_rights_fails(role):
    owner = dj_database_url.parse(os.environ["DATABASE_OWNER_URL"])["USER"]
    status, output = check_deploy(production(DATABASE_URL=role(f"IN ROLE {owner}")))
    assert status != 0 and "salesdesk.E003" in output


def test_a_role_with_bypassrls_fails(role):
    status, output = check_deploy(production(DATABASE_URL=role("NOSUPERUSER BYPASSRLS")))
    assert status != 0
    assert "salesdesk.E002" in output and "BYPASSRLS" in output
    assert "E003" not in output


def test_without_a_credentials_key_it_fails():
    status, output = check_deploy(production(CRM_CREDENTIALS_KEY=""))
    assert status != 0 and "salesdesk.E004" in output


def test_a_plain_http_site_url_fails_unless_the_plain_http_mode_is_chosen():
    status, output = check_deploy(production(SITE_URL="http://salesdesk.example.com"))
    assert status != 0 and "salesdesk.E005" in output
    # The internal network's mode: SECURE=0, documented in the README.
    status, output = check_deploy(
        production(
            SITE_URL="http://salesdesk.internal", SECURE="0", ALLOWED_HOSTS="salesdesk.internal"
        )
    )
    assert "salesdesk.E005" not in output
