"""Database errors as domain errors: constraint violations never leak as 500s, and an unreachable
database is :class:`Unavailable` (503, retry later), never a 500."""

from __future__ import annotations

import psycopg
from psycopg import errors as pg
from psycopg_pool import PoolTimeout

from valorize_core.model.errors import (
    Conflict,
    Contention,
    DomainError,
    NotFound,
    Unavailable,
    UnbalancedSplits,
    ValidationError,
)
from valorize_core.ports.idempotency import ClaimRetaken

__all__ = ["UNAVAILABLE", "domain_error", "unavailable"]

# The database cannot serve: connecting failed or the connection was lost (server down or
# restarting, a terminated backend, a cancelled statement), or no pooled connection came in time.
UNAVAILABLE: tuple[type[Exception], ...] = (psycopg.OperationalError, PoolTimeout)


def unavailable(exc: BaseException) -> Unavailable | None:
    """:class:`Unavailable` for an error that means the database cannot serve right now, else ``None``."""
    if isinstance(exc, Unavailable):
        return exc
    if isinstance(exc, PoolTimeout):
        return Unavailable("no database connection came in time")
    if isinstance(exc, psycopg.OperationalError) and exc.sqlstate not in _COLLIDED:
        return Unavailable("the database does not answer")
    return None


# Constraint name -> the domain error a person should see.
_UNIQUE = {
    "accounts_name": "an account with that name already exists",
    "categories_sibling_name": "a sibling category already has that name",
    "users_email": "that e-mail is already registered",
    "api_tokens_hash": "token exists",
    "transactions_bank_id": "a transaction with that bank id exists in the account",
    "transactions_fingerprint": "a transaction with that fingerprint exists in the account",
    "budgets_tenant_id_category_id_period_key": "the category already has a budget for that period",
}
_REFERENCED = {
    "transactions_tenant_id_account_id_currency_fkey": (
        "account",
        "the account does not exist or has another currency",
    ),
    "splits_tenant_id_category_id_fkey": ("category", "unknown category"),
    "categories_tenant_id_parent_id_fkey": ("category", "parent category does not exist"),
    "budgets_tenant_id_category_id_fkey": ("category", "unknown category"),
    "imports_tenant_id_account_id_fkey": ("account", "unknown account"),
    "transactions_tenant_id_import_id_fkey": ("import", "unknown import"),
    "api_tokens_tenant_id_user_id_fkey": ("user", "the user is not a member"),
    "memberships_user_id_fkey": ("user", "unknown user"),
}

# serialization_failure, deadlock_detected (psycopg's DeadlockDetected is no TransactionRollback).
_COLLIDED = {"40001", "40P01"}


def domain_error(exc: psycopg.Error) -> DomainError | None:
    """The domain error for a database error, or ``None`` when it is not the caller's fault."""
    diag = exc.diag
    constraint = diag.constraint_name or ""
    if diag.sqlstate in _COLLIDED:  # the unit was rolled back for colliding with another: retry it
        return Contention(diag.message_primary or "concurrent writes collided")
    if (down := unavailable(exc)) is not None:  # after collisions: psycopg makes those operational too
        return down
    if isinstance(exc, pg.UniqueViolation):
        return Conflict(_UNIQUE.get(constraint, f"already exists ({constraint or 'unique'})"))
    if isinstance(exc, pg.ForeignKeyViolation):
        message = diag.message_primary or ""
        if message.startswith("insert or update"):
            kind, text = _REFERENCED.get(constraint, ("row", f"refers to a missing row ({constraint})"))
            return NotFound(kind, text)
        return Conflict(f"still in use ({diag.table_name or constraint})")
    if diag.sqlstate == "VZ002":  # idempotency_mark_applied: the write's claim was retaken
        return ClaimRetaken()
    if diag.sqlstate == "VZ001":
        return UnbalancedSplits.for_field("splits", diag.message_primary or "splits do not sum to the amount")
    if isinstance(exc, (pg.CheckViolation, pg.NotNullViolation, pg.StringDataRightTruncation)):
        return ValidationError(f"rejected by the database: {constraint or diag.message_primary}")
    if isinstance(exc, (pg.NumericValueOutOfRange, pg.InvalidTextRepresentation, pg.DatetimeFieldOverflow)):
        return ValidationError(diag.message_primary or "value out of range")
    if isinstance(exc, pg.InsufficientPrivilege):
        return NotFound("row", "not visible to this tenant")
    return None
