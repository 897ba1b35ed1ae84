"""Action: delete a transaction (both legs, for a transfer)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.actions._shared import move_balance, require
from valorize_core.context import Ports
from valorize_core.events import TransactionDeleted

__all__ = ["DeleteTransaction", "TransactionDeletion"]


@dataclass(frozen=True, slots=True)
class TransactionDeletion:
    """Which transaction to delete."""

    tenant_id: UUID
    transaction_id: UUID


class DeleteTransaction:
    """Deletes a transaction and reverses its effect on the balance."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: TransactionDeletion) -> list[UUID]:
        """Delete it (and its transfer twin); return the ids deleted."""
        async with self._ports.uow(command.tenant_id) as uow:
            tx = await require(uow.transactions.get, command.transaction_id, "transaction")
            legs = await uow.transactions.transfer_legs(tx.transfer_id) if tx.transfer_id else [tx]
            for leg in legs:
                await uow.transactions.remove(leg.id)
                await move_balance(uow, self._ports, leg.account_id, -leg.amount.minor)
                uow.record(
                    self._ports.event(
                        TransactionDeleted,
                        uow.tenant_id,
                        transaction_id=str(leg.id),
                        account_id=str(leg.account_id),
                    )
                )
                await uow.examples.remove(leg.id)
            await uow.commit()
        return [leg.id for leg in legs]
