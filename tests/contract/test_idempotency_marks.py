"""Adversarial checks of the Idempotency-Key's ``applied`` mark on PostgreSQL: only a unit that
changed something marks the key its request holds; a search, a lock or a task outliving the
request does not (else a request that failed after it would refuse its legitimate retry)."""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import replace
from datetime import datetime

import pytest

from valorize_adapters.postgres import PostgresBackend, PostgresUnitOfWorkFactory
from valorize_adapters.postgres.idempotency import PgIdempotencyStore
from valorize_core.model.categories import Category, CategoryKind
from valorize_core.ports.idempotency import Claimed, ClaimRetaken, InProgress, Replay, applying_key
from valorize_core.testing.contracts import PortsContract
from valorize_core.testing.contracts.base import NOW
from valorize_core.testing.contracts.idempotency import LOCK, TTL

LOST = Replay(409, b'{"code":"already_applied"}')


class TestAppliedMark(PortsContract):
    def test_a_neighbour_search_of_a_large_tenant_marks_nothing(self, pg_backend: PostgresBackend) -> None:
        """Past ``exact_limit`` the search sets ``SET LOCAL`` planner settings (in a savepoint
        rolled back): no write, so the unit that only searched leaves the key in progress."""
        ports = pg_backend.ports
        forced = replace(pg_backend.ports.uow.vectors, exact_limit=2)  # type: ignore[attr-defined]
        factory = PostgresUnitOfWorkFactory(pg_backend.pool, forced)
        store = PgIdempotencyStore(pg_backend.pool)
        t, key = self.new_tenant(ports), uuid.uuid4().hex
        rng = random.Random(7)
        vectors = [[rng.uniform(-1, 1) for _ in range(256)] for _ in range(6)]

        async def scenario() -> object:
            async with factory(t) as uow:
                category = uuid.uuid4()
                await uow.categories.add(Category(category, t, "Food", CategoryKind.EXPENSE))
                await uow.examples.upsert_many(
                    [(uuid.uuid4(), v, category, f"line {i}") for i, v in enumerate(vectors)]
                )
                await uow.commit()
            assert await store.claim(t, key, "h", NOW, TTL, LOCK) == Claimed(NOW)
            with applying_key(t, key, NOW):
                async with factory(t) as uow:
                    assert len(await uow.examples.nearest(vectors[0], 3)) == 3
                    await uow.commit()
            await store.release(t, key, NOW, LOST)  # the request failed after its search
            return await store.claim(t, key, "h", NOW, TTL, LOCK)

        assert self.run(scenario()) == Claimed(NOW)

    def test_a_task_started_by_the_request_marks_nothing_once_it_ended(self, pg_backend: PostgresBackend) -> None:
        """A task created while the request held the key inherits it only while the request
        runs: its write committed after the request ended (a background job), or in the next
        request's time, marks neither key."""
        ports = pg_backend.ports
        store = PgIdempotencyStore(pg_backend.pool)
        t, first, second = self.new_tenant(ports), uuid.uuid4().hex, uuid.uuid4().hex

        async def scenario() -> tuple[object, object]:
            go = asyncio.Event()

            async def background() -> None:
                await go.wait()
                async with ports.uow(t) as uow:
                    await uow.accounts.add(self.account(t))
                    await uow.commit()

            assert await store.claim(t, first, "h", NOW, TTL, LOCK) == Claimed(NOW)
            with applying_key(t, first, NOW):
                task = asyncio.create_task(background())
            await store.release(t, first, NOW, LOST)  # the first request failed before writing
            assert await store.claim(t, second, "h", NOW, TTL, LOCK) == Claimed(NOW)
            with applying_key(t, second, NOW):  # the next request runs while the task writes
                go.set()
                await task
            await store.release(t, second, NOW, LOST)
            return await store.claim(t, first, "h", NOW, TTL, LOCK), await store.claim(t, second, "h", NOW, TTL, LOCK)

        assert self.run(scenario()) == (Claimed(NOW), Claimed(NOW))

    def test_a_request_outliving_its_lock_does_not_write_beside_the_retry_that_retook_its_key(
        self, pg_backend: PostgresBackend
    ) -> None:
        """A request still running when its claim's lock lapses: the retry retakes the key and
        writes; the first one's late commit is refused (its mark names a claim that is gone:
        409 ``idempotency_key_retaken``, rolled back) and marks nothing of the retry's claim.
        One write for one key."""
        ports = pg_backend.ports
        store = PgIdempotencyStore(pg_backend.pool)
        t, key = self.new_tenant(ports), uuid.uuid4().hex

        async def write(claimed_at: datetime) -> None:  # the same request (a name of its own each time)
            with applying_key(t, key, claimed_at):
                async with ports.uow(t) as uow:
                    await uow.accounts.add(self.account(t, uuid.uuid4().hex))
                    await uow.commit()

        async def scenario() -> tuple[int, object]:
            assert await store.claim(t, key, "h", NOW, TTL, LOCK) == Claimed(NOW)  # the first request
            retry = NOW + LOCK * 2
            assert await store.claim(t, key, "h", retry, TTL, LOCK) == Claimed(retry)  # its retry
            await write(retry)  # the retry's write
            with pytest.raises(ClaimRetaken):
                await write(NOW)  # the first request's, late
            await store.release(t, key, NOW, LOST)  # the first request settles: nothing of the retry's
            async with ports.uow(t) as uow:
                count = len(await uow.accounts.list())
            return count, await store.claim(t, key, "h", retry, TTL, LOCK)

        # The retry's claim is still in progress (its lock holds): the late mark did not land on it.
        assert self.run(scenario()) == (1, InProgress())
