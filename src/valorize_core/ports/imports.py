"""Port: statement imports and their outcomes."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from valorize_core.statements.imports import StatementImport

__all__ = ["ImportRepository"]


class ImportRepository(Protocol):
    """Imports of the unit of work's tenant."""

    async def get(self, import_id: UUID) -> StatementImport | None:
        """The import, or ``None``."""
        ...

    async def add(self, statement_import: StatementImport) -> None:
        """Store a new import record."""
        ...

    async def update(self, statement_import: StatementImport) -> None:
        """Store its new status and counts."""
        ...
