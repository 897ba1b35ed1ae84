"""Read scopes: the parts of a tenant's data a cached read depends on and a write changes.

The read cache keeps a version counter per tenant and one per scope. A cached read depends on
the tenant's counter and on the scopes named here for it; a write retires the scopes it
declares (``UnitOfWork.retires``), or, declaring none, the whole tenant. A scope is a name:

``accounts``
    the account list: names, balances (every transaction moves one).
``ledger``
    any transaction at all (unfiltered lists, budget status, net worth, long reports).
``account:{id}``
    the transactions of one account.
``category:{id}`` / ``category:none``
    the transactions with a split in the category *or under it* (a list filtered by a
    category includes its subcategories), or with an uncategorized split.
``month:{yyyy-mm}``
    the transactions booked in a calendar month (reports of a short range).
``budgets``
    what the budget status shows besides transactions and categories: the budgets (setting
    or deleting one retires only the status).
``categories``
    the category tree as reports and the budget status read it: names (a report row's path),
    kinds, parents (a list filtered by a category depends on its ``category:{id}`` scope
    instead, which a move retires for the old and the new ancestors).
``conversion``
    what converting between currencies reads: the tenant's exchange rates and its reporting
    currency (reports, the budget status).
``shared``
    data every tenant reads (the global exchange rates): a write declaring it retires every
    cached read of every tenant at once (the cache's epoch), whatever else it declares.
``*``
    any write at all that declared scopes: a read that names no scopes depends on it, so it
    is retired by every write, as before scopes existed.

A write that changes transactions retires :func:`transaction_scopes` of every version of
every transaction it touches (before and after an edit), which includes ``ledger`` and
``accounts``. Budgets retire ``budgets``; a category's rename, kind or move ``categories`` (a
move also :func:`moved_category_scopes`; a new category, with no rows, nothing); account writes
``accounts``; the tenant's rates and reporting currency ``conversion``. Writes no cached read
shows (rules, schedules, an import's record) declare nothing changed. What declares nothing
at all — a restore — retires every read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from uuid import UUID

from valorize_core.model.categories import CategoryTree
from valorize_core.model.transactions import Transaction

__all__ = [
    "ACCOUNTS",
    "ANY",
    "BUDGETS",
    "CATEGORIES",
    "CONVERSION",
    "LEDGER",
    "MAX_MONTH_SCOPES",
    "SHARED",
    "account_scope",
    "category_scope",
    "month_scope",
    "months_between",
    "moved_category_scopes",
    "transaction_scopes",
]

ANY = "*"
ACCOUNTS = "accounts"
LEDGER = "ledger"
BUDGETS = "budgets"
SHARED = "shared"
CATEGORIES = "categories"
CONVERSION = "conversion"
MAX_MONTH_SCOPES = 24  # a read over more months depends on the ledger instead


def account_scope(account_id: UUID) -> str:
    """The transactions of one account."""
    return f"account:{account_id}"


def category_scope(category_id: UUID | None) -> str:
    """The transactions with a split in this category or under it (``None``: uncategorized)."""
    return "category:none" if category_id is None else f"category:{category_id}"


def month_scope(day: date) -> str:
    """The transactions booked in ``day``'s calendar month."""
    return f"month:{day.year:04d}-{day.month:02d}"


def months_between(start: date, end: date) -> list[str]:
    """The month scopes from ``start`` to ``end`` inclusive (empty when ``end`` is before)."""
    out: list[str] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append(f"month:{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def transaction_scopes(transactions: Iterable[Transaction], tree: CategoryTree | None) -> set[str]:
    """What writing these transactions (each version of each: before and after) changes.

    The categories of their splits and every ancestor of those (a category's list includes
    its subcategories); ``tree`` is needed only when a split has a category.
    """
    scopes = {LEDGER, ACCOUNTS}
    for tx in transactions:
        scopes.add(account_scope(tx.account_id))
        scopes.add(month_scope(tx.booked_on))
        for split in tx.splits:
            scopes.add(category_scope(split.category_id))
            if split.category_id is not None:
                if tree is None:
                    raise ValueError("a categorized transaction's scopes need the category tree")
                scopes.update(category_scope(c.id) for c in tree.ancestors(split.category_id))
    return scopes


def moved_category_scopes(tree: CategoryTree, category_id: UUID, new_parent_id: UUID | None) -> set[str]:
    """What moving a category under ``new_parent_id`` changes besides the tree itself: the lists
    of its old ancestors (they no longer include its rows) and of its new ones (they now do),
    from ``tree`` as it stood before the move. Its own list and its descendants' do not change."""
    scopes = {category_scope(c.id) for c in tree.ancestors(category_id)}
    if new_parent_id is not None:
        scopes.add(category_scope(new_parent_id))
        scopes.update(category_scope(c.id) for c in tree.ancestors(new_parent_id))
    return scopes
