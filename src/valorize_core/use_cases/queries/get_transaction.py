"""Query: one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.transactions import Transaction
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = ["GetTransaction", "TransactionLookup"]


@dataclass(frozen=True, slots=True)
class TransactionLookup:
    """Which transaction."""

    tenant_id: UUID
    transaction_id: UUID


class GetTransaction:
    """Reads one transaction or raises :class:`NotFound`."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: TransactionLookup) -> Transaction:
        """Run the query."""
        async with self._ports.uow.reading(query.tenant_id) as uow:
            return await require(uow.transactions.get, query.transaction_id, "transaction")
