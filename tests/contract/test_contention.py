"""Colliding units of work: PostgreSQL's deadlock and serialization failures become
``Contention``, and actions run their unit again instead of answering 500."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest

from valorize_adapters.postgres import PostgresBackend
from valorize_core.model.errors import Contention
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions._shared import ATTEMPTS, retry_on_contention
from valorize_core.use_cases.actions.create_account import NewAccount
from valorize_core.use_cases.actions.create_transaction import NewTransaction
from valorize_core.use_cases.actions.signup import SignupRequest


@pytest.mark.parametrize("rows", ["accounts", "transactions"])
def test_a_deadlock_postgres_breaks_is_a_contention(pg_backend: PostgresBackend, rows: str) -> None:
    """Two units locking two rows in opposite orders (which no action does): PostgreSQL breaks
    the deadlock, and the victim sees Contention (retried by actions), not a driver error."""
    app = pg_backend.app

    async def go() -> list[BaseException | None]:
        t = (await app.signup(SignupRequest("Bank", f"{uuid.uuid4().hex}@example.com", "B"))).tenant.id
        a = await app.create_account(NewAccount(t, "A", "checking", "BRL"))
        b = await app.create_account(NewAccount(t, "B", "checking", "BRL"))
        x, y = a.id, b.id
        if rows == "transactions":
            made = [await app.create_transaction(NewTransaction(t, a.id, date(2026, 11, 1), "X", "-1.00"))
                    for _ in range(2)]  # fmt: skip
            x, y = made[0].id, made[1].id
        both = asyncio.Barrier(2)

        async def unit(first: uuid.UUID, second: uuid.UUID) -> None:
            async with app.ports.uow(t) as uow:
                repository = uow.accounts if rows == "accounts" else uow.transactions
                await repository.lock([first])
                await both.wait()
                await repository.lock([second])

        results = await asyncio.gather(unit(x, y), unit(y, x), return_exceptions=True)
        return [r if isinstance(r, BaseException) else None for r in results]

    outcomes = run(go())
    assert sum(isinstance(r, Contention) for r in outcomes) == 1, outcomes
    assert outcomes.count(None) == 1, outcomes


def test_an_action_runs_again_when_its_unit_collides() -> None:
    class Flaky:
        def __init__(self, failures: int) -> None:
            self.failures, self.calls = failures, 0

        @retry_on_contention
        async def __call__(self, command: str) -> str:
            self.calls += 1
            if self.calls <= self.failures:
                raise Contention("deadlock detected")
            return command

    twice = Flaky(2)
    assert asyncio.run(twice("done")) == "done"
    assert twice.calls == 3
    always = Flaky(ATTEMPTS)
    with pytest.raises(Contention):
        asyncio.run(always("never"))
    assert always.calls == ATTEMPTS
