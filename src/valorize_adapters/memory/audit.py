"""What ``valorize verify`` reads in memory: the committed data of each tenant."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from valorize_adapters.memory.store import MemoryStore
from valorize_core.model.events import DomainEvent
from valorize_core.model.listing import sort_key
from valorize_core.ports.audit import Books

__all__ = ["MemoryAuditSource"]


class MemoryAuditSource:
    """Committed data is swapped in whole on commit, so one tenant's data is one snapshot."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def tenant_ids(self) -> list[UUID]:
        found = [(d.tenant.created_at if d.tenant else None, t) for t, d in self._store.tenants.items()]
        return [t for _, t in sorted(found, key=lambda pair: (pair[0] is None, pair[0], pair[1]))]

    async def books(self, tenant_id: UUID) -> Books:
        data = self._store.data(tenant_id)
        accounts = sorted(data.accounts.values(), key=lambda a: (a.name.lower(), a.id))
        return Books(tuple(accounts), tuple(sorted(data.transactions.values(), key=sort_key)))

    async def unpublished(self, tenant_id: UUID, occurred_before: datetime) -> list[DomainEvent]:
        return [
            e
            for e in self._store.outbox
            if e.tenant_id == tenant_id and e.event_id not in self._store.published and e.occurred_at < occurred_before
        ]
