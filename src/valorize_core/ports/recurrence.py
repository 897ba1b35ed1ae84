"""Port: recurrence rules (RFC 5545 RRULE) — checked once, then evaluated into due dates."""

from __future__ import annotations

from datetime import date
from typing import Protocol

__all__ = ["MAX_OCCURRENCES", "RecurrenceEngine"]

MAX_OCCURRENCES = 1000  # the most dates one evaluation returns (a window is cut short after them)


class RecurrenceEngine(Protocol):
    """Evaluates recurrence rules. Rules come from people: an engine accepts only rules whose
    evaluation over any window is bounded work, and refuses the others when they are checked."""

    def normalize(self, rule: str, starts_on: date) -> str:
        """The rule in its stored form, or ``ValidationError`` (field ``rule``) when it is not an
        RRULE the engine accepts (unknown parts, sub-daily frequencies, rules that never occur)."""
        ...

    def between(self, rule: str, starts_on: date, first: date, last: date, limit: int = MAX_OCCURRENCES) -> list[date]:
        """The rule's dates from ``starts_on`` that fall in ``[first, last]``, ascending, the first
        ``limit`` of them (at most :data:`MAX_OCCURRENCES`). ``rule`` is a normalized rule."""
        ...
