"""Port: the current time."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

__all__ = ["Clock"]


class Clock(Protocol):
    """Where the core gets "now" from, so tests can fix it."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def today(self) -> date:
        """The current date in UTC."""
        ...
