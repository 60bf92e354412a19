"""Hot reads: a queryset compiled to SQL once per shape, then run again with new values.

Building a queryset and compiling it to SQL is most of what the ORM costs a request: at the
18:00 peak about a third of the web's CPU went to `filter()`, `build_filter` and `as_sql`
for statements whose SQL never changes, only their values (bench/load.py --profile). A
`Statement` keeps the queryset in Python, where its rules are read, and compiles it once
for each shape of its arguments (the length of each list, the booleans and Nones): with a
marker in place of every value, whose positions in the compiled parameters it then fills
with the values of each call. The rows come back through Django's own iterables (model
instances, `values_list` tuples, with the backend's converters), as the queryset would give;
a `values_list` whose columns need no converter takes the driver's rows as they are.

The builder must depend on nothing but its arguments (and the active company, which it
gets as a marker too): no clock, no language, no settings. With `STATEMENTS_CHECK` (the
test suite) every call also compiles the queryset the plain way and compares the SQL and
its parameters, so a builder that breaks the rule fails the tests that use it. Only
PostgreSQL takes the compiled path; elsewhere (the embedded SQLite profile) the queryset
runs as built.
"""

import copy
import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.db.models import QuerySet
from django.db.models.query import FlatValuesListIterable, ValuesListIterable

from accounts import tenancy

# Markers: values no builder writes itself; ints fit an IntegerField (no overflow check
# turns them into an empty result), dates and datetimes are far in the future.
_INT = 2_000_000_000
_DATE = datetime.date(2900, 1, 1)
_DATETIME = datetime.datetime(2900, 1, 1, tzinfo=datetime.UTC)
_STRING = "\ue000statement-marker-"
_COMPANY = ("company", None)


@dataclass(frozen=True)
class Fixed:
    """An argument that chooses the statement's shape (a kind of viewer, a set of columns):
    handed to the builder as it is, one compiled statement for each value."""

    value: Any


# Shapes kept per statement (a list's length is one: teams of every size); beyond it the
# oldest is compiled again when next asked for.
MAX_SHAPES = 256


class StatementError(RuntimeError):
    """The builder's SQL cannot be reused with markers (a value it transforms, a clock)."""


def _marker(kind: type, number: int) -> Any:
    if kind is bool:
        raise TypeError
    if kind is int:
        return _INT + number
    if kind is datetime.datetime:
        return _DATETIME + datetime.timedelta(seconds=number)
    if kind is datetime.date:
        return _DATE + datetime.timedelta(days=number)
    if kind is str:
        return f"{_STRING}{number}\ue000"
    raise TypeError(kind)


def _kind(value: Any) -> type:
    for kind in (bool, int, datetime.datetime, datetime.date, str):
        if isinstance(value, kind):
            return kind
    raise TypeError(
        f"a Statement takes ints, dates, datetimes, strings and lists of them: {value!r}"
    )


def _distinct(values: Any) -> list:
    # What Django's `__in` does with its list: duplicates and None dropped.
    return list(dict.fromkeys(v for v in values if v is not None))


@dataclass
class _Compiled:
    queryset: QuerySet
    compiler: Any
    sql: str
    params: list
    # parameter index → (argument name, list index or None); _COMPANY: the active company
    slots: list[tuple[int, tuple[str, int | None]]]
    # Plain rows as the driver gives them are the queryset's rows: "tuples", "flat" (each
    # row's one value), or None (model instances, converters: Django's iterable makes them).
    rows: str | None = None


