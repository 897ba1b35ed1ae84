"""Deterministic ids for tests that must produce the same entities on two adapters."""

from __future__ import annotations

import random
import uuid

from valorize_core.model.ids import uuid7

__all__ = ["SeededIds"]


class SeededIds:
    """UUIDv7-shaped ids from a seed: two generators with one seed give one sequence."""

    def __init__(self, seed: int, unix_ms: int) -> None:
        self._rng = random.Random(seed)
        self._ms = unix_ms
        self._counter = 0

    def new_id(self) -> uuid.UUID:
        """The next id of the sequence (increasing)."""
        self._counter += 1
        return uuid7(self._ms + self._counter // 4096, self._counter % 4096, self._rng.getrandbits(62))
