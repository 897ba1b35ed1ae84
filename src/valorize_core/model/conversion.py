"""Converting what a report reads into one reporting currency, naming every rate it used or lacked.

- A **transaction** is converted at the rate of its booked date: each split on its own
  (``amount × rate``, half-even to the minor unit) and the amount is the sum of the converted
  splits, so a converted transaction still balances.
- A **balance** (net worth) is converted at the rate of the day it is a balance of (the period's
  last day, or the report's end).
- A missing rate is never zero: the transaction (or balance) is left out of the converted
  figures and named in ``missing`` (pair, day and how many amounts lacked it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from valorize_core.model.money import Currency, Money
from valorize_core.model.rates import Rate, RateBook, convert_at
from valorize_core.model.transactions import Transaction

__all__ = ["Converter", "MissingRate"]


@dataclass(frozen=True, slots=True)
class MissingRate:
    """No rate converted ``base`` into ``quote`` on ``on``; ``amounts`` were left out for it."""

    base: str
    quote: str
    on: date
    amounts: int


class Converter:
    """Converts into ``target`` with ``book``, remembering the stored rates it used and the
    rates it lacked."""

    def __init__(self, book: RateBook, target: Currency) -> None:
        self.book = book
        self.target = target
        self._used: dict[tuple[str, str, date, bool], Rate] = {}
        self._missing: Counter[tuple[str, str, date]] = Counter()

    def money(self, amount: Money, on: date) -> Money | None:
        """``amount`` in the target currency at the rate of ``on``, or ``None`` (noted) when missing."""
        if amount.currency == self.target:
            return amount
        quote = self.book.quote(amount.currency, self.target, on)
        if quote is None:
            self._missing[(amount.currency.code, self.target.code, on)] += 1
            return None
        for rate in quote.used:
            self._used[(*rate.pair, rate.on, rate.shared)] = rate
        return convert_at(amount, self.target, quote.value)

    def transactions(self, transactions: Iterable[Transaction]) -> list[Transaction]:
        """Each transaction in the target currency (those without a rate are left out, noted)."""
        out = []
        for tx in transactions:
            if tx.amount.currency == self.target:
                out.append(tx)
                continue
            quote = self.book.quote(tx.amount.currency, self.target, tx.booked_on)
            if quote is None:
                self._missing[(tx.amount.currency.code, self.target.code, tx.booked_on)] += 1
                continue
            for rate in quote.used:
                self._used[(*rate.pair, rate.on, rate.shared)] = rate
            splits = tuple(replace(s, amount=convert_at(s.amount, self.target, quote.value)) for s in tx.splits)
            amount = Money(sum(s.amount.minor for s in splits), self.target)
            out.append(replace(tx, amount=amount, splits=splits))
        return out

    @property
    def used(self) -> list[Rate]:
        """The stored rates used, by day and pair."""
        return [self._used[k] for k in sorted(self._used)]

    @property
    def missing(self) -> list[MissingRate]:
        """The rates that were missing, by day and pair."""
        return [
            MissingRate(b, q, on, n) for (b, q, on), n in sorted(self._missing.items(), key=lambda i: (i[0][2], i[0]))
        ]
