"""The current company: one value in a context variable and in the database transaction.

Application code reaches tenant data only through `TenantManager`, which filters by the
active company and raises when none is active. PostgreSQL enforces the same boundary with
row-level security on the transaction-local setting `app.company_id`, so a forgotten filter
or a pooled connection can never carry one company's rows into another's request or task.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.db import connection, models, transaction

if TYPE_CHECKING:
    from accounts.models import Company

# Platform operators (Django admin) belong to no company: they see only company-less rows.
OPERATOR = 0

_company: ContextVar[int | None] = ContextVar("salesdesk_company", default=None)


class NoCompanyError(RuntimeError):
    def __init__(self) -> None:
        super().__init__(
            "No company is active: tenant data is reachable only inside tenant_context() "
            "or a request of a logged-in user."
        )


def active_company_id() -> int | None:
    return _company.get()


def current_company_id() -> int:
    company_id = _company.get()
    if company_id is None or company_id == OPERATOR:
        raise NoCompanyError()
    return company_id


def _set_database_company(company_id: int | None) -> None:
    if connection.vendor != "postgresql":
        return
    value = "" if company_id in (None, OPERATOR) else str(company_id)
    with connection.cursor() as cursor:
        # is_local=true: the setting dies with the transaction.
        cursor.execute("SELECT set_config('app.company_id', %s, true)", [value])


def _company_id(company: "Company | int | None") -> int | None:
    if company is None or isinstance(company, int):
        return company
    return company.pk


@contextmanager
def tenant_context(company: "Company | int | None") -> Iterator[None]:
    """Run the block in one transaction as `company` (None: no company, nothing visible)."""
    company_id = _company_id(company)
    previous = _company.get()
    token = _company.set(company_id)
    # Outermost, the block's commit ends the transaction-local setting: no statement needed.
    nested = connection.in_atomic_block
    try:
        with transaction.atomic():
            _set_database_company(company_id)
            yield
            # On an exception the rollback of this block restores the setting by itself.
            if nested:
                _set_database_company(previous)
    finally:
        _company.reset(token)


def activate(company: "Company | int | None") -> None:
    """Switch the company inside an already open tenant_context (login, API token)."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        raise RuntimeError("activate() needs an open transaction: use tenant_context()")
    company_id = _company_id(company)
    _company.set(company_id)
    _set_database_company(company_id)


class TenantQuerySet(models.QuerySet):
    pass


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """Every query through it is filtered to the active company, or raises."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(company_id=current_company_id())
