"""What every contract suite shares: the fixtures to provide, and builders for test data."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import pytest

from valorize_core.model.accounts import Account, AccountKind
from valorize_core.model.categories import Category, CategoryKind
from valorize_core.model.ids import uuid7
from valorize_core.model.money import Money
from valorize_core.model.transactions import Categorization, Split, Transaction
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.signup import Signup, SignupRequest
from valorize_core.use_cases.context import Ports

__all__ = ["NOW", "PortsContract"]

T = TypeVar("T")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class PortsContract:
    """Base of the suites. Override the ``ports`` and ``outbox`` fixtures."""

    @pytest.fixture
    def ports(self) -> Ports:
        """The ports under test."""
        raise NotImplementedError("override the ports fixture")

    @pytest.fixture
    def outbox(self) -> Callable[[uuid.UUID], set[uuid.UUID]]:
        """A callable giving the ids of the events committed to a tenant's outbox."""
        raise NotImplementedError("override the outbox fixture")

    # -- helpers ------------------------------------------------------------------------------
    @staticmethod
    def run(coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the shared test loop."""
        return run(coro)

    @staticmethod
    def new_id() -> uuid.UUID:
        """A fresh time-ordered id."""
        return uuid7(int(NOW.timestamp() * 1000), uuid.uuid4().int, uuid.uuid4().int)

    def new_tenant(self, ports: Ports) -> uuid.UUID:
        """A tenant that exists (with an owner), unique to the calling test."""
        email = f"{uuid.uuid4().hex}@example.com"
        return self.run(Signup(ports)(SignupRequest("Contract tenant", email, "Owner"))).tenant.id

    def write(self, ports: Ports, tenant: uuid.UUID, step: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run ``step`` in a unit of work and commit it."""

        async def go() -> T:
            async with ports.uow(tenant) as uow:
                result = await step(uow)
                await uow.commit()
                return result

        return self.run(go())

    def read(self, ports: Ports, tenant: uuid.UUID, step: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run ``step`` in a unit of work without committing."""

        async def go() -> T:
            async with ports.uow(tenant) as uow:
                return await step(uow)

        return self.run(go())

    def add_all(self, ports: Ports, tenant: uuid.UUID, *entities: Account | Category) -> None:
        """Store accounts and categories (in the order given) in one unit of work."""

        async def add(uow: UnitOfWork) -> None:
            for entity in entities:
                if isinstance(entity, Account):
                    await uow.accounts.add(entity)
                else:
                    await uow.categories.add(entity)

        self.write(ports, tenant, add)

    def account(self, tenant: uuid.UUID, name: str = "Checking", currency: str = "BRL", opening: int = 0) -> Account:
        """An account value (not stored)."""
        money = Money(opening, currency)
        return Account(self.new_id(), tenant, name, AccountKind.CHECKING, money, money, date(2026, 1, 1), NOW)

    def category(self, tenant: uuid.UUID, name: str = "Food", parent: uuid.UUID | None = None) -> Category:
        """A category value (not stored)."""
        return Category(self.new_id(), tenant, name, CategoryKind.EXPENSE, parent)

    def transaction(
        self,
        tenant: uuid.UUID,
        account: Account,
        minor: int = -1000,
        day: date = date(2026, 2, 1),
        categories: tuple[uuid.UUID | None, ...] = (None,),
        **fields: Any,
    ) -> Transaction:
        """A balanced transaction value, split evenly over ``categories``."""
        amount = Money(minor, account.currency)
        parts = amount.allocate([1] * len(categories))
        return Transaction(
            id=fields.pop("id", None) or self.new_id(),
            tenant_id=tenant,
            account_id=account.id,
            booked_on=day,
            description=fields.pop("description", "PADARIA REAL 03/11"),
            payee=fields.pop("payee", "Padaria Real"),
            amount=amount,
            splits=tuple(Split(c, p, f"part {i}") for i, (c, p) in enumerate(zip(categories, parts, strict=True))),
            created_at=NOW,
            updated_at=NOW,
            categorization=fields.pop("categorization", Categorization.none()),
            **fields,
        )
