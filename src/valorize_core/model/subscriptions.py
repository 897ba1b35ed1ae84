"""Subscriptions found in the history: payees charged at a regular cadence with stable amounts.

:func:`find_subscriptions` groups an account's outflows by payee key and currency, and keeps a
group when

- it has enough charges (:data:`MIN_CHARGES` for the cadence),
- the median gap between charges is a cadence (weekly, monthly, yearly), and most gaps are
  that cadence within its tolerance (a charge moved by a weekend or a short month still fits;
  a missing month breaks only one gap),
- most consecutive amounts are within :data:`AMOUNT_TOLERANCE` of each other (a price change is
  one unstable step, not a broken subscription),
- the last charge is recent: the next one is not overdue by more than the cadence's grace.

Confidence in [0, 1] is the product of the regular-gap share, the stable-amount share and how
much history there is; the evidence is every charge, date and amount. Pure and linear in the
number of transactions after one sort per group.
"""

from __future__ import annotations

import enum
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import pairwise
from statistics import median
from uuid import UUID

from valorize_core.model.money import Money
from valorize_core.model.payees import display_payee, payee_key
from valorize_core.model.text import parse_choice
from valorize_core.model.transactions import Transaction, TransactionSource

__all__ = [
    "AMOUNT_TOLERANCE",
    "MIN_CONFIDENCE",
    "Cadence",
    "Charge",
    "FoundSubscription",
    "SubscriptionStatus",
    "TrackedSubscription",
    "find_subscriptions",
    "price_rose",
    "subscription_id",
]

AMOUNT_TOLERANCE = Decimal("0.05")  # consecutive charges within 5 % count as the same price
MIN_CONFIDENCE = Decimal("0.5")


class Cadence(enum.StrEnum):
    """How often a subscription charges."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"
    YEARLY = "yearly"

    @property
    def days(self) -> int:
        """The nominal gap in days."""
        return {"weekly": 7, "monthly": 30, "yearly": 365}[self.value]

    @property
    def tolerance(self) -> int:
        """How far a gap may be from nominal and still count (days)."""
        return {"weekly": 1, "monthly": 5, "yearly": 10}[self.value]

    @property
    def min_charges(self) -> int:
        """Charges needed before a cadence is believed."""
        return {"weekly": 4, "monthly": 3, "yearly": 2}[self.value]

    @property
    def full_history(self) -> int:
        """Charges after which more history adds no confidence."""
        return {"weekly": 8, "monthly": 6, "yearly": 3}[self.value]

    def rule(self, last: date) -> str:
        """An RRULE continuing the cadence from a charge on ``last``."""
        if self is Cadence.WEEKLY:
            return f"FREQ=WEEKLY;BYDAY={('MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU')[last.weekday()]}"
        if self is Cadence.MONTHLY:
            return f"FREQ=MONTHLY;BYMONTHDAY={last.day}"
        return f"FREQ=YEARLY;BYMONTH={last.month};BYMONTHDAY={last.day}"


def _cadence_of(gap: float) -> Cadence | None:
    for cadence in Cadence:
        if abs(gap - cadence.days) <= cadence.tolerance:
            return cadence
    return None


@dataclass(frozen=True, slots=True)
class Charge:
    """One charge of the evidence."""

    on: date
    amount: Money
    transaction_id: UUID


@dataclass(frozen=True, slots=True)
class FoundSubscription:
    """A payee that looks like a subscription on an account."""

    id: UUID
    account_id: UUID
    payee_key: str
    payee: str
    cadence: Cadence
    amount: Money  # the latest charge
    typical: Money  # the median charge
    next_expected: date
    confidence: Decimal
    evidence: tuple[Charge, ...]

    @property
    def last_charged(self) -> date:
        """The latest charge's date."""
        return self.evidence[-1].on