class Statement:
    """`Statement(lambda ids, day: Model.objects.filter(...))(ids=[…], day=…)` → the rows.

    Arguments are ints, dates, datetimes, strings, lists (or tuples, sets) of those, booleans
    and None; a boolean, a None, a `Fixed` value and a list's length choose the shape
    (compiled once each).
    An empty list is run the plain way: its SQL differs with the conditions around it.
    """

    def __init__(self, build: Callable[..., QuerySet]) -> None:
        self.build = build
        self._shapes: dict[tuple, _Compiled] = {}

    def __call__(self, **values: Any) -> list:
        bound = self._bind(values)
        if bound is None:
            return list(self.build(**_plain(values)))
        compiled, params = bound
        return self._run(compiled, params)

    def sql(self, **values: Any) -> tuple[str, list]:
        """The SQL and its parameters, for a statement of one's own around it (a subquery)."""
        bound = self._bind(values)
        if bound is None:
            sql, params = self.build(**_plain(values)).query.sql_with_params()
            return sql, list(params)
        compiled, params = bound
        return compiled.sql, params

    def _bind(self, values: dict[str, Any]) -> tuple[_Compiled, list] | None:
        """The compiled statement of these values' shape and its parameters; None where the
        queryset is to run as built (not PostgreSQL, an empty list)."""
        if connection.vendor != "postgresql":
            return None
        values = {
            name: _distinct(value) if isinstance(value, list | tuple | set | frozenset) else value
            for name, value in values.items()
        }
        if any(isinstance(value, list) and not value for value in values.values()):
            return None
        shape = tuple(sorted(self._shape_of(name, value) for name, value in values.items()))
        compiled = self._shapes.get(shape)
        if compiled is None:
            if len(self._shapes) >= MAX_SHAPES:  # the oldest shape goes: a bounded memory
                self._shapes.pop(next(iter(self._shapes)), None)
            compiled = self._shapes[shape] = self._compile(values)
        params = list(compiled.params)
        company = None
        for index, (name, item) in compiled.slots:
            if (name, item) == _COMPANY:
                company = company or tenancy.current_company_id()
                value = company
            else:
                value = values[name] if item is None else values[name][item]
            marker = params[index]
            if isinstance(marker, int) and type(marker) is not int:
                value = type(marker)(value)  # psycopg's Int4/Int8: the server-side binding's type
            params[index] = value
        if settings.STATEMENTS_CHECK:
            self._check(values, compiled.sql, params)
        return compiled, params

    @staticmethod
    def _shape_of(name: str, value: Any) -> tuple:
        if value is None or isinstance(value, bool):
            return (name, "value", value)
        if isinstance(value, Fixed):
            return (name, "fixed", value.value)
        if isinstance(value, list):
            return (name, "list", tuple(_kind(item).__name__ for item in value))
        return (name, "one", _kind(value).__name__)

    def _compile(self, values: dict[str, Any]) -> _Compiled:
        markers: dict[Any, tuple[str, int | None]] = {}
        number = 0

        def mark(name: str, item: int | None, value: Any) -> Any:
            nonlocal number
            number += 1
            marker = _marker(_kind(value), number)
            markers[marker] = (name, item)
            return marker

        arguments = {}
        for name, value in values.items():
            if value is None or isinstance(value, bool):
                arguments[name] = value
            elif isinstance(value, Fixed):
                arguments[name] = value.value
            elif isinstance(value, list):
                arguments[name] = [mark(name, i, item) for i, item in enumerate(value)]
            else:
                arguments[name] = mark(name, None, value)
        company = _INT  # the active company's marker: number 0, never an argument's
        markers[company] = _COMPANY
        with tenancy.building_as(company):
            queryset = self.build(**arguments)
            compiler = queryset.query.get_compiler(using=queryset.db)
            sql, params = compiler.as_sql()
        slots = []
        for index, param in enumerate(params):
            key = _key(param)
            if key in markers:
                slots.append((index, markers[key]))
            elif isinstance(param, str) and _STRING in param:
                # A string the lookup wraps (icontains: %…%) is not the argument any more.
                raise StatementError(f"a value changed on its way into the SQL: {param!r}")
        # An argument of no parameter is one this shape does not use (an admin's viewer).
        return _Compiled(
            queryset, compiler, sql, list(params), slots, _plain_rows(queryset, compiler)
        )

    def _run(self, compiled: _Compiled, params: list) -> list:
        if compiled.rows is not None:
            # values_list() with no converter: the driver's rows are the queryset's.
            with connections[compiled.compiler.using].cursor() as cursor:
                cursor.execute(compiled.sql, params)
                rows = cursor.fetchall()
            return [row[0] for row in rows] if compiled.rows == "flat" else rows
        compiler = copy.copy(compiled.compiler)
        # The connection is the thread's own: the one it was compiled with may be another
        # thread's (a threaded server, the tests' live server).
        compiler.connection = connections[compiler.using]
        sql = compiled.sql
        compiler.as_sql = lambda *args, **kwargs: (sql, params)
        queryset = compiled.queryset._chain()
        # The clone is iterated once, here: its iterable asks its query for the compiler.
        queryset.query.get_compiler = lambda *args, **kwargs: compiler
        return list(queryset)

    def _check(self, values: dict[str, Any], sql: str, params: list) -> None:
        plain_sql, plain_params = self.build(**_plain(values)).query.sql_with_params()
        if (plain_sql, list(plain_params)) != (sql, params):
            raise StatementError(
                f"{self.build!r} compiled once does not match its plain SQL:\n"
                f"{sql}\n{params}\n---\n{plain_sql}\n{list(plain_params)}"
            )


def _plain_rows(queryset: QuerySet, compiler: Any) -> str | None:
    """ "tuples" or "flat" where the driver's rows need nothing of Django's iterable: a
    values_list() whose columns have no converter (PostgreSQL gives dates, decimals and
    aware datetimes as they are) and whose SQL selects just those columns."""
    kinds = {ValuesListIterable: "tuples", FlatValuesListIterable: "flat"}
    kind = kinds.get(queryset._iterable_class)
    if kind is None or compiler.has_extra_select:
        return None
    fields = [column[0] for column in compiler.select[: compiler.col_count]]
    if compiler.get_converters(fields) or compiler.has_composite_fields(fields):
        return None
    return kind


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {name: v.value if isinstance(v, Fixed) else v for name, v in values.items()}


def _key(param: Any) -> Any:
    # psycopg's Int4/Int8 wrap the int markers (server-side binding); the dict finds them
    # by the int they equal, and a bool (an int too) is never a marker.
    if isinstance(param, bool):
        return ("bool", param)
    if isinstance(param, int):
        return int(param)
    if isinstance(param, datetime.date | str):
        return param
    return ("other", id(param))
