"""A retry's claim racing the commit that marks its key applied, on PostgreSQL.

The mark goes with ``COMMIT``; a claim arriving while it is in flight (the key's row locked by
the mark, not yet committed) — past the claim's lock, when an abandoned claim may be retaken —
waits for the commit and then sees the key applied: it never retakes it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from valorize_adapters.postgres import PostgresBackend, idempotency
from valorize_adapters.postgres.idempotency import PgIdempotencyStore
from valorize_adapters.postgres.session import Session
from valorize_adapters.postgres.unit_of_work import PostgresUnitOfWork
from valorize_core.ports.idempotency import Applied, Claimed, ClaimRetaken, InProgress, applying_key
from valorize_core.testing.contracts.base import NOW
from valorize_core.testing.contracts.idempotency import IdempotencyContract
from valorize_core.testing.loop import run

TTL, LOCK = timedelta(hours=24), timedelta(seconds=60)


def test_a_claim_racing_the_marking_commit_never_retakes_the_key(pg_backend: PostgresBackend) -> None:
    contract = IdempotencyContract()
    ports = pg_backend.ports
    tenant, key = contract.new_tenant(ports), uuid.uuid4().hex
    store = PgIdempotencyStore(pg_backend.pool)

    async def race() -> object:
        assert await store.claim(tenant, key, "h", NOW, TTL, LOCK) == Claimed(NOW)
        with applying_key(tenant, key, NOW):
            async with ports.uow(tenant) as uow:
                assert isinstance(uow, PostgresUnitOfWork)
                await uow.accounts.add(contract.account(tenant))
                session = uow.session
                commit = session.commit

                async def commit_late() -> None:
                    # The mark (deferred by the unit) is sent, its row locked, before COMMIT.
                    await session.begin()
                    retry = asyncio.create_task(store.claim(tenant, key, "h", NOW + LOCK * 2, TTL, LOCK))
                    await asyncio.sleep(0.5)
                    assert not retry.done(), "the claim did not wait for the row the mark locked"
                    await commit()
                    racing.append(await retry)

                racing: list[object] = []
                session.commit = commit_late  # type: ignore[method-assign]
                await uow.commit()
        return racing[0]

    assert run(race()) == Applied()


def test_a_late_commit_racing_the_retry_that_retakes_its_claim_writes_nothing(
    pg_backend: PostgresBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request outlived its claim's lock: a retry's claim has removed its row (and put its own)
    and has not committed when the late request's commit sends its mark. The mark waits for the
    row, then finds its claim gone: the late commit fails (ClaimRetaken), nothing written; the
    retry's claim stays in progress."""
    contract = IdempotencyContract()
    ports = pg_backend.ports
    tenant, key = contract.new_tenant(ports), uuid.uuid4().hex
    store = PgIdempotencyStore(pg_backend.pool)
    held, go = asyncio.Event(), asyncio.Event()

    class HeldSession(Session):
        async def commit(self) -> None:  # the retry's claim, its statements sent, commits on ``go``
            held.set()
            await go.wait()
            await super().commit()

    async def late_write() -> None:
        with applying_key(tenant, key, NOW):
            async with ports.uow(tenant) as uow:
                await uow.accounts.add(contract.account(tenant))
                await uow.commit()

    async def race() -> tuple[object, int, object]:
        assert await store.claim(tenant, key, "h", NOW, TTL, LOCK) == Claimed(NOW)  # the late request's
        with monkeypatch.context() as patched:
            patched.setattr(idempotency, "Session", HeldSession)
            retry = asyncio.create_task(store.claim(tenant, key, "h", NOW + LOCK * 2, TTL, LOCK))
            await held.wait()
        late = asyncio.create_task(late_write())
        await asyncio.sleep(0.5)
        assert not late.done(), "the late mark did not wait for the row the retry's claim holds"
        go.set()
        retried = await retry
        with pytest.raises(ClaimRetaken):
            await late
        async with ports.uow(tenant) as uow:
            written = len(await uow.accounts.list())
        return retried, written, await store.claim(tenant, key, "h", NOW + LOCK * 2, TTL, LOCK)

    assert run(race()) == (Claimed(NOW + LOCK * 2), 0, InProgress())
