"""PostgreSQL row-level security for tenant-owned tables.

Each tenant table gets ENABLE and FORCE ROW LEVEL SECURITY and policies comparing its
`company_id` with the transaction-local setting `app.company_id` (see tenancy.py). An unset
or empty setting matches no row: without a company, nothing is visible or writable.

The companies' table itself (`accounts_company`, the tenants' registry) is read and added
to by everybody (the login, the scheduled tasks that go through all companies, a new
company); a row is changed or deleted only by its own company or the operator context.

Two tables also hold company-less rows, the platform operators': `accounts_user` (the
operators themselves) and `accounts_loginname` (their logins). Those rows match only in the
operator context, the transaction-local setting `app.operator = 'on'`, which is distinct
from "no company". `accounts_loginname` is readable by everybody (a login is mapped to its
company before any company is known) but written only by the row's own company.
"""

from typing import Any

from django.conf import settings
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

CURRENT_COMPANY = "NULLIF(current_setting('app.company_id', true), '')::bigint"
OPERATOR_CONTEXT = "current_setting('app.operator', true) = 'on'"
POLICY = "tenant_isolation"
# With a table readable by all: one policy per command, so that reading stays open.
READ_POLICY = "tenant_read"
WRITE_POLICIES = {"INSERT": "tenant_insert", "UPDATE": "tenant_update", "DELETE": "tenant_delete"}


def _policy_condition(
    *, allow_null_company: bool = False, operator_rows: bool = False, registry: bool = False
) -> str:
    if registry:
        # The companies' own table: a company's row is its own; the operators' console
        # administers them all.
        return f"(id = {CURRENT_COMPANY} OR {OPERATOR_CONTEXT})"
    condition = f"company_id = {CURRENT_COMPANY}"
    if operator_rows:
        condition = f"({condition} OR (company_id IS NULL AND {OPERATOR_CONTEXT}))"
    elif allow_null_company:
        # Migration 0002's rule, kept so that the history replays as it ran: it let the
        # company-less rows through in every context (0006 replaced it).
        condition = f"(company_id IS NULL OR {condition})"
    return condition


def _create_policies(
    schema_editor: BaseDatabaseSchemaEditor,
    table: str,
    *,
    readable_by_all: bool,
    insertable_by_all: bool = False,
    **rule: bool,
) -> None:
    condition = _policy_condition(**rule)
    if not readable_by_all:
        schema_editor.execute(
            f"CREATE POLICY {POLICY} ON {table} USING ({condition}) WITH CHECK ({condition})"
        )
        return
    schema_editor.execute(f"CREATE POLICY {READ_POLICY} ON {table} FOR SELECT USING (true)")
    insert_condition = "true" if insertable_by_all else condition
    schema_editor.execute(
        f"CREATE POLICY {WRITE_POLICIES['INSERT']} ON {table} "
        f"FOR INSERT WITH CHECK ({insert_condition})"
    )
    schema_editor.execute(
        f"CREATE POLICY {WRITE_POLICIES['UPDATE']} ON {table} FOR UPDATE "
        f"USING ({condition}) WITH CHECK ({condition})"
    )
    schema_editor.execute(
        f"CREATE POLICY {WRITE_POLICIES['DELETE']} ON {table} FOR DELETE USING ({condition})"
    )


def _drop_policies(schema_editor: BaseDatabaseSchemaEditor, table: str) -> None:
    for name in (POLICY, READ_POLICY, *WRITE_POLICIES.values()):
        schema_editor.execute(f"DROP POLICY IF EXISTS {name} ON {table}")


class EnableRowLevelSecurity(migrations.operations.base.Operation):
    """Migration operation: put a tenant table under row-level security (PostgreSQL only).

    operator_rows: company-less rows are the operators', reachable in the operator context.
    registry: the table of the companies themselves (`id` is the company; the operator
    context reaches every row).
    readable_by_all: every row is readable in every context; writes follow the rule.
    insertable_by_all (with readable_by_all): inserting is open too; updates and deletes
    follow the rule.
    allow_null_company: the old rule of migration 0002 (company-less rows reachable in every
    context); do not use it in new migrations.
    """

    reversible = True
    reduces_to_sql = True

    def __init__(
        self,
        table: str,
        allow_null_company: bool = False,
        operator_rows: bool = False,
        registry: bool = False,
        readable_by_all: bool = False,
        insertable_by_all: bool = False,
    ) -> None:
        self.table = table
        self.rule = {
            "allow_null_company": allow_null_company,
            "operator_rows": operator_rows,
            "registry": registry,
        }
        self.readable_by_all = readable_by_all
        self.insertable_by_all = insertable_by_all

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        options = {
            **self.rule,
            "readable_by_all": self.readable_by_all,
            "insertable_by_all": self.insertable_by_all,
        }
        return (self.__class__.__name__, [self.table], {k: v for k, v in options.items() if v})

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
        schema_editor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        _create_policies(
            schema_editor,
            table,
            readable_by_all=self.readable_by_all,
            insertable_by_all=self.insertable_by_all,
            **self.rule,
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
        _drop_policies(schema_editor, table)
        schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

    def describe(self) -> str:
        return f"Enable row-level security on {self.table}"


class ReplaceRowLevelSecurityRule(migrations.operations.base.Operation):
    """Migration operation: replace the policies of a table already under row-level
    security; `old` and `new` take EnableRowLevelSecurity's keyword options."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, table: str, old: dict[str, bool], new: dict[str, bool]) -> None:
        self.table = table
        self.old = old
        self.new = new

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__name__, [self.table], {"old": self.old, "new": self.new})

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def _replace(self, schema_editor: BaseDatabaseSchemaEditor, options: dict[str, bool]) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(self.table)
        _drop_policies(schema_editor, table)
        options = {"readable_by_all": False, **options}
        _create_policies(schema_editor, table, **options)

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: Any,
        to_state: Any,
    ) -> None:
        self._replace(schema_editor, self.new)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: Any,
        to_state: Any,
    ) -> None:
        self._replace(schema_editor, self.old)

    def describe(self) -> str:
        return f"Replace the row-level security rule of {self.table}"


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