def subscription_id(tenant_id: UUID, account_id: UUID, key: str) -> UUID:
    """A subscription's id: the same payee on the same account is one subscription, found again."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"valorize:subscription:{tenant_id}:{account_id}:{key}")


def _share(hits: int, total: int) -> Decimal:
    return Decimal(hits) / Decimal(total) if total else Decimal(0)


def _close(a: int, b: int) -> bool:
    return abs(a - b) <= max(1, int(AMOUNT_TOLERANCE * abs(b)))


def find_subscriptions(
    tenant_id: UUID, transactions: Iterable[Transaction], today: date, min_confidence: Decimal = MIN_CONFIDENCE
) -> list[FoundSubscription]:
    """Subscriptions in ``transactions`` (outflows; transfers and scheduled postings are left
    out), most confident first (ties by payee)."""
    groups: dict[tuple[UUID, str, str], list[Transaction]] = defaultdict(list)
    for tx in transactions:
        if tx.amount.minor >= 0 or tx.transfer_id is not None or tx.source is TransactionSource.RECURRING:
            continue
        key = payee_key(tx.payee or tx.description)
        if key:
            groups[(tx.account_id, key, tx.amount.currency.code)].append(tx)
    found = []
    for (account_id, key, _), txs in groups.items():
        candidate = _candidate(tenant_id, account_id, key, txs, today)
        if candidate is not None and candidate.confidence >= min_confidence:
            found.append(candidate)
    return sorted(found, key=lambda s: (-s.confidence, s.payee_key, str(s.account_id)))


def _candidate(
    tenant_id: UUID, account_id: UUID, key: str, txs: list[Transaction], today: date
) -> FoundSubscription | None:
    txs = sorted(txs, key=lambda t: (t.booked_on, t.id))
    if len(txs) < min(c.min_charges for c in Cadence):
        return None
    gaps = [(b.booked_on - a.booked_on).days for a, b in pairwise(txs)]
    cadence = _cadence_of(median(gaps))
    if cadence is None or len(txs) < cadence.min_charges:
        return None
    regular = sum(
        1 for g in gaps if abs(g - cadence.days) <= cadence.tolerance + (1 if cadence is Cadence.MONTHLY else 0)
    )
    amounts = [t.amount.minor for t in txs]
    stable = sum(1 for a, b in pairwise(amounts) if _close(b, a))
    regularity, stability = _share(regular, len(gaps)), _share(stable, len(gaps))
    if regularity < Decimal("0.6") or stability < Decimal("0.6"):
        return None
    last = txs[-1].booked_on
    next_expected = last + timedelta(days=cadence.days)
    if today > next_expected + timedelta(days=_grace(cadence)):
        return None  # stopped: the next charge is overdue
    history = min(Decimal(1), _share(len(txs), cadence.full_history))
    confidence = (regularity * stability * history).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    cur = txs[-1].amount.currency
    return FoundSubscription(
        id=subscription_id(tenant_id, account_id, key), account_id=account_id, payee_key=key,
        payee=display_payee(txs[-1].payee or key), cadence=cadence, amount=txs[-1].amount,
        typical=Money(int(median(amounts)), cur), next_expected=next_expected, confidence=confidence,
        evidence=tuple(Charge(t.booked_on, t.amount, t.id) for t in txs),
    )  # fmt: skip


class SubscriptionStatus(enum.StrEnum):
    """What the person decided about a found subscription."""

    CONFIRMED = "confirmed"  # a schedule posts it; price rises and stops are announced
    DISMISSED = "dismissed"  # not proposed again


@dataclass(frozen=True, slots=True)
class TrackedSubscription:
    """A found subscription the person decided on. ``amount`` is the price last seen (a rise is
    announced once, then becomes the price); ``stopped_on`` is set when the next charge was
    overdue (announced once) and cleared when charges come back."""

    id: UUID
    tenant_id: UUID
    account_id: UUID
    payee_key: str
    payee: str
    cadence: Cadence
    amount: Money
    status: SubscriptionStatus
    last_charged: date
    decided_at: datetime
    schedule_id: UUID | None = None
    stopped_on: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "cadence", parse_choice(Cadence, self.cadence, "cadence"))
        object.__setattr__(self, "status", parse_choice(SubscriptionStatus, self.status, "status"))

    def overdue(self, today: date) -> bool:
        """Whether the next charge is later than the cadence allows."""
        return today > self.last_charged + timedelta(days=self.cadence.days + _grace(self.cadence))


def _grace(cadence: Cadence) -> int:
    return cadence.tolerance + max(3, cadence.days // 4)


def price_rose(old: Money, new: Money) -> bool:
    """Whether a charge ``new`` costs more than ``old`` beyond the amount tolerance (outflows are
    negative: a rise is a more negative amount)."""
    return abs(new.minor) > abs(old.minor) and not _close(new.minor, old.minor)
