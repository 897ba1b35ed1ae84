"""The list's read model: a transaction as plain values, in the order the API's response lists them.

A list page is read only to be shown. Rebuilding each row as a :class:`Transaction` (money,
splits, enums, a categorization) only for the API to take it apart again was a tenth of a list
miss's CPU; an adapter hands the page over as these tuples instead. ``transaction_view`` is the
one definition of every value: the memory adapter uses it, and the repository contract holds the
PostgreSQL adapter's views equal to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple
from uuid import UUID

from valorize_core.model.listing import PageKey
from valorize_core.model.money import decimal_string
from valorize_core.model.transactions import Transaction

__all__ = ["SplitView", "TransactionView", "ViewPage", "transaction_view"]

SplitView = tuple[UUID | None, str, str]
"""A split: category id (``None`` when uncategorized), amount as a decimal string, memo."""


class TransactionView(NamedTuple):
    """A transaction as shown: amounts as decimal strings in ``currency``, enums by value,
    the confidence as its decimal string."""

    id: UUID
    account_id: UUID
    booked_on: date
    description: str
    payee: str
    amount: str
    currency: str
    splits: tuple[SplitView, ...]
    tags: tuple[str, ...]
    status: str
    source: str
    external_id: str | None
    cat_source: str
    cat_confidence: str
    cat_explanation: str
    cat_rule_id: UUID | None
    transfer_id: UUID | None
    import_id: UUID | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ViewPage:
    """One page of views and the key to continue after, if there is more."""

    items: list[TransactionView]
    next_key: PageKey | None


def transaction_view(t: Transaction) -> TransactionView:
    """The view of a transaction."""
    exp = t.amount.currency.exponent
    c = t.categorization
    return TransactionView(
        t.id, t.account_id, t.booked_on, t.description, t.payee, decimal_string(t.amount.minor, exp),
        t.amount.currency.code, tuple((s.category_id, decimal_string(s.amount.minor, exp), s.memo) for s in t.splits),
        tuple(t.tags), t.status.value, t.source.value, t.external_id, c.source.value, str(c.confidence), c.explanation,
        c.rule_id, t.transfer_id, t.import_id, t.created_at, t.updated_at,
    )  # fmt: skip
