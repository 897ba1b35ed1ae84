"""Query: one statement import (its status, counts and per-row errors)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.statements.imports import StatementImport
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = ["GetImport", "ImportLookup"]


@dataclass(frozen=True, slots=True)
class ImportLookup:
    """Which import."""

    tenant_id: UUID
    import_id: UUID


class GetImport:
    """Reads one import or raises :class:`NotFound`."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: ImportLookup) -> StatementImport:
        """Run the query."""
        async with self._ports.uow.reading(query.tenant_id) as uow:
            return await require(uow.imports.get, query.import_id, "import")
