"""Payee memory: the categories a person gave to a payee, most recent last."""

from __future__ import annotations

from collections import Counter
from collections.abc import Set
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from valorize_core.model.errors import ValidationError

__all__ = ["MEMORY_WINDOW", "PayeeMemoryEntry"]

MEMORY_WINDOW = 5


@dataclass(frozen=True, slots=True)
class PayeeMemoryEntry:
    """The last categories a person gave to a payee (oldest first, at most ``MEMORY_WINDOW``)."""

    payee_key: str
    recent: tuple[UUID, ...]
    updated_at: datetime

    def __post_init__(self) -> None:
        if not self.payee_key:
            raise ValidationError.for_field("payee_key", "must not be empty")
        object.__setattr__(self, "recent", tuple(self.recent)[-MEMORY_WINDOW:])

    def learn(self, category_id: UUID, at: datetime) -> PayeeMemoryEntry:
        """The entry after one more correction to ``category_id``."""
        return PayeeMemoryEntry(self.payee_key, (*self.recent, category_id), at)

    def forget_unknown(self, known: Set[UUID]) -> PayeeMemoryEntry:
        """The entry without categories that no longer exist."""
        return replace(self, recent=tuple(c for c in self.recent if c in known))

    def suggestion(self) -> tuple[UUID, int, int] | None:
        """``(category, agreeing, total)``: the most frequent recent category, the latest on ties."""
        if not self.recent:
            return None
        counts = Counter(self.recent)
        best = max(counts.values())
        for category_id in reversed(self.recent):
            if counts[category_id] == best:
                return category_id, best, len(self.recent)
        return None  # pragma: no cover - unreachable
