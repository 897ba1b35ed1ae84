"""Port: what the tenant taught Valorize about payees."""

from __future__ import annotations

from typing import Protocol

from valorize_core.model.payee_memory import PayeeMemoryEntry

__all__ = ["PayeeMemoryRepository"]


class PayeeMemoryRepository(Protocol):
    """Payee memory of the unit of work's tenant, keyed by normalized payee."""

    async def get(self, payee_key: str) -> PayeeMemoryEntry | None:
        """The entry for a payee key, or ``None``."""
        ...

    async def all(self) -> list[PayeeMemoryEntry]:
        """Every payee of the tenant, by key."""
        ...

    async def put(self, entry: PayeeMemoryEntry) -> None:
        """Create or replace the entry for ``entry.payee_key``."""
        ...
