"""Helpers for use-case tests: an in-memory Valorize with one tenant and a few rows."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import pytest

from valorize_adapters.memory import InMemoryBackend, ManualClock
from valorize_core import NewAccount, NewCategory, SignupRequest, Valorize
from valorize_core.model.errors import DomainError
from valorize_core.model.events import TransactionCreated

T = TypeVar("T")


def transaction_created(description: str = "PADARIA") -> TransactionCreated:
    """A ``transaction.created`` event of a new tenant, as a write records it."""
    return TransactionCreated(
        event_id=uuid.uuid4(),
        tenant_id=uuid.uuid4(),
        occurred_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        correlation_id="req-1",
        transaction_id=str(uuid.uuid4()),
        account_id=str(uuid.uuid4()),
        amount_minor=-700,
        currency="BRL",
        booked_on="2026-03-01",
        category_id=None,
        description=description,
    )


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


def make_world() -> World:
    """A fresh in-memory world (property tests need one per example)."""
    clock = ManualClock()
    backend = InMemoryBackend(clock=clock)
    vz = backend.app
    signup = run(vz.signup(SignupRequest("Casa", "ana@example.com", "Ana")))
    t = signup.tenant.id
    checking = run(vz.create_account(NewAccount(t, "Checking", "checking", "BRL", "1000.00"))).id
    savings = run(vz.create_account(NewAccount(t, "Savings", "savings", "BRL", "5000.00"))).id
    card = run(vz.create_account(NewAccount(t, "Card", "credit_card", "USD", "0"))).id
    food = run(vz.create_category(NewCategory(t, "Food", "expense"))).id
    groceries = run(vz.create_category(NewCategory(t, "Groceries", "expense", food))).id
    home = run(vz.create_category(NewCategory(t, "Home", "expense"))).id
    salary = run(vz.create_category(NewCategory(t, "Salary", "income"))).id
    return World(backend, vz, clock, t, signup.user.id, checking, savings, card, food, groceries, home, salary)
