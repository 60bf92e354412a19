"""The current company: one value in a context variable and in the database transaction.

Application code reaches tenant data only through `TenantManager`, which filters by the
active company and raises when none is active. PostgreSQL enforces the same boundary with
row-level security on the transaction-local setting `app.company_id`, so a forgotten filter
or a pooled connection can never carry one company's rows into another's request or task.
The platform operators' rows (users with no company) are reachable only in the explicit
operator context (`operator_context()`, the setting `app.operator`), never with no company.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection, models, transaction
from django.db.models.sql.where import AND

if TYPE_CHECKING:
    from accounts.models import Company

# Platform operators (the console at /operator/, `createoperator`) belong to no company.
# They work in the operator context, which is not "no company": there, and only there, the
# company-less rows (the operators' own) are visible; no company's rows are. The session
# of a logged-in operator holds this marker where a user's holds the company id.
OPERATOR = "operator"


@dataclass(frozen=True)
class _Scope:
    company_id: int | None = None
    operator: bool = False


_NOBODY = _Scope()
_scope: ContextVar[_Scope] = ContextVar("salesdesk_scope", default=_NOBODY)


class NoCompanyError(RuntimeError):
    def __init__(self) -> None:
        super().__init__(
            "No company is active: tenant data is reachable only inside tenant_context() "
            "or a request of a logged-in user."
        )


def active_company_id() -> int | None:
    """The active company's id; None with no company and in the operator context."""
    return _scope.get().company_id


def current_company_id() -> int:
    company_id = _scope.get().company_id
    if company_id is None:
        raise NoCompanyError()
    return company_id


def in_operator_context() -> bool:
    return _scope.get().operator


def _set_database_scope(scope: _Scope) -> None:
    if connection.vendor != "postgresql":
        return
    company = "" if scope.company_id is None else str(scope.company_id)
    operator = "on" if scope.operator else ""
    with connection.cursor() as cursor:
        # is_local=true: the settings die with the transaction.
        cursor.execute(
            "SELECT set_config('app.company_id', %s, true), set_config('app.operator', %s, true)",
            [company, operator],
        )


def _company_id(company: "Company | int | None") -> int | None:
    if company is None or isinstance(company, int):
        return company
    return company.pk


@contextmanager
def _scoped(scope: _Scope) -> Iterator[None]:
    previous = _scope.get()
    token = _scope.set(scope)
    # Outermost, the block's commit ends the transaction-local settings: no statement needed.
    nested = connection.in_atomic_block
    try:
        with transaction.atomic():
            _set_database_scope(scope)
            yield
            # On an exception, or a block marked for rollback (a failed request:
            # accounts.middleware.roll_back_request), the rollback of this block restores the
            # settings by itself.
            if nested and not connection.needs_rollback:
                _set_database_scope(previous)
    finally:
        _scope.reset(token)


@contextmanager
def tenant_context(company: "Company | int | None") -> Iterator[None]:
    """Run the block in one transaction as `company` (None: no company, nothing visible)."""
    with _scoped(_Scope(company_id=_company_id(company))):
        yield


@contextmanager
def operator_context() -> Iterator[None]:
    """Run the block in one transaction as the platform operators: their own (company-less)
    user rows are visible and writable, no company's rows are."""
    with _scoped(_Scope(operator=True)):
        yield


@contextmanager
def building_as(company_id: int) -> Iterator[None]:
    """Build (never run) querysets as if `company_id` were active: no transaction, no
    database setting. salesdesk.statements compiles a statement's SQL with a marker in
    place of the company, which each run fills with the active one."""
    token = _scope.set(_Scope(company_id=company_id))
    try:
        yield
    finally:
        _scope.reset(token)


def _activate(scope: _Scope) -> None:
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        raise RuntimeError("activating a company needs an open transaction: use tenant_context()")
    _scope.set(scope)
    _set_database_scope(scope)


def activate(company: "Company | int | None") -> None:
    """Switch the company inside an already open tenant_context (login, API token)."""
    _activate(_Scope(company_id=_company_id(company)))


def activate_operator() -> None:
    """Switch to the operator context inside an already open one (an operator's login)."""
    _activate(_Scope(operator=True))


class TenantQuerySet(models.QuerySet):
    pass


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """Every query through it is filtered to the active company, or raises."""

    def get_queryset(self) -> models.QuerySet:
        queryset = super().get_queryset()
        # `.filter(company_id=…)`'s very condition, made directly: the manager is asked
        # about ten times a page, and resolving the keyword through build_filter each time
        # was ~6 % of a request (bench/request_cost.py). Same SQL, same lookup class.
        query = queryset.query
        field = self.model._meta.get_field("company")
        column = field.get_col(query.get_initial_alias())
        query.where.add(field.get_lookup("exact")(column, current_company_id()), AND)
        return queryset
