"""Migration operations that change an index without locking out writes on PostgreSQL.

CREATE INDEX CONCURRENTLY and DROP INDEX CONCURRENTLY let a company's reports keep coming in
while an index over every company's rows builds or goes; on SQLite, the embedded default,
they are the plain operations. A migration using them sets `atomic = False` (neither may
run in a transaction on PostgreSQL).
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations


class _Online:
    """The concurrent operation on PostgreSQL, `plain` elsewhere."""

    plain: type[migrations.AddIndex | migrations.RemoveIndex]

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return self.plain.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return self.plain.database_backwards(self, app_label, schema_editor, from_state, to_state)


class AddIndexOnline(_Online, AddIndexConcurrently):
    plain = migrations.AddIndex


class RemoveIndexOnline(_Online, RemoveIndexConcurrently):
    plain = migrations.RemoveIndex
