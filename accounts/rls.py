"""PostgreSQL row-level security for tenant-owned tables.

Each tenant table gets ENABLE and FORCE ROW LEVEL SECURITY and one policy comparing its
`company_id` with the transaction-local setting `app.company_id` (see tenancy.py). An unset
or empty setting matches no row: without a company, nothing is visible or writable.
"""

from typing import Any

from django.conf import settings
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

CURRENT_COMPANY = "NULLIF(current_setting('app.company_id', true), '')::bigint"
POLICY = "tenant_isolation"


def _policy_condition(allow_null_company: bool) -> str:
    condition = f"company_id = {CURRENT_COMPANY}"
    if allow_null_company:
        condition = f"(company_id IS NULL OR {condition})"
    return condition


class EnableRowLevelSecurity(migrations.operations.base.Operation):
    """Migration operation: put a tenant table under row-level security (PostgreSQL only)."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, table: str, allow_null_company: bool = False) -> None:
        self.table = table
        self.allow_null_company = allow_null_company

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs = {"allow_null_company": True} if self.allow_null_company else {}
        return (self.__class__.__name__, [self.table], kwargs)

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: Any,
        to_state: Any,
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(self.table)
        condition = _policy_condition(self.allow_null_company)
        schema_editor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        schema_editor.execute(
            f"CREATE POLICY {POLICY} ON {table} USING ({condition}) WITH CHECK ({condition})"
        )

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: Any,
        to_state: Any,
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(self.table)
        schema_editor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

    def describe(self) -> str:
        return f"Enable row-level security on {self.table}"


def grant_app_role(using: str = "default", **kwargs: Any) -> None:
    """After migrate (run as the tables' owner), give the app role data rights, no more.

    The app role never owns a table, so row-level security (forced) always applies to it.
    Running as the app role itself (a test flush, say) there is nothing to grant.
    """
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    role = settings.DATABASE_APP_ROLE
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user = %s, EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s)",
            [role, role],
        )
        is_app_role, role_exists = cursor.fetchone()
        if is_app_role or not role_exists:
            return
        quoted = connection.ops.quote_name(role)
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}"
        )
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
