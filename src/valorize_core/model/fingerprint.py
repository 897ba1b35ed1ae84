"""Deduplication fingerprints for imported transactions.

A bank id (OFX FITID) identifies a row when the bank gives one. Otherwise a row is identified by
its account, date, amount, normalized description, and its *occurrence*: the n-th identical row
in the same statement, so two real coffees on the same day stay two transactions while
importing the same statement twice adds nothing.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from datetime import date
from uuid import UUID

from valorize_core.model.money import Money
from valorize_core.model.payees import payee_key

__all__ = ["fingerprint", "fingerprints_with_occurrence"]


def fingerprint(account_id: UUID, booked_on: date, amount: Money, description: str, occurrence: int) -> str:
    """A stable SHA-256 hex fingerprint of one statement row."""
    return _digest(str(account_id), booked_on, amount.minor, amount.currency.code, payee_key(description), occurrence)


def _digest(account: str, booked_on: date, minor: int, code: str, key: str, occurrence: int) -> str:
    parts = (account, booked_on.isoformat(), str(minor), code, key, str(occurrence))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def fingerprints_with_occurrence(account_id: UUID, rows: Iterable[tuple[date, Money, str]]) -> list[str]:
    """Fingerprints for rows in statement order, numbering identical rows 0, 1, 2, ... (the
    account's text and each row's payee key made once)."""
    account = str(account_id)
    seen: Counter[tuple[date, int, str, str]] = Counter()
    out: list[str] = []
    for booked_on, amount, description in rows:
        key = (booked_on, amount.minor, amount.currency.code, payee_key(description))
        out.append(_digest(account, *key, seen[key]))
        seen[key] += 1
    return out
