"""Port: the tenant's transactions, with keyset pagination."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol
from uuid import UUID

from valorize_core.model.listing import Page, PageKey, TransactionFilter
from valorize_core.model.statements.matching import MatchScope
from valorize_core.model.transaction_view import ViewPage
from valorize_core.model.transactions import Transaction

__all__ = ["TransactionRepository"]


class TransactionRepository(Protocol):
    """Transactions of the unit of work's tenant."""

    async def get(self, transaction_id: UUID) -> Transaction | None:
        """The transaction, or ``None``."""
        ...

    async def get_many(self, transaction_ids: Sequence[UUID]) -> list[Transaction]:
        """Those of the transactions that exist, ordered by id, in one read."""
        ...

    async def lock(self, transaction_ids: Sequence[UUID]) -> list[Transaction]:
        """Lock the transactions until the unit of work ends and return them as they stand now.

        Locks are taken in id order (so two units locking overlapping sets cannot deadlock on
        them) and the rows are read after every lock is held, splits included: a write that
        reads its row through ``lock`` computes from the latest committed version, never from a
        stale read. Ids that do not exist (or were deleted meanwhile) are left out; the result
        is ordered by id.
        """
        ...

    async def add(self, transaction: Transaction) -> None:
        """Store a new transaction (the caller updates the account balance)."""
        ...

    async def add_many(self, transactions: Sequence[Transaction]) -> None:
        """Store many new transactions at once (imports)."""
        ...

    async def update(self, transaction: Transaction) -> None:
        """Replace a stored transaction, splits included."""
        ...

    async def update_many(self, transactions: Sequence[Transaction]) -> None:
        """Store many changed transactions (each at most once), as :meth:`update` would each."""
        ...

    async def remove(self, transaction_id: UUID) -> None:
        """Delete a transaction."""
        ...

    async def page(self, filter: TransactionFilter, after: PageKey | None, limit: int) -> Page:
        """One page, newest first by (booked_on, id); ``after`` is the last row's key."""
        ...

    async def page_view(self, filter: TransactionFilter, after: PageKey | None, limit: int) -> ViewPage:
        """The same page as :meth:`page`, as the read model's views (``transaction_view`` of each)."""
        ...

    async def all(self, filter: TransactionFilter) -> list[Transaction]:
        """Every matching transaction (for reports, budgets and retroactive rules)."""
        ...

    async def match_candidates(self, account_id: UUID, scope: MatchScope) -> list[Transaction]:
        """The account's transactions ``scope`` admits, by (booked_on, id): what an imported
        statement's rows can match, read without the rest of the months they cover."""
        ...

    async def sum_outside_balance(self, account_id: UUID, as_of: date, pending_from: date) -> int:
        """In minor units, what the account's balance holds that a bank's balance at the end of
        ``as_of`` leaves out: every transaction booked after ``as_of`` (any status), and the
        pending ones booked from ``pending_from`` through ``as_of`` (a statement's closing-balance
        check), summed by the store without reading the rows."""
        ...

    async def count_for_account(self, account_id: UUID) -> int:
        """How many transactions an account has."""
        ...

    async def count_for_category(self, category_id: UUID) -> int:
        """How many transactions have a split in the category."""
        ...

    async def clear_category(self, category_id: UUID) -> list[UUID]:
        """Make the category's splits uncategorized; return the transactions touched."""
        ...

    async def transfer_legs(self, transfer_id: UUID) -> list[Transaction]:
        """Both legs of a transfer."""
        ...

    async def existing_external_ids(self, account_id: UUID, external_ids: Sequence[str]) -> set[str]:
        """Which bank ids are already stored for the account."""
        ...

    async def existing_fingerprints(self, account_id: UUID, fingerprints: Sequence[str]) -> set[str]:
        """Which fingerprints are already stored for the account."""
        ...
