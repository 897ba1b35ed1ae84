"""Helpers for use-case tests: an in-memory Valorize with one tenant and a few rows."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

import pytest

from valorize_adapters.memory import InMemoryBackend, ManualClock
from valorize_core import Valorize
from valorize_core.errors import DomainError

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    """Run one use case to completion."""
    return asyncio.run(coro)  # type: ignore[arg-type]


@dataclass
class World:
    backend: InMemoryBackend
    vz: Valorize
    clock: ManualClock
    tenant: UUID
    user: UUID
    checking: UUID
    savings: UUID
    card_usd: UUID
    food: UUID
    groceries: UUID
    home: UUID
    salary: UUID

    def snapshot(self) -> tuple[Any, int]:
        return copy.deepcopy(self.backend.store.tenants), len(self.backend.store.outbox)

    def fails_cleanly(self, coro: Awaitable[Any], error: type[DomainError] = DomainError) -> DomainError:
        """Assert the use case raises ``error`` and leaves every row and event as it was."""
        before = self.snapshot()
        with pytest.raises(error) as caught:
            run(coro)
        assert self.snapshot() == before
        return caught.value
