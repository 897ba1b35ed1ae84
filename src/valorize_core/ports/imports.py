"""Port: statement imports and their outcomes."""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from valorize_core.model.statements.imports import StatementImport

__all__ = ["ImportRepository"]


class ImportRepository(Protocol):
    """Imports of the unit of work's tenant."""

    async def get(self, import_id: UUID) -> StatementImport | None:
        """The import, or ``None``."""
        ...

    async def list(self) -> list[StatementImport]:
        """Every import of the tenant, oldest first (ties by id)."""
        ...

    async def add(self, statement_import: StatementImport) -> None:
        """Store a new import record."""
        ...

    async def update(self, statement_import: StatementImport) -> None:
        """Store its new status and counts."""
        ...

    async def save_source(self, import_id: UUID, fmt: str, content: bytes, options: dict[str, Any]) -> None:
        """Keep the uploaded file and how to read it, for the import task."""
        ...

    async def source(self, import_id: UUID) -> tuple[str, bytes, dict[str, Any]] | None:
        """The kept file: format, bytes and options (``None`` once taken or if absent)."""
        ...

    async def take_source(self, import_id: UUID) -> tuple[str, bytes, dict[str, Any]] | None:
        """The kept file, released by this unit of work (``None`` when there is none).

        The unit that runs the import takes its file: the release commits with the outcome or
        not at all. While one unit holds it, another taking it waits, then finds it gone (or,
        if the first rolled back, takes it)."""
        ...
