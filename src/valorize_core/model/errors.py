"""The one tree of domain errors.

Every error the core raises is a :class:`DomainError`. Entrypoints map the subclasses to HTTP
once (``ValidationError`` → 422, ``NotFound`` → 404, ``Conflict`` → 409, ``PermissionDenied``
→ 403, ``Unavailable`` → 503) and never need to know about individual use cases.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "Conflict",
    "Contention",
    "CurrencyMismatch",
    "DomainError",
    "FieldError",
    "InvalidMoney",
    "NotFound",
    "PermissionDenied",
    "Transient",
    "Unavailable",
    "UnbalancedSplits",
    "ValidationError",
]


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid field: a dotted path (``splits.1.amount``) and a human message."""

    field: str
    message: str


class DomainError(Exception):
    """Root of every error raised by ``valorize_core``."""

    code: str = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(DomainError):
    """Input breaks a rule of the domain; nothing was changed."""

    code = "validation_error"

    def __init__(self, message: str, errors: tuple[FieldError, ...] | list[FieldError] = ()) -> None:
        super().__init__(message)
        self.errors: tuple[FieldError, ...] = tuple(errors)

    @classmethod
    def for_field(cls, name: str, message: str) -> ValidationError:
        """An error about a single field."""
        return cls(f"{name}: {message}", [FieldError(name, message)])

    @classmethod
    def from_fields(cls, errors: Mapping[str, str]) -> ValidationError:
        """An error about several fields at once."""
        items = [FieldError(k, v) for k, v in errors.items()]
        return cls("; ".join(f"{e.field}: {e.message}" for e in items), items)

    def prefixed(self, prefix: str) -> ValidationError:
        """The same error with every field path put under ``prefix``."""
        items = [FieldError(f"{prefix}.{e.field}" if e.field else prefix, e.message) for e in self.errors]
        if not items:
            items = [FieldError(prefix, self.message)]
        clone = type(self).__new__(type(self))
        ValidationError.__init__(clone, f"{prefix}: {self.message}", items)
        return clone


class InvalidMoney(ValidationError):
    """An amount or currency that cannot be represented exactly."""

    code = "invalid_money"


class CurrencyMismatch(ValidationError):
    """Arithmetic or comparison across two currencies."""

    code = "currency_mismatch"


class UnbalancedSplits(ValidationError):
    """The splits of a transaction do not sum exactly to its amount."""

    code = "unbalanced_splits"


class NotFound(DomainError):
    """The entity does not exist for this tenant (other tenants' entities do not exist either)."""

    code = "not_found"

    def __init__(self, kind: str, entity_id: object) -> None:
        super().__init__(f"{kind} {entity_id} not found")
        self.kind = kind
        self.entity_id = entity_id


class Conflict(DomainError):
    """The request is valid but clashes with the current state (duplicates, references)."""

    code = "conflict"


class Contention(Conflict):
    """Concurrent writes collided (a deadlock or serialization failure the store detected);
    nothing was changed. Actions retry the whole unit of work a few times before raising it."""

    code = "contention"


class PermissionDenied(DomainError):
    """The actor may not do this (for example a viewer trying to write)."""

    code = "permission_denied"


class Transient(Exception):
    """A failure that trying again later may cure (a store restarting, a receiver that is down):
    the task queue retries it, and it is logged as one warning line, not a traceback."""


class Unavailable(DomainError, Transient):
    """The store cannot be reached right now (down, restarting, every connection busy); nothing
    was committed that the caller was not told about. Retrying later may succeed."""

    code = "unavailable"

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after
