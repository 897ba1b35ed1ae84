"""The double-entry view of a tenant's books.

Each transaction posts its ``amount`` to its (real) account and the negated splits to nominal
accounts: its categories, ``uncategorized``, or the transfer's clearing account. Opening
balances post against ``equity:opening``. So every transaction sums to zero, the whole ledger
sums to zero per currency, and the balance of an account as of any date is derivable from
postings and must equal the denormalized balance the repositories keep.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from valorize_core.model.accounts import Account
from valorize_core.model.money import Money
from valorize_core.model.transactions import Transaction

__all__ = ["FX_EXCHANGE", "OPENING_EQUITY", "UNCATEGORIZED", "Ledger", "Posting", "account_ref", "category_ref"]

OPENING_EQUITY = "equity:opening"
FX_EXCHANGE = "equity:fx_exchange"
"""Where the legs of transfers between two currencies clear, each in its own currency (the
currency trading account): every entry, and so the ledger, still sums to zero per currency."""
UNCATEGORIZED = "category:uncategorized"


def account_ref(account_id: UUID) -> str:
    """Ledger name of a real account."""
    return f"account:{account_id}"


def category_ref(category_id: UUID) -> str:
    """Ledger name of a category's nominal account."""
    return f"category:{category_id}"


def transfer_ref(transfer_id: UUID) -> str:
    """Ledger name of a transfer's clearing account (its two legs cancel there)."""
    return f"transfer:{transfer_id}"


@dataclass(frozen=True, slots=True)
class Posting:
    """One leg: ``amount`` posted to ``ledger_account`` on ``booked_on``."""

    entry_id: str
    booked_on: date
    ledger_account: str
    amount: Money


def postings_of(transaction: Transaction, *, exchange: bool = False) -> list[Posting]:
    """The balanced postings of one transaction; ``exchange``: it is a leg of a transfer between
    two currencies, cleared through :data:`FX_EXCHANGE` rather than the transfer's own account."""
    entry = str(transaction.id)
    legs = [Posting(entry, transaction.booked_on, account_ref(transaction.account_id), transaction.amount)]
    for split in transaction.splits:
        if split.category_id is not None:
            target = category_ref(split.category_id)
        elif transaction.transfer_id is not None:
            target = FX_EXCHANGE if exchange else transfer_ref(transaction.transfer_id)
        else:
            target = UNCATEGORIZED
        legs.append(Posting(entry, transaction.booked_on, target, -split.amount))
    return legs


def opening_postings(account: Account) -> list[Posting]:
    """The opening balance against opening equity.

    Dated ``date.min``: it is what the account held before its first recorded transaction,
    so it counts in every balance as of any date.
    """
    entry = f"opening:{account.id}"
    return [
        Posting(entry, date.min, account_ref(account.id), account.opening_balance),
        Posting(entry, date.min, OPENING_EQUITY, -account.opening_balance),
    ]


class Ledger:
    """The postings of a set of accounts and their transactions."""

    def __init__(self, accounts: Iterable[Account], transactions: Iterable[Transaction]) -> None:
        self._accounts = {a.id: a for a in accounts}
        self._transactions = list(transactions)

    def postings(self) -> Iterator[Posting]:
        """Every posting: opening balances first, then transactions."""
        for account in self._accounts.values():
            yield from opening_postings(account)
        currencies: dict[UUID, set[str]] = defaultdict(set)
        for tx in self._transactions:
            if tx.transfer_id is not None:
                currencies[tx.transfer_id].add(tx.amount.currency.code)
        for tx in self._transactions:
            exchange = tx.transfer_id is not None and len(currencies[tx.transfer_id]) > 1
            yield from postings_of(tx, exchange=exchange)

    def fx_position(self, as_of: date | None = None) -> dict[str, Money]:
        """What :data:`FX_EXCHANGE` holds per currency: the currencies given up (positive) and
        received (negative) by exchanges. Valued at any rate, its sum is the FX gain (negative)
        or loss (positive) of the exchanges against that rate (see docs/domain.md)."""
        return {code: money for (ref, code), money in self.balances(as_of).items() if ref == FX_EXCHANGE}

    def entries(self) -> dict[str, list[Posting]]:
        """Postings grouped by the entry (transaction) that made them."""
        out: dict[str, list[Posting]] = defaultdict(list)
        for posting in self.postings():
            out[posting.entry_id].append(posting)
        return dict(out)

    def trial_balance(self) -> dict[str, int]:
        """Sum of all postings per currency: always zero in a sound ledger."""
        totals: dict[str, int] = defaultdict(int)
        for posting in self.postings():
            totals[posting.amount.currency.code] += posting.amount.minor
        return dict(totals)

    def balances(self, as_of: date | None = None) -> dict[tuple[str, str], Money]:
        """Balance per ledger account and currency as of a date (inclusive; ``None``: all time).

        Keyed by ``(ledger_account, currency_code)``: nominal accounts such as opening equity
        or a category collect postings of every currency, and currencies never add up.
        """
        totals: dict[tuple[str, str], int] = defaultdict(int)
        for posting in self.postings():
            if as_of is None or posting.booked_on <= as_of:
                totals[(posting.ledger_account, posting.amount.currency.code)] += posting.amount.minor
        return {key: Money(minor, key[1]) for key, minor in totals.items()}

    def account_balance(self, account_id: UUID, as_of: date | None = None) -> Money:
        """A real account's balance as of a date (opening balance included)."""
        account = self._accounts[account_id]
        total = account.opening_balance.minor
        for tx in self._transactions:
            if tx.account_id == account_id and (as_of is None or tx.booked_on <= as_of):
                total += tx.amount.minor
        return Money(total, account.currency)
