"""Data a test needs, built once and put back as rows into each test's transaction.

Building the cast (or the demo) through the services takes hundreds of queries; inserting
the rows they wrote takes one statement per table. `capture` builds in a savepoint, keeps
every row the build wrote, and rolls it back; `restore` inserts those rows again, with
their ids (the rollback left every sequence past them, so nothing made later collides).

Only for a test inside a transaction (the `db` fixture): what a build queues on commit (a
recomputation, an e-mail) never happens there either. A transactional test commits, and
builds its data for real.
"""

import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections, transaction
from django.utils import timezone

from accounts import tenancy

# Rebuilt when this old, so that a build's "now" (calls two hours ago, the last dashboard
# visit, the audit log) is never further from the test's than a slow test would put it;
# and on a new day, so that "today" and "yesterday" are the test's own.
MAX_AGE = 120.0  # seconds

OPERATOR = "operator"  # the scope of company-less rows in tenant tables (the operators')


@dataclass(frozen=True)
class Snapshot:
    built_at: float
    built_on: datetime.date
    # scope -> [(table, its rows as a JSON array)]; a scope is a company id, OPERATOR, or
    # None for the tables without row-level security.
    rows: dict[int | str | None, list[tuple[str, str]]]

    def is_current(self) -> bool:
        return time.monotonic() - self.built_at <= MAX_AGE and self.built_on == timezone.localdate()


def _scoped(scope: int | str | None):  # type: ignore[no-untyped-def]
    if scope == OPERATOR:
        return tenancy.operator_context()
    return tenancy.tenant_context(scope)  # type: ignore[arg-type]


def capture[T](build: Callable[[], T]) -> tuple[T, Snapshot]:
    """Runs `build` in a savepoint and rolls it back, keeping the rows it wrote.

    The rows are found by the transaction ids that wrote them: a row inserted or changed in
    the savepoint has an `xmin` at or past the first id not yet given out when it began.
    Tenant tables are read in each new company's own context (row-level security), and the
    company registry and logins, readable by all, are split by company as well.
    """
    connection = connections["default"]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
            (first_new,) = cursor.fetchone()
        built_at, built_on = time.monotonic(), timezone.localdate()
        result = build()
        new = " WHERE t.xmin::text::bigint >= %s"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM accounts_company AS t" + new + " ORDER BY id", [first_new]
            )
            companies = [row[0] for row in cursor.fetchall()]
            cursor.execute(
                "SELECT table_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND column_name = 'company_id'"
            )
            tenant_tables = {row[0] for row in cursor.fetchall()}
        rows: dict[int | str | None, list[tuple[str, str]]] = {}

        def read(scope: int | str | None, table: str, where: str = "") -> None:
            with _scoped(scope), connection.cursor() as cursor:
                cursor.execute(
                    f'SELECT json_agg(t)::text FROM "{table}" AS t{new}{where}', [first_new]
                )
                (data,) = cursor.fetchone()
            if data is not None:
                rows.setdefault(scope, []).append((table, data))

        for table in connection.introspection.django_table_names(only_existing=True):
            if table == "accounts_company":
                for company in companies:
                    read(company, table, f" AND t.id = {company:d}")
            elif table in tenant_tables:
                for company in companies:
                    read(company, table, f" AND t.company_id = {company:d}")
                read(OPERATOR, table, " AND t.company_id IS NULL")
            else:
                read(None, table)
        transaction.set_rollback(True)
    return result, Snapshot(built_at=built_at, built_on=built_on, rows=rows)


def restore(snapshot: Snapshot) -> None:
    """Inserts the snapshot's rows again: one statement for each company's rows, in its
    context (the foreign keys are checked at commit, so the order of the tables does not
    matter)."""
    connection = connections["default"]
    for scope, tables in snapshot.rows.items():
        inserts = ", ".join(
            f'i{n} AS (INSERT INTO "{table}"'
            f' SELECT * FROM json_populate_recordset(NULL::"{table}", %s))'
            for n, (table, _data) in enumerate(tables)
        )
        with _scoped(scope), connection.cursor() as cursor:
            cursor.execute(f"WITH {inserts} SELECT 1", [data for _table, data in tables])
