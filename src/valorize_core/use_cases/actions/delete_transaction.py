"""Action: delete a transaction (both legs, for a transfer)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.errors import NotFound
from valorize_core.model.events import TransactionDeleted
from valorize_core.model.transactions import Transaction
from valorize_core.use_cases.actions._shared import move_balances, retire_transactions, retry_on_contention
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require, together

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

    @retry_on_contention
    async def __call__(self, command: TransactionDeletion) -> list[UUID]:
        """Delete it (and its transfer twin); return the ids deleted.

        Which rows go is read first; the rows are then locked (both legs at once, in id order)
        and the balances move by the amounts as they stand locked.
        """
        async with self._ports.uow(command.tenant_id) as uow:
            # The tree its scopes are declared from (retire_transactions), held shared before any
            # row lock, in the round trip of the first read.
            _, found = await together(
                uow.categories.list(for_share=True),
                require(uow.transactions.get, command.transaction_id, "transaction"),
            )
            tx: Transaction = found
            ids = (
                [leg.id for leg in await uow.transactions.transfer_legs(tx.transfer_id)] if tx.transfer_id else [tx.id]
            )
            legs = await uow.transactions.lock(ids)
            if tx.id not in {leg.id for leg in legs}:
                raise NotFound("transaction", tx.id)  # deleted meanwhile
            deltas: dict[UUID, int] = {}
            for leg in legs:
                await uow.transactions.remove(leg.id)
                deltas[leg.account_id] = deltas.get(leg.account_id, 0) - leg.amount.minor
            await move_balances(uow, self._ports, deltas)
            for leg in legs:
                uow.record(
                    self._ports.event(
                        TransactionDeleted,
                        uow.tenant_id,
                        transaction_id=str(leg.id),
                        account_id=str(leg.account_id),
                    )
                )
                await uow.examples.remove(leg.id)
            await retire_transactions(uow, *legs)
            await uow.commit()
        return [leg.id for leg in legs]
