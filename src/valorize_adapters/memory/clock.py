"""A clock that moves only when told to: deterministic tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

__all__ = ["ManualClock"]


class ManualClock:
    """Starts at ``start`` (UTC) and moves by :meth:`advance`."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        """The clock's current time."""
        return self._now

    def today(self) -> date:
        """The clock's current date."""
        return self._now.date()

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self._now += delta

    def set(self, when: datetime) -> None:
        """Jump to ``when``."""
        self._now = when
