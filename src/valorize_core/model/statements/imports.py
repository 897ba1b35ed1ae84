"""The record of a statement import: status, counts and per-row errors."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from valorize_core.model.money import Money
from valorize_core.model.text import parse_choice

__all__ = ["BalanceCheck", "ImportStatus", "RowError", "StatementImport"]


class ImportStatus(enum.StrEnum):
    """Where an import is."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that could not be imported: its line in the file and why."""

    line: int
    message: str


@dataclass(frozen=True, slots=True)
class BalanceCheck:
    """The closing balance a statement gives, against the account's balance at the end of the
    same day after the import (pending transactions left out, as banks leave them out)."""

    as_of: date
    statement_balance: Money
    account_balance: Money

    @property
    def difference(self) -> Money:
        """What the account holds beyond what the statement says (zero when they agree)."""
        return self.account_balance - self.statement_balance

    @property
    def matches(self) -> bool:
        """True when the account agrees with the statement."""
        return not self.difference


@dataclass(frozen=True, slots=True)
class StatementImport:
    """One import of a statement file into an account: ``imported`` new transactions,
    ``duplicates`` rows already known, ``updated`` pending transactions that posted;
    ``balance_check`` when the statement gives a closing balance."""

    id: UUID
    tenant_id: UUID
    account_id: UUID
    filename: str
    status: ImportStatus
    created_at: datetime
    total_rows: int = 0
    imported: int = 0
    duplicates: int = 0
    updated: int = 0
    errors: tuple[RowError, ...] = ()
    completed_at: datetime | None = None
    balance_check: BalanceCheck | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", parse_choice(ImportStatus, self.status, "status"))
        object.__setattr__(self, "errors", tuple(self.errors))
