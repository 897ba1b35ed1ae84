"""Action: a person corrects a transaction's category, and Valorize learns it at once.

:class:`CorrectCategory` corrects one; :class:`CorrectCategories` many in one unit of work (a
person going through a list of uncategorized rows): all or none, each learned as a single
correction is (the word statistics and payee memory through the categorizer, which reads the
statistics once per unit), the rows and the neighbour examples written in one batch each.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from valorize_core.model.errors import Conflict, NotFound, ValidationError
from valorize_core.model.transactions import Categorization, Split, Transaction
from valorize_core.use_cases.actions._shared import (
    index_examples,
    learn_choices,
    record_categorized,
    record_updated,
    retire_transactions,
    retry_on_contention,
)
from valorize_core.use_cases.actions.update_transaction import TransactionChanges, UpdateTransaction
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require_categories

__all__ = ["MAX_CORRECTIONS", "CategoryCorrection", "CategoryCorrections", "CorrectCategories", "CorrectCategory"]

MAX_CORRECTIONS = 500
_CHANGED = ("splits", "categorization")


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


@dataclass(frozen=True, slots=True)
class CategoryCorrections:
    """Several corrections at once: ``(transaction_id, category_id)`` pairs, each transaction
    at most once, at most ``MAX_CORRECTIONS``."""

    tenant_id: UUID
    corrections: tuple[tuple[UUID, UUID], ...]


class CorrectCategories:
    """Applies every correction or none, in one unit of work, each as :class:`CorrectCategory`
    would (the whole amount to the category, ``manual``, learned by the payee memory and the
    neighbour index); a correction that changes nothing is not learned again."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    @retry_on_contention
    async def __call__(self, command: CategoryCorrections) -> list[Transaction]:
        """The transactions as stored, in the order given."""
        pairs = command.corrections
        if not 1 <= len(pairs) <= MAX_CORRECTIONS:
            raise ValidationError.for_field("corrections", f"give 1 to {MAX_CORRECTIONS} corrections")
        ids = [tx_id for tx_id, _ in pairs]
        if len(set(ids)) != len(ids):
            raise ValidationError.for_field("corrections", "each transaction at most once")
        async with self._ports.uow(command.tenant_id) as uow:
            locked = {tx.id: tx for tx in await uow.transactions.lock(ids)}
            for tx_id in ids:
                if tx_id not in locked:
                    raise NotFound("transaction", tx_id)
                if locked[tx_id].is_transfer:
                    raise Conflict("a transfer leg takes no category")
            # The tree its scopes are declared from (retire_transactions), held shared: the same
            # round trip as the check's read, which then reads the unit's cache.
            await uow.categories.list(for_share=True)
            await require_categories(uow, (category_id for _, category_id in pairs), "corrections")
            now = self._ports.clock.now()
            stored: list[Transaction] = []
            changed: list[tuple[Transaction, Transaction]] = []
            for tx_id, category_id in pairs:
                old = locked[tx_id]
                memo = old.splits[0].memo if len(old.splits) == 1 else ""
                new = replace(
                    old, splits=(Split(category_id, old.amount, memo),), categorization=Categorization.manual(),
                    updated_at=now,
                )  # fmt: skip
                changes = tuple(name for name in _CHANGED if getattr(new, name) != getattr(old, name))
                if changes:
                    record_updated(uow, self._ports, new, changes)
                    record_categorized(uow, self._ports, new)
                    changed.append((old, new))
                stored.append(new if changes else old)
            await uow.transactions.update_many([new for _, new in changed])
            await learn_choices(uow, self._ports, changed)  # each learned as a single correction is
            await index_examples(uow, self._ports, [new for _, new in changed])
            await retire_transactions(uow, *(tx for pair in changed for tx in pair))
            await uow.commit()
        return stored
