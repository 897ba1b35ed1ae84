"""What every statement parser produces, whatever the file format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from valorize_core.model.money import Money
from valorize_core.model.statements.imports import RowError
from valorize_core.model.text import clean_external_id

__all__ = ["ParsedStatement", "StatementBalance", "StatementRow"]


@dataclass(frozen=True, slots=True)
class StatementRow:
    """One transaction line of a bank statement; ``line`` is where it stood in the file."""

    line: int
    booked_on: date
    description: str
    amount: Money
    payee: str = ""
    external_id: str | None = None
    pending: bool = False

    def __post_init__(self) -> None:
        # spelled as the transaction stores it: the import looks it up and compares it so
        if self.external_id is not None:
            object.__setattr__(self, "external_id", clean_external_id(self.external_id))


@dataclass(frozen=True, slots=True)
class StatementBalance:
    """The booked balance a statement says the account had at the end of ``as_of`` (OFX
    ``LEDGERBAL``, CAMT ``CLBD``, MT940 ``:62F:``)."""

    amount: Money
    as_of: date


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    """The good rows and the per-row errors of one file, and its closing balance if it gives one."""

    rows: tuple[StatementRow, ...]
    errors: tuple[RowError, ...]
    closing_balance: StatementBalance | None = None
