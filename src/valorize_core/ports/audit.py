"""Port: what ``valorize verify`` reads to audit a tenant's books."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from valorize_core.model.accounts import Account
from valorize_core.model.events import DomainEvent
from valorize_core.model.transactions import Transaction

__all__ = ["AuditSource", "Books"]


@dataclass(frozen=True, slots=True)
class Books:
    """A tenant's accounts and transactions as they stood at one instant."""

    accounts: tuple[Account, ...]
    transactions: tuple[Transaction, ...]


class AuditSource(Protocol):
    """Read-only access to every tenant's books, for audits run by operators."""

    async def tenant_ids(self) -> list[UUID]:
        """Every tenant, oldest first."""
        ...

    async def books(self, tenant_id: UUID) -> Books:
        """The tenant's accounts and transactions read in one consistent snapshot, so that
        concurrent writes can never make a sound ledger look broken (or hide a break)."""
        ...

    async def unpublished(self, tenant_id: UUID, occurred_before: datetime) -> list[DomainEvent]:
        """The tenant's committed events still unpublished that occurred before a time,
        oldest first."""
        ...
