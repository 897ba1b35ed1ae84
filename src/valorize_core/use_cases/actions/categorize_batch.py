"""Action: categorize every uncategorized transaction (of one account, or all), on demand."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from valorize_core.model.listing import TransactionFilter
from valorize_core.model.transactions import Transaction
from valorize_core.use_cases.actions._shared import (
    finish_job,
    record_categorized,
    record_updated,
    retire_transactions,
    retry_on_contention,
)
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = ["BatchCategorization", "CategorizeBatch"]


@dataclass(frozen=True, slots=True)
class BatchCategorization:
    """Which transactions: the uncategorized ones of ``account_id`` (``None``: every account).

    With a ``job_id`` the counts are stored as the job's result in the same transaction.
    """

    tenant_id: UUID
    account_id: UUID | None = None
    job_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class BatchResult:
    """How many uncategorized transactions were looked at and how many got a category."""

    examined: int
    categorized: int


class CategorizeBatch:
    """Runs the categorizer (rules → memory → neighbours) over uncategorized transactions."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    @retry_on_contention
    async def __call__(self, command: BatchCategorization) -> BatchResult:
        """Categorize and return the counts."""
        async with self._ports.uow(command.tenant_id) as uow:
            accounts: tuple[UUID, ...] = ()
            if command.account_id is not None:
                accounts = ((await require(uow.accounts.get, command.account_id, "account")).id,)
            rules = await uow.rules.list()
            # The tree, held shared before any row lock: the changed rows' scopes are declared
            # from it (retire_transactions), as every transaction write does.
            known = {c.id for c in await uow.categories.list(for_share=True)}
            examined = categorized = 0
            outcomes: dict[UUID, Transaction] = {}  # scanned row -> what the categorizer made of it
            scanned: dict[UUID, Transaction] = {}
            versions: list[Transaction] = []  # each changed row before and after
            waiting = [
                tx
                for tx in await uow.transactions.all(TransactionFilter(account_ids=accounts, uncategorized=True))
                if not tx.is_transfer and len(tx.splits) == 1
            ]
            await self._ports.categorizer.read_ahead_many(
                uow, ((tx.description or tx.payee, tx.amount) for tx in waiting)
            )
            for tx in waiting:
                examined += 1
                new = (await self._ports.categorizer.categorize(tx, rules, uow, known=known)).transaction
                if new.category_id is None and new == tx:
                    continue
                outcomes[tx.id], scanned[tx.id] = new, tx
            # Written from the rows as they stand locked: a row edited since the scan is
            # categorized again, so a concurrent amount edit is never overwritten.
            for tx in await uow.transactions.lock(list(outcomes)):
                new = outcomes[tx.id]
                if tx != scanned[tx.id]:
                    if tx.is_transfer or len(tx.splits) != 1 or tx.category_id is not None:
                        continue
                    new = (await self._ports.categorizer.categorize(tx, rules, uow, known=known)).transaction
                    if new.category_id is None and new == tx:
                        continue
                new = replace(new, updated_at=self._ports.clock.now())
                await uow.transactions.update(new)
                versions += (tx, new)
                fields = tuple(f for f in ("payee", "splits", "tags") if getattr(new, f) != getattr(tx, f))
                record_updated(uow, self._ports, new, fields or ("categorization",))
                if new.category_id is not None:
                    categorized += 1
                    record_categorized(uow, self._ports, new)
            if command.job_id is not None:
                summary = f"{categorized} of {examined} uncategorized transactions categorized."
                await finish_job(uow, self._ports, command.job_id, summary,
                                 {"examined": examined, "categorized": categorized})  # fmt: skip
            if versions:
                await retire_transactions(uow, *versions)
            else:
                uow.retires()  # nothing changed (the job's record is no cached read)
            await uow.commit()
        return BatchResult(examined, categorized)
