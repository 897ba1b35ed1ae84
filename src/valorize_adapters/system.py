"""The real clock and id generator."""

from __future__ import annotations

from datetime import UTC, date, datetime

from valorize_core.model.ids import TimeOrderedIds

__all__ = ["SystemClock", "TimeOrderedIds"]


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        """Now, timezone-aware UTC."""
        return datetime.now(UTC)

    def today(self) -> date:
        """Today's date in UTC."""
        return self.now().date()
