"""Port: new ids."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

__all__ = ["IdGenerator"]


class IdGenerator(Protocol):
    """Makes time-ordered ids (UUIDv7 layout)."""

    def new_id(self) -> UUID:
        """A fresh, unique id."""
        ...
