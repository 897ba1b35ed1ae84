"""Port: what the tenant taught Valorize about payees."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol
from uuid import UUID

from valorize_core.model.payee_memory import PayeeMemoryEntry

__all__ = ["PayeeMemoryRepository"]


class PayeeMemoryRepository(Protocol):
    """Payee memory of the unit of work's tenant, keyed by normalized payee."""

    async def get(self, payee_key: str) -> PayeeMemoryEntry | None:
        """The entry for a payee key, or ``None``."""
        ...

    async def get_many(self, payee_keys: Collection[str]) -> dict[str, PayeeMemoryEntry]:
        """The entries of those keys that exist, in one read. The unit keeps what it read, so
        a later :meth:`get` of one of these keys (found or not) asks the storage nothing."""
        ...

    async def all(self) -> list[PayeeMemoryEntry]:
        """Every payee of the tenant, by key."""
        ...

    async def put(self, entry: PayeeMemoryEntry) -> None:
        """Create or replace the entry for ``entry.payee_key``."""
        ...

    async def word_counts(self, words: Sequence[str]) -> dict[str, dict[UUID, float]]:
        """For each of ``words`` the tenant's labeled rows carried: weight by category (words
        never seen are absent). The statistics behind :class:`~valorize_core.model.payee_words.WordStats`."""
        ...

    async def learn_words(self, words: Sequence[str], category_id: UUID, weight: float) -> None:
        """Add ``weight`` to each distinct word of ``words`` under ``category_id``; a negative
        ``weight`` unlearns, and a count that reaches zero or below is forgotten."""
        ...

    async def put_many(self, entries: Collection[PayeeMemoryEntry]) -> None:
        """:meth:`put` of each entry (each key at most once), in one write."""
        ...
