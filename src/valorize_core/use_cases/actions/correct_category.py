"""Action: a person corrects a transaction's category, and Valorize learns it at once."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.transactions import Transaction
from valorize_core.use_cases.actions.update_transaction import TransactionChanges, UpdateTransaction
from valorize_core.use_cases.context import Ports

__all__ = ["CategoryCorrection", "CorrectCategory"]


@dataclass(frozen=True, slots=True)
class CategoryCorrection:
    """The category a transaction really belongs in."""

    tenant_id: UUID
    transaction_id: UUID
    category_id: UUID


class CorrectCategory:
    """Recategorizes as the person says; the payee memory and the vector index learn it."""

    def __init__(self, ports: Ports) -> None:
        self._update = UpdateTransaction(ports)

    async def __call__(self, command: CategoryCorrection) -> Transaction:
        """Apply the correction and return the transaction."""
        return await self._update(
            TransactionChanges(command.tenant_id, command.transaction_id, category_id=command.category_id)
        )
