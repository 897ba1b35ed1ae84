"""Action: edit a transaction (date, text, amount, splits, category, tags, status, account)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from valorize_core.model.errors import Conflict, ValidationError
from valorize_core.model.transactions import (
    Categorization,
    CategorizationSource,
    Split,
    Transaction,
    TransactionStatus,
)
from valorize_core.use_cases.actions._shared import (
    check_date,
    index_example,
    learn,
    learn_choice,
    move_balances,
    parse_amount,
    record_categorized,
    record_updated,
    retire_transactions,
    retry_on_contention,
)
from valorize_core.use_cases.actions.create_transaction import SplitInput, build_splits
from valorize_core.use_cases.categorization import CONFIRMATION_WEIGHT
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import lock_transaction, require, require_categories

__all__ = ["TransactionChanges", "UpdateTransaction"]

_COMPARED = (
    "account_id",
    "booked_on",
    "description",
    "payee",
    "amount",
    "splits",
    "categorization",
    "tags",
    "status",
)


_LEARNED_SOURCES = (CategorizationSource.MEMORY, CategorizationSource.NEIGHBOURS)


@dataclass(frozen=True, slots=True)
class TransactionChanges:
    """Fields to change; ``None`` leaves a field as it is.

    ``category_id`` recategorizes the whole amount (``"none"`` makes it uncategorized);
    ``splits`` replaces every split. A changed ``amount`` of a single-split transaction moves
    its split along; a split transaction needs new ``splits`` with it.
    """

    tenant_id: UUID
    transaction_id: UUID
    booked_on: date | None = None
    description: str | None = None
    payee: str | None = None
    amount: str | None = None
    splits: tuple[SplitInput, ...] | None = None
    category_id: UUID | str | None = None
    tags: tuple[str, ...] | None = None
    status: TransactionStatus | str | None = None
    account_id: UUID | None = None


class UpdateTransaction:
    """Edits a transaction; balances, outbox and payee memory follow in one unit of work."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    @retry_on_contention
    async def __call__(self, command: TransactionChanges) -> Transaction:
        """Apply the changes and return the transaction as stored.

        The transaction is read locked, so the balance moves by the difference from the row as
        it stands in this database transaction, whatever concurrent edits committed before.
        """
        async with self._ports.uow(command.tenant_id) as uow:
            old = await lock_transaction(uow, command.transaction_id)
            structural = command.amount is not None or command.splits is not None or command.account_id is not None
            if old.is_transfer and (structural or command.category_id is not None):
                raise Conflict("a transfer leg's amount, account and splits change with its transfer")
            account = await require(uow.accounts.get, command.account_id or old.account_id, "account")
            if account.currency != old.amount.currency:
                raise ValidationError.for_field("account_id", "the new account has another currency")
            amount = old.amount if command.amount is None else parse_amount(command.amount, account.currency)
            splits = old.splits
            categorization = old.categorization
            if command.splits is not None:
                if command.category_id is not None:
                    raise ValidationError.for_field("category_id", "give splits or category_id, not both")
                splits = build_splits(amount, account.currency, command.splits, None)
                categorization = Categorization.manual()
            elif command.category_id is not None:
                category_id = None if command.category_id == "none" else command.category_id
                if isinstance(category_id, str):
                    raise ValidationError.for_field("category_id", "must be an id or 'none'")
                splits = (Split(category_id, amount, old.splits[0].memo if len(old.splits) == 1 else ""),)
                categorization = Categorization.manual() if category_id else Categorization.none("cleared by the user")
            elif amount != old.amount:
                if len(old.splits) > 1:
                    raise ValidationError.for_field("splits", "give new splits when changing a split amount")
                splits = (replace(old.splits[0], amount=amount),)
            # The tree its scopes are declared from (retire_transactions), held shared: the same
            # round trip as the check's read, which then reads the unit's cache.
            await uow.categories.list(for_share=True)
            await require_categories(uow, (s.category_id for s in splits), "splits")
            new = replace(
                old,
                account_id=account.id,
                booked_on=old.booked_on if command.booked_on is None else check_date(command.booked_on, "booked_on"),
                description=old.description if command.description is None else command.description,
                payee=old.payee if command.payee is None else command.payee,
                amount=amount,
                splits=splits,
                categorization=categorization,
                tags=old.tags if command.tags is None else command.tags,
                status=old.status if command.status is None else command.status,  # type: ignore[arg-type]
                updated_at=self._ports.clock.now(),
            )
            changes = tuple(name for name in _COMPARED if getattr(new, name) != getattr(old, name))
            if not changes:
                return old
            await uow.transactions.update(new)
            deltas = {old.account_id: -old.amount.minor}
            deltas[new.account_id] = deltas.get(new.account_id, 0) + new.amount.minor
            await move_balances(uow, self._ports, deltas)
            record_updated(uow, self._ports, new, changes)
            chosen = command.category_id is not None or command.splits is not None
            previous = old.category_id
            kept = previous is not None and previous == new.category_id
            kept = kept and old.categorization.source in _LEARNED_SOURCES  # an automatic category, left as it was
            if chosen and new.category_id is not None:  # a person's choice: learn it at once
                await learn_choice(uow, self._ports, old, new)
            elif kept and previous is not None and "status" in changes and new.status is TransactionStatus.RECONCILED:
                # reconciled with the automatic category left as it was: a quiet confirmation
                await learn(uow, self._ports, new, previous, weight=CONFIRMATION_WEIGHT)
                await index_example(uow, self._ports, new)
            if "splits" in changes or "categorization" in changes:
                record_categorized(uow, self._ports, new)
            if chosen or ("description" in changes and new.categorization.source == "manual"):
                await index_example(uow, self._ports, new)
            await retire_transactions(uow, old, new)
            await uow.commit()
        return new
