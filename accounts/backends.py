from functools import cache
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Model
from django.db.models.expressions import Col
from django.http import HttpRequest

from accounts import tenancy
from accounts.models import Company, LoginName, User


def login_key(username: object) -> str:
    """A typed login as it is stored: logins are case-insensitive and trimmed."""
    return str(username or "").strip().lower()


def axes_username(request: HttpRequest | None, credentials: dict | None) -> str:
    # The lockout counts "Alpha.Head" and "alpha.head" as the one login they are.
    if credentials:
        return login_key(credentials.get("username"))
    return login_key(getattr(request, "POST", {}).get("username"))


class TenantModelBackend(ModelBackend):
    """Finds the login's company first, then authenticates inside that company."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or password is None:
            return None
        entry = LoginName.objects.filter(username=login_key(username)).first()
        if entry is None:
            # Same cost as a wrong password, so timing does not tell which logins exist.
            User().set_password(password)
            return None
        if entry.company_id is None:
            tenancy.activate_operator()
        else:
            tenancy.activate(entry.company_id)
        return super().authenticate(request, username=entry.username, password=password, **kwargs)

    def get_user(self, user_id: Any) -> User | None:
        """The session's user with their company, which nearly every view reads: one query."""
        if tenancy.active_company_id() is None and not tenancy.in_operator_context():
            # A session without its company (or operator) marker: nobody, not an error.
            return None
        user = _user_with_company(user_id)
        if user is None:
            return None
        if user.company is not None and user.company.suspended_at is not None:
            # An operator suspended the company: its sessions end at their next request.
            return None
        return user if self.user_can_authenticate(user) else None


def _columns(model: type[Model], alias: str) -> list[tuple[str, Col, list]]:
    """Each concrete field's attribute, column, and the converters the ORM applies to it."""
    found = []
    for field in model._meta.concrete_fields:
        column = field.get_col(alias)
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        found.append((field.attname, column, converters))
    return found


@cache
def _user_statement(vendor: str) -> tuple[str, list, list]:
    """The statement of the tenant manager's `select_related("company").get(pk=…)`, written
    once per process (per database vendor, which the quoting and converters follow): the
    user's and the company's columns, the user matched by id and by the active company (an
    operator: by having none), as accounts.models.TenantUserManager filters."""
    quote = connection.ops.quote_name
    user_table, company_table = quote(User._meta.db_table), quote(Company._meta.db_table)
    users = _columns(User, User._meta.db_table)
    companies = _columns(Company, Company._meta.db_table)
    select = ", ".join(
        f"{quote(column.alias)}.{quote(column.target.column)}" for _, column, _ in users + companies
    )
    user_id = f"{user_table}.{quote(User._meta.pk.column)}"
    company_id = f"{user_table}.{quote(User._meta.get_field('company').column)}"
    sql = (
        f"SELECT {select} FROM {user_table} LEFT OUTER JOIN {company_table}"  # noqa: S608 - the models' tables
        f" ON {company_table}.{quote(Company._meta.pk.column)} = {company_id}"
        f" WHERE {user_id} = %s AND ((%s AND {company_id} IS NULL) OR {company_id} = %s)"
    )
    return sql, users, companies


def _from_row(model: type[Model], columns: list[tuple[str, Col, list]], values: tuple) -> Model:
    converted = []
    for (_attname, column, converters), value in zip(columns, values, strict=True):
        for converter in converters:
            value = converter(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, [attname for attname, _, _ in columns], converted)


def _user_with_company(user_id: Any) -> User | None:
    """The session's user and their company in one plain statement: through the ORM, building
    and compiling the query was the costliest part of every request's fixed cost
    (bench/request_cost.py). What it matches is the tenant manager's rule, and row-level
    security checks both rows as it does for any query."""
    try:
        pk = User._meta.pk.to_python(user_id)
    except (TypeError, ValueError, ValidationError):
        return None  # a session's id that is no id: nobody
    sql, users, companies = _user_statement(connection.vendor)
    operator = tenancy.in_operator_context()
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk, operator, None if operator else tenancy.current_company_id()])
        row = cursor.fetchone()
    if row is None:
        return None
    user = _from_row(User, users, row[: len(users)])
    company_row = row[len(users) :]
    company = None if company_row[0] is None else _from_row(Company, companies, company_row)
    User._meta.get_field("company").set_cached_value(user, company)
    return user
