"""Schedules: recurring transaction templates, their occurrences, and how a bank row matches one.

A schedule says "this amount (give or take ``tolerance``), to this payee, in these splits, on
the dates of this recurrence rule". The rule is RFC 5545 RRULE text; the core never evaluates
it itself but asks a :class:`~valorize_core.ports.recurrence.RecurrenceEngine` (python-dateutil
in ``valorize_adapters.recurrence``). An occurrence is one due date of one schedule; it is
handled at most once — posted as a ``recurring`` transaction, or linked to a bank row that was
imported for it — and the store keeps one row per schedule and date to make that hold.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Money
from valorize_core.model.payees import MAX_PAYEE, payee_key
from valorize_core.model.text import clean_name, clean_text, parse_choice
from valorize_core.model.transactions import Split, check_splits, normalize_tags

__all__ = [
    "MAX_MATCH_WINDOW",
    "OccurrenceHandling",
    "Schedule",
    "ScheduleOccurrence",
    "matches_occurrence",
]

MAX_MATCH_WINDOW = 15  # days either side of a due date an imported row may fall and still match
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


class OccurrenceHandling(enum.StrEnum):
    """What became of a due occurrence."""

    POSTED = "posted"  # the job created the transaction
    LINKED = "linked"  # an imported bank row was recognized as it


@dataclass(frozen=True, slots=True)
class Schedule:
    """A recurring transaction template.

    ``amount`` is what is posted; an imported row matches when its amount is within
    ``tolerance`` of it (an amount range) and its date within ``window_days`` of a due date.
    ``next_due`` is the first occurrence not yet handled (``None`` once the rule has ended);
    ``rule`` is normalized RRULE text (no ``DTSTART``: ``starts_on`` is the start).
    """

    id: UUID
    tenant_id: UUID
    account_id: UUID
    name: str
    payee: str
    amount: Money
    splits: tuple[Split, ...]
    rule: str
    starts_on: date
    next_due: date | None
    created_at: datetime
    updated_at: datetime
    tolerance: Money | None = None
    tags: tuple[str, ...] = ()
    window_days: int = 3
    active: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean_name(self.name, "name"))
        object.__setattr__(self, "payee", clean_text(self.payee, "payee", MAX_PAYEE))
        if not self.payee:
            raise ValidationError.for_field("payee", "must not be empty")
        if not isinstance(self.amount, Money):
            raise ValidationError.for_field("amount", "must be money")
        if self.amount.minor == 0:
            raise ValidationError.for_field("amount", "must not be zero")
        tolerance = self.tolerance if self.tolerance is not None else Money.zero(self.amount.currency)
        if tolerance.currency != self.amount.currency or tolerance.minor < 0:
            raise ValidationError.for_field("tolerance", f"must be a non-negative amount in {self.amount.currency}")
        object.__setattr__(self, "tolerance", tolerance)
        splits = tuple(self.splits)
        check_splits(self.amount, splits)
        object.__setattr__(self, "splits", splits)
        object.__setattr__(self, "tags", normalize_tags(self.tags))
        if not isinstance(self.starts_on, date) or not EARLIEST <= self.starts_on <= LATEST:
            raise ValidationError.for_field("starts_on", f"must be a date between {EARLIEST} and {LATEST}")
        if isinstance(self.window_days, bool) or not isinstance(self.window_days, int):
            raise ValidationError.for_field("window_days", "must be an integer")
        if not 0 <= self.window_days <= MAX_MATCH_WINDOW:
            raise ValidationError.for_field("window_days", f"must be between 0 and {MAX_MATCH_WINDOW}")

    @property
    def payee_key(self) -> str:
        """The normalized payee a bank row must share to match."""
        return payee_key(self.payee)

    @property
    def category_id(self) -> UUID | None:
        """The category when every split shares one, else ``None``."""
        ids = {s.category_id for s in self.splits}
        return ids.pop() if len(ids) == 1 else None


@dataclass(frozen=True, slots=True)
class ScheduleOccurrence:
    """One due date of a schedule, handled: posted as ``transaction_id``, or linked to it."""

    schedule_id: UUID
    due_on: date
    transaction_id: UUID
    handling: OccurrenceHandling

    def __post_init__(self) -> None:
        object.__setattr__(self, "handling", parse_choice(OccurrenceHandling, self.handling, "handling"))


def matches_occurrence(schedule: Schedule, due_on: date, *, key: str, amount: Money, booked_on: date) -> bool:
    """Whether a bank row (its payee key, amount and date) is the occurrence due on ``due_on``:
    the same payee key, the same currency and sign, the amount within the tolerance, the date
    within the window."""
    if key != schedule.payee_key or amount.currency != schedule.amount.currency:
        return False
    if (amount.minor < 0) != (schedule.amount.minor < 0):
        return False
    tolerance = schedule.tolerance.minor if schedule.tolerance is not None else 0
    if abs(amount.minor - schedule.amount.minor) > tolerance:
        return False
    return abs((booked_on - due_on).days) <= schedule.window_days
