"""Row-level security: the database itself keeps companies apart, whatever the app does."""

import pytest
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from accounts import tenancy
from accounts.models import TenantModel

# Tables with a company_id column that are deliberately global, and why.
GLOBAL_TABLES = {
    "accounts_loginname": "maps a login to its company before any company is known (login)",
}


def tenant_tables() -> list[str]:
    """Every table with a company_id column: found in the database, so new ones are covered."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT table_name FROM information_schema.columns
            WHERE table_schema = 'public' AND column_name = 'company_id'
            ORDER BY table_name
            """
        )
        return [name for (name,) in cursor.fetchall() if name not in GLOBAL_TABLES]


def raw_rows(table: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{table}"')
        columns = [c.name for c in cursor.description]
        index = columns.index("company_id")
        return [row[index] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_it_finds_every_tenant_model_table():
    tables = set(tenant_tables())
    models = {m._meta.db_table for m in apps.get_models() if issubclass(m, TenantModel)}
    assert models <= tables
    assert len(tables) >= 9


@pytest.mark.django_db
def test_it_enables_and_forces_a_policy_on_every_tenant_table():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relname = ANY(%s)
            """,
            [tenant_tables()],
        )
        rows = {name: (enabled, forced, policies) for name, enabled, forced, policies in cursor}
    assert set(rows) == set(tenant_tables())
    unprotected = {
        name: state for name, state in rows.items() if state[:2] != (True, True) or not state[2]
    }
    assert unprotected == {}


def test_every_tenant_table_has_rows_of_both_companies(alpha, beta):
    """The raw-select test below means something only if every table holds both companies."""
    for cast in (alpha, beta):
        with tenancy.tenant_context(cast.company):
            empty = [table for table in tenant_tables() if not raw_rows(table)]
        assert empty == [], f"add rows for {empty} to make_cast() in tests/conftest.py"


def test_a_raw_select_sees_only_the_current_company(alpha, beta):
    for cast in (alpha, beta):
        with tenancy.tenant_context(cast.company):
            for table in tenant_tables():
                company_ids = set(raw_rows(table))
                allowed = {cast.company.pk, None} if table == "accounts_user" else {cast.company.pk}
                assert company_ids <= allowed, table
                assert cast.company.pk in company_ids, table


def test_with_no_company_a_raw_select_sees_nothing(alpha, beta):
    with tenancy.tenant_context(None):
        for table in tenant_tables():
            assert [cid for cid in raw_rows(table) if cid is not None] == [], table


def execute(sql: str, params: list) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def test_a_row_for_another_company_cannot_be_written(alpha, beta):
    with tenancy.tenant_context(alpha.company):
        with pytest.raises(DatabaseError, match="row-level security"):
            execute(
                "UPDATE accounts_team SET company_id = %s WHERE id = %s",
                [beta.company.pk, alpha.team.pk],
            )
        with pytest.raises(DatabaseError, match="row-level security"):
            execute(
                "INSERT INTO accounts_team (company_id, code, name, head_id) "
                "VALUES (%s, gen_random_uuid(), 'Чужая', NULL)",
                [beta.company.pk],
            )
        assert execute("DELETE FROM accounts_team WHERE company_id = %s", [beta.company.pk]) == 0
        assert (
            execute(
                "UPDATE accounts_user SET first_name = 'x' WHERE company_id = %s", [beta.company.pk]
            )
            == 0
        )


def test_the_company_setting_ends_with_the_transaction(alpha):
    with tenancy.tenant_context(alpha.company), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.company_id', true)")
        assert cursor.fetchone()[0] == str(alpha.company.pk)
    # Still in the test's own outer transaction: the context restored the empty setting.
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.company_id', true)")
        assert cursor.fetchone()[0] in ("", None)


@pytest.mark.django_db(transaction=True)
def test_a_pooled_connection_does_not_carry_the_company_into_the_next_transaction():
    from tests.conftest import make_cast

    cast = make_cast("pool", "Пул")
    with tenancy.tenant_context(cast.company):
        assert raw_rows("accounts_team")
    # Same connection, next transaction (autocommit): the setting is gone.
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.company_id', true)")
        assert cursor.fetchone()[0] in ("", None)
        cursor.execute("SELECT count(*) FROM accounts_team")
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db
def test_the_app_role_cannot_bypass_row_level_security():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        user, superuser, bypass = cursor.fetchone()
        assert (user, superuser, bypass) == (settings.DATABASE_APP_ROLE, False, False)
        cursor.execute(
            """
            SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = current_user
            """
        )
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db
def test_every_unique_constraint_of_a_tenant_table_includes_the_company():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, i.relname
            FROM pg_index x
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indisunique AND NOT x.indisprimary AND t.relname = ANY(%s)
              AND NOT EXISTS (
                SELECT 1 FROM pg_attribute a
                WHERE a.attrelid = t.oid AND a.attnum = ANY(x.indkey) AND a.attname = 'company_id'
              )
            """,
            [tenant_tables()],
        )
        assert cursor.fetchall() == []
