"""Deciding, row by row, what an imported statement line is: new, already known, or the posted
version of a pending transaction.

Three passes, strongest evidence first:

1. **Bank id** — the row's id (OFX ``FITID``) is stored for the account, or repeats in the file.
2. **Fingerprint** — a row without a bank id whose (date, amount, description, occurrence)
   fingerprint is stored.
3. **Fuzzy** — a stored transaction of the account with the same amount, booked within
   ``window_days`` of the row, not yet matched by another row of this file. Two transactions
   that carry *different* bank ids are never merged; the closest date wins, ties by id.

A match against a stored **pending** transaction by a **posted** row means the transaction has
posted: it is updated (status, date, amount for a same-id match, the bank id when it had none).
A fuzzy match against a transaction without a bank id adopts the row's bank id (``reconcile``),
so the next import matches it by id. Only stored transactions are candidates: two rows of one
file are never merged by the fuzzy pass (two coffees on one day are two coffees).

Everything here is pure: the import action gives the candidates and applies the decisions.
Which stored transactions can be candidates at all is :class:`MatchScope`: the import reads
those, not every transaction of the months its file covers.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from valorize_core.model.money import Money
from valorize_core.model.statements.rows import StatementRow
from valorize_core.model.transactions import Transaction, TransactionStatus

__all__ = ["FUZZY_WINDOW_DAYS", "MatchScope", "RowDecision", "RowOutcome", "match_rows"]

FUZZY_WINDOW_DAYS = 3


class RowOutcome(enum.StrEnum):
    """What an imported row turned out to be."""

    NEW = "new"
    DUPLICATE = "duplicate"
    POSTS = "posts"  # the posted version of a stored pending transaction
    RECONCILE = "reconcile"  # a stored transaction without bank id, which now adopts the row's


@dataclass(frozen=True, slots=True)
class RowDecision:
    """The outcome for one row and, unless it is new, the stored transaction it matched."""

    outcome: RowOutcome
    existing: Transaction | None = None


@dataclass(frozen=True, slots=True)
class MatchScope:
    """The stored transactions a statement's rows can match: booked from ``date_from`` to
    ``date_to`` (the rows' dates widened by the fuzzy window) and carrying one of the rows' bank
    ids or fingerprints, or one of their amounts (minor units: the rows are in the account's
    currency). Every transaction :func:`match_rows` can pick for a row is in it, so the rows'
    decisions are the same as with every transaction of those months, which is what an import
    read before: a year's statement into a large account loaded the account's whole year.
    """

    date_from: date
    date_to: date
    external_ids: frozenset[str]
    fingerprints: frozenset[str]
    amounts: frozenset[int]

    @classmethod
    def of(
        cls, rows: Sequence[StatementRow], fingerprints: Sequence[str], window_days: int = FUZZY_WINDOW_DAYS
    ) -> MatchScope | None:
        """The scope of ``rows`` (``None`` for no rows: nothing to match)."""
        if not rows:
            return None
        window = timedelta(days=window_days)
        days = [r.booked_on for r in rows]
        return cls(
            date_from=min(days) - window,
            date_to=max(days) + window,
            external_ids=frozenset(r.external_id for r in rows if r.external_id),
            fingerprints=frozenset(fingerprints),
            amounts=frozenset(r.amount.minor for r in rows),
        )

    def admits(self, tx: Transaction) -> bool:
        """Whether the stored ``tx`` is in the scope (the account is the caller's to check)."""
        return self.date_from <= tx.booked_on <= self.date_to and (
            tx.amount.minor in self.amounts
            or (tx.external_id is not None and tx.external_id in self.external_ids)
            or (tx.fingerprint is not None and tx.fingerprint in self.fingerprints)
        )


def _compatible(row: StatementRow, tx: Transaction) -> bool:
    return not (row.external_id and tx.external_id and row.external_id != tx.external_id)


def _settles(row: StatementRow, tx: Transaction) -> bool:
    return tx.status is TransactionStatus.PENDING and not row.pending


def match_rows(
    rows: Sequence[StatementRow],
    fingerprints: Sequence[str],
    *,
    known_ids: set[str],
    known_prints: set[str],
    candidates: Sequence[Transaction],
    window_days: int = FUZZY_WINDOW_DAYS,
) -> list[RowDecision]:
    """One decision per row, in order.

    ``known_ids``/``known_prints`` are the account's stored bank ids and fingerprints among the
    rows'; ``candidates`` are the account's stored transactions in the rows' :class:`MatchScope`
    (or any superset of them within its dates: the fuzzy pass and pending updates look only at
    these).
    """
    by_id = {tx.external_id: tx for tx in candidates if tx.external_id}
    by_print = {tx.fingerprint: tx for tx in candidates if tx.fingerprint}
    # The fuzzy pass needs the same amount: a row looks only at the candidates of its amount,
    # not at every stored transaction of the window.
    by_amount: dict[Money, list[Transaction]] = {}
    for tx in candidates:
        by_amount.setdefault(tx.amount, []).append(tx)
    claimed: set[UUID] = set()
    seen_ids: set[str] = set()
    # A stored transaction named by a row's bank id or fingerprint belongs to that row, whatever
    # the order of the file: claim them all before any fuzzy matching.
    for row, fp in zip(rows, fingerprints, strict=True):
        exact = by_id.get(row.external_id) if row.external_id else by_print.get(fp)
        if exact is not None:
            claimed.add(exact.id)
    decisions: list[RowDecision] = []
    for row, fp in zip(rows, fingerprints, strict=True):
        if row.external_id:
            if row.external_id in seen_ids:
                decisions.append(RowDecision(RowOutcome.DUPLICATE))
                continue
            seen_ids.add(row.external_id)
            if row.external_id in known_ids:
                stored = by_id.get(row.external_id)
                posts = stored is not None and _settles(row, stored)
                decisions.append(RowDecision(RowOutcome.POSTS if posts else RowOutcome.DUPLICATE, stored))
                continue
        elif fp in known_prints:
            decisions.append(RowDecision(RowOutcome.DUPLICATE, by_print.get(fp)))
            continue
        near = [
            tx
            for tx in by_amount.get(row.amount, ())
            if tx.id not in claimed and abs((tx.booked_on - row.booked_on).days) <= window_days and _compatible(row, tx)
        ]
        if not near:
            decisions.append(RowDecision(RowOutcome.NEW))
            continue
        match = min(near, key=lambda tx: (abs((tx.booked_on - row.booked_on).days), str(tx.id)))
        claimed.add(match.id)
        if _settles(row, match):
            decisions.append(RowDecision(RowOutcome.POSTS, match))
        elif row.external_id and not match.external_id:
            decisions.append(RowDecision(RowOutcome.RECONCILE, match))
        else:
            decisions.append(RowDecision(RowOutcome.DUPLICATE, match))
    return decisions
