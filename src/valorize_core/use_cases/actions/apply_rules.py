"""Action: apply rules retroactively to existing transactions."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from uuid import UUID

from valorize_core.model.listing import TransactionFilter
from valorize_core.model.rules import apply_rules
from valorize_core.model.transactions import Transaction
from valorize_core.use_cases.actions._shared import (
    finish_job,
    record_categorized,
    record_updated,
    retire_transactions,
    retry_on_contention,
)
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.cooperative import cooperatively
from valorize_core.use_cases.lookups import require

__all__ = ["ApplyRules", "RetroactiveApply"]


@dataclass(frozen=True, slots=True)
class RetroactiveApply:
    """Which rules (``None``: all enabled) over which transactions.

    Transactions a person categorized are left alone unless ``include_manual``; transfers are
    never touched. With a ``job_id`` the job's result is stored in the same transaction.
    """

    tenant_id: UUID
    rule_ids: tuple[UUID, ...] | None = None
    filter: TransactionFilter = field(default_factory=TransactionFilter)
    include_manual: bool = False
    job_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """How many transactions were looked at and how many changed."""

    examined: int
    changed: int


def _changed_fields(new: Transaction, old: Transaction) -> tuple[str, ...]:
    return tuple(f for f in ("payee", "splits", "tags") if getattr(new, f) != getattr(old, f))


class ApplyRules:
    """Runs rules over stored transactions and saves what they change, atomically."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    @retry_on_contention
    async def __call__(self, command: RetroactiveApply) -> ApplyResult:
        """Apply and return the counts."""
        async with self._ports.uow(command.tenant_id) as uow:
            # The tree the changed rows' scopes are declared from (retire_transactions), held
            # shared before any row lock, as every transaction write holds it.
            await uow.categories.list(for_share=True)
            if command.rule_ids is None:
                rules = await uow.rules.list()
            else:
                rules = [await require(uow.rules.get, rid, "rule") for rid in command.rule_ids]
                rules = [replace(r, enabled=True) for r in rules]
            # The scan and the writes hand the event loop back every few milliseconds: the API and
            # the worker keep serving while 100,000 transactions go through the rules.
            candidates = [
                tx
                async for tx in cooperatively(await uow.transactions.all(command.filter))
                if not tx.is_transfer and (tx.categorization.source != "manual" or command.include_manual)
            ]
            examined, changed = len(candidates), 0
            versions: list[Transaction] = []  # each changed row before and after
            changing = [
                tx.id
                async for tx in cooperatively(candidates)
                if _changed_fields(apply_rules(rules, tx).transaction, tx)
            ]
            # Written from the rows as they stand locked, never from the unlocked scan: a
            # concurrent amount edit must not be overwritten with the amount read before it.
            async for tx in cooperatively(await uow.transactions.lock(changing)):
                if tx.is_transfer or (tx.categorization.source == "manual" and not command.include_manual):
                    continue
                new = apply_rules(rules, tx).transaction
                fields = _changed_fields(new, tx)
                if not fields:
                    continue
                changed += 1
                new = replace(new, updated_at=self._ports.clock.now())
                await uow.transactions.update(new)
                versions += (tx, new)
                record_updated(uow, self._ports, new, fields)
                if "splits" in fields:
                    record_categorized(uow, self._ports, new)
            if command.job_id is not None:
                summary = f"{changed} of {examined} transactions changed."
                await finish_job(uow, self._ports, command.job_id, summary, {"examined": examined, "changed": changed})
            if versions:
                await retire_transactions(uow, *versions)
            else:
                uow.retires()  # nothing changed (the job's record is no cached read)
            await uow.commit()
        return ApplyResult(examined, changed)
