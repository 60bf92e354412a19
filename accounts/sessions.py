"""The database session store, with its one read per request in plain SQL.

Every page reads the session before anything else; through the ORM that read was the
second-costliest part of a request's fixed cost (building and compiling the query, after
the user's: bench/request_cost.py). The statement and what it matches are Django's own
(`django.contrib.sessions.backends.db`): a session still lives in the table, dies at
logout, at its expiry and when the user's password changes (the auth hash in it).
"""

from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.contrib.sessions.models import Session
from django.db import connections, router
from django.utils import timezone


class SessionStore(DatabaseStore):
    def _get_session_from_db(self) -> Session | None:
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        table = connection.ops.quote_name(self.model._meta.db_table)
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data, expire_date FROM {table}"  # noqa: S608 - the model's table
                " WHERE session_key = %s AND expire_date > %s",
                [self.session_key, now],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        data, expires = row
        return self.model(session_key=self.session_key, session_data=data, expire_date=expires)
