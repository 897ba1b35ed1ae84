from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from valorize_adapters.memory import InMemoryBackend, InMemoryCache, ManualClock
from valorize_core import NewAccount, NewTransaction, SignupRequest, TransactionQuery, Valorize
from valorize_core.ports.cache import Lookup
from valorize_core.ports.unit_of_work import CommitHooks
from valorize_core.runtime.caching import ReadCache
from valorize_core.runtime.near_cache import NearCache
from valorize_core.use_cases.actions.delete_transaction import TransactionDeletion
from valorize_core.use_cases.actions.update_transaction import TransactionChanges


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class BrokenCache(InMemoryCache):
    """A cache whose server went away: every call fails."""

    def __init__(self) -> None:
        super().__init__()
        self.broken = False
        self.calls = 0

    async def lookup(self, tenant_id: uuid.UUID, key: str, scopes: Sequence[str] = ()) -> Lookup:
        self.calls += 1
        if self.broken:
            raise ConnectionError("redis is down")
        return await super().lookup(tenant_id, key, scopes)

    async def bump_tenant_version(self, tenant_id: uuid.UUID, hold: float = 0.0) -> int:
        if self.broken:
            raise ConnectionError("redis is down")
        return await super().bump_tenant_version(tenant_id, hold)

    async def bump_scopes(self, tenant_id: uuid.UUID, scopes: Sequence[str], hold: float = 0.0) -> tuple[int, ...]:
        if self.broken:
            raise ConnectionError("redis is down")
        return await super().bump_scopes(tenant_id, scopes, hold)


def cache_hooks(reads: ReadCache) -> CommitHooks:
    """The read cache's part of the commit pipeline, as the composition root registers it."""
    return CommitHooks(before=(reads.hold_before_commit,), after=(reads.retire_after_commit,))


def run(coro: Any) -> Any:
    return asyncio.run(coro)


T = uuid.uuid4()


def test_hit_returns_the_stored_bytes_and_a_bump_retires_them() -> None:
    clock = Clock()
    reads = ReadCache(InMemoryCache(clock=clock), clock=clock, rng=lambda: 0.999)
    computed: list[int] = []

    async def compute() -> bytes:
        computed.append(1)
        return b'{"n":%d}' % len(computed)

    async def go() -> list[bytes]:
        first = await reads.get_or_compute(T, "list", "a", compute)
        again = await reads.get_or_compute(T, "list", "a", compute)
        other = await reads.get_or_compute(T, "list", "b", compute)
        await reads.invalidate(T)
        fresh = await reads.get_or_compute(T, "list", "a", compute)
        return [first, again, other, fresh]

    assert run(go()) == [b'{"n":1}', b'{"n":1}', b'{"n":2}', b'{"n":3}']
    assert (reads.stats.hits, reads.stats.misses) == (1, 3)


def test_a_burst_of_misses_computes_once() -> None:
    reads = ReadCache(InMemoryCache())
    calls = 0

    async def compute() -> bytes:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return b"slow"

    async def go() -> list[bytes]:
        return list(await asyncio.gather(*(reads.get_or_compute(T, "r", "k", compute) for _ in range(20))))

    assert run(go()) == [b"slow"] * 20
    assert calls == 1


def test_a_failed_computation_reaches_every_waiter_and_is_not_cached() -> None:
    reads = ReadCache(InMemoryCache())

    async def compute() -> bytes:
        await asyncio.sleep(0.01)
        raise ValueError("database said no")

    async def go() -> list[object]:
        return list(
            await asyncio.gather(
                *(reads.get_or_compute(T, "r", "k", compute) for _ in range(3)), return_exceptions=True
            )
        )

    assert all(isinstance(r, ValueError) for r in run(go()))


def test_xfetch_refreshes_early_more_often_near_expiry() -> None:
    clock = Clock()
    draws = iter([0.5] * 1000)
    reads = ReadCache(InMemoryCache(clock=clock), ttl=60, clock=clock, rng=lambda: next(draws))

    async def compute() -> bytes:
        clock.now += 2.0  # the computation takes 2 s: delta = 2
        return b"v"

    async def go(at: float) -> None:
        clock.now = at
        await reads.get_or_compute(T, "r", "k", compute)

    run(go(1000.0))  # stored at 1002, expires 1062; early refresh when now + 2*ln(2) >= 1062
    run(go(1030.0))
    assert reads.stats.hits == 1
    run(go(1061.0))  # 1061 + 1.386 >= 1062: refreshed before expiry
    assert reads.stats.early_refreshes == 1


def test_values_over_the_size_cap_are_served_but_not_cached() -> None:
    reads = ReadCache(InMemoryCache(), max_bytes=10)

    async def compute() -> bytes:
        return b"x" * 11

    async def go() -> None:
        await reads.get_or_compute(T, "r", "k", compute)
        await reads.get_or_compute(T, "r", "k", compute)

    run(go())
    assert reads.stats.misses == 2


def test_a_broken_cache_is_bypassed_then_skipped_briefly() -> None:
    clock = Clock()
    cache = BrokenCache()
    reads = ReadCache(cache, clock=clock, breaker_seconds=5)

    async def compute() -> bytes:
        return b"db"

    cache.broken = True
    assert run(reads.get_or_compute(T, "r", "k", compute)) == b"db"
    calls = cache.calls
    assert run(reads.get_or_compute(T, "r", "k", compute)) == b"db"
    assert cache.calls == calls  # the breaker is open: no call, no timeout to pay
    run(reads.invalidate(T))
    assert reads.stats.invalidation_failures == 1
    cache.broken = False
    clock.now += 6
    assert run(reads.get_or_compute(T, "r", "k", compute)) == b"db"
    assert reads.stats.bypasses == 2
    assert reads.stats.misses == 1


class ReadAfterWrite(RuleBasedStateMachine):
    """Random writes and cached reads: a read after a write never returns stale data."""

    def processes(self) -> tuple[ReadCache, list[ReadCache]]:
        """The read cache the writes invalidate, and every read cache that reads."""
        reads = ReadCache(InMemoryCache())
        return reads, [reads]

    @initialize()
    def setup(self) -> None:
        backend = InMemoryBackend(clock=ManualClock())
        writer, self.readers = self.processes()
        ports = backend.ports
        from dataclasses import replace

        self.vz = Valorize(replace(ports, uow=ports.uow.with_hooks(cache_hooks(writer))))
        self.raw = backend.app  # the same store, without the cache
        self.tenant = run(self.vz.signup(SignupRequest("T", "t@example.com", "T"))).tenant.id
        self.account = run(self.vz.create_account(NewAccount(self.tenant, "A", "cash", "BRL"))).id
        self.ids: list[uuid.UUID] = []

    async def page(self, limit: int) -> bytes:
        page = await self.raw.list_transactions(TransactionQuery(self.tenant, limit=limit))
        return repr([(t.id, t.amount, t.description) for t in page.items]).encode()

    def cached(self, reads: ReadCache, limit: int) -> bytes:
        return run(reads.get_or_compute(self.tenant, "list", str(limit), lambda: self.page(limit)))  # type: ignore[no-any-return]

    def truth(self, limit: int) -> bytes:
        return run(self.page(limit))  # type: ignore[no-any-return]

    @rule(cents=st.integers(-10_000, 10_000), text=st.sampled_from(["A", "B", "C"]))
    def write(self, cents: int, text: str) -> None:
        amount = f"{'-' if cents < 0 else ''}{abs(cents) // 100}.{abs(cents) % 100:02d}"
        tx = run(self.vz.create_transaction(NewTransaction(self.tenant, self.account, date(2026, 1, 1), text, amount)))
        self.ids.append(tx.id)

    @rule(data=st.data(), text=st.sampled_from(["X", "Y"]))
    def edit(self, data: st.DataObject, text: str) -> None:
        if self.ids:
            tx = data.draw(st.sampled_from(self.ids))
            run(self.vz.update_transaction(TransactionChanges(self.tenant, tx, description=text)))

    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        if self.ids:
            tx = data.draw(st.sampled_from(self.ids))
            self.ids.remove(tx)
            run(self.vz.delete_transaction(TransactionDeletion(self.tenant, tx)))

    @rule(limit=st.sampled_from([2, 5, 50]))
    def read(self, limit: int) -> None:
        for reads in self.readers:
            assert self.cached(reads, limit) == self.truth(limit)

    @invariant()
    def every_read_is_fresh(self) -> None:
        if hasattr(self, "tenant"):
            for reads in self.readers:
                for limit in (2, 50):
                    assert self.cached(reads, limit) == self.truth(limit)


ReadAfterWrite.TestCase.settings = settings(max_examples=200, stateful_step_count=20, deadline=None)
TestReadAfterWrite = ReadAfterWrite.TestCase


def test_the_property_fails_without_invalidation() -> None:
    """The machine above must be able to fail: without the cache's commit hooks, a read goes stale."""
    backend = InMemoryBackend()
    reads = ReadCache(InMemoryCache())
    vz = backend.app
    tenant = run(vz.signup(SignupRequest("T", "u@example.com", "T"))).tenant.id
    account = run(vz.create_account(NewAccount(tenant, "A", "cash", "BRL"))).id

    async def cached() -> bytes:
        async def compute() -> bytes:
            return str(len((await vz.list_transactions(TransactionQuery(tenant))).items)).encode()

        return await reads.get_or_compute(tenant, "list", "", compute)

    assert run(cached()) == b"0"
    run(vz.create_transaction(NewTransaction(tenant, account, date(2026, 1, 1), "A", "1.00")))
    with pytest.raises(AssertionError):
        assert run(cached()) == b"1"


TENANT = uuid.UUID(int=7)


def held_reads(near: NearCache | None = None) -> tuple[Clock, ReadCache, Any]:
    """A read cache (TTL 600 s, hold 10 s) on a manual clock, and ``read(data)``: the cached
    read of TENANT's list, computing ``data`` on a miss."""
    clock = Clock()
    reads = ReadCache(InMemoryCache(clock=clock), ttl=600, hold=10, clock=clock, rng=lambda: 0.999, near=near)

    async def read(data: bytes) -> bytes:
        async def compute() -> bytes:
            return data

        return await reads.get_or_compute(TENANT, "list", "", compute)

    return clock, reads, read


@pytest.mark.parametrize("near", [False, True], ids=["shared", "shared+near"])
def test_a_writer_dying_between_commit_and_bump_leaves_nothing_stale_past_its_hold(near: bool) -> None:
    """A read computed while a write holds its tenant (from the data before the commit) is
    kept until the hold ends, not for the TTL, when the bump after the commit never comes."""
    near_cache = NearCache() if near else None
    if near_cache is not None:
        near_cache.connected()
    clock, reads, read = held_reads(near_cache)
    tenant = TENANT

    async def scenario() -> list[bytes]:
        seen = [await read(b"before")]  # cached for the TTL
        await reads.hold_for_write(tenant)  # the writer's bump just before its commit
        seen.append(await read(b"before, read during the hold"))  # the commit is not seen yet
        # the commit lands; the writer dies before its second bump
        clock.now += 9
        seen.append(await read(b"after"))  # within the hold: what was read during it
        clock.now += 2
        seen.append(await read(b"after"))  # the hold is over: the commit is seen
        clock.now += 500
        seen.append(await read(b"later"))  # and kept for the TTL again
        return seen

    during = b"before, read during the hold"
    assert run(scenario()) == [b"before", during, during, b"after", b"after"]


def test_the_bump_after_a_commit_retires_what_was_read_during_its_hold() -> None:
    _, reads, read = held_reads()
    tenant = TENANT

    async def scenario() -> list[bytes]:
        await reads.hold_for_write(tenant)
        seen = [await read(b"before")]
        await reads.invalidate(tenant)  # committed, and the writer lived: read-your-writes at once
        seen.append(await read(b"after"))
        return seen

    assert run(scenario()) == [b"before", b"after"]


def test_every_commit_holds_its_tenant_before_it_and_bumps_after_it() -> None:
    backend = InMemoryBackend()
    cache = InMemoryCache()
    bumps: list[float] = []

    class Recording(InMemoryCache):
        async def bump_tenant_version(self, tenant_id: uuid.UUID, hold: float = 0.0) -> int:
            bumps.append(hold)
            return await cache.bump_tenant_version(tenant_id, hold)

        async def bump_scopes(self, tenant_id: uuid.UUID, scopes: Sequence[str], hold: float = 0.0) -> tuple[int, ...]:
            bumps.append(hold)
            return await cache.bump_scopes(tenant_id, scopes, hold)

    from dataclasses import replace

    reads = ReadCache(Recording(), hold=7)
    vz = Valorize(replace(backend.ports, uow=backend.ports.uow.with_hooks(cache_hooks(reads))))
    tenant = run(vz.signup(SignupRequest("T", "h@example.com", "T"))).tenant.id
    bumps.clear()
    run(vz.create_account(NewAccount(tenant, "A", "cash", "BRL")))  # declares its scope (accounts)
    assert bumps == [7, 0]


def test_a_write_holds_only_the_scopes_it_declares() -> None:
    """A write about to commit holds the reads of its scopes (kept no longer than the hold if
    its bump after the commit never comes); a read of other scopes keeps the full TTL."""
    clock = Clock()
    reads = ReadCache(InMemoryCache(clock=clock), ttl=600, hold=10, clock=clock, rng=lambda: 0.999)
    computed: list[str] = []

    async def read(scope: str) -> bytes:
        async def compute() -> bytes:
            computed.append(scope)
            return scope.encode()

        return await reads.get_or_compute(TENANT, "list", scope, compute, (scope,))

    async def go() -> None:
        await reads.hold_for_write(TENANT, ["account:a"])  # ...and the writer dies after its commit
        await read("account:a")
        await read("account:b")
        clock.now += 11  # the hold is over, the TTL is not
        await read("account:a")
        await read("account:b")

    run(go())
    assert computed == ["account:a", "account:b", "account:a"]  # the held scope's read, once more


def test_a_unit_that_committed_before_declaring_retires_its_tenant() -> None:
    """Scopes declared after a first commit cannot narrow what that commit changed."""
    backend = InMemoryBackend()
    retired: list[frozenset[str] | None] = []

    async def spy(uow: Any) -> None:
        retired.append(uow.retired_scopes)

    from dataclasses import replace

    ports = replace(backend.ports, uow=backend.ports.uow.with_hooks(CommitHooks(before=(spy,), after=(spy,))))
    tenant = run(Valorize(backend.ports).signup(SignupRequest("T", "d@example.com", "T"))).tenant.id

    async def go() -> None:
        async with ports.uow(tenant) as uow:
            uow.retires("ledger")
            await uow.commit()
        async with ports.uow(tenant) as uow:
            await uow.commit()  # nothing declared yet...
            uow.retires("ledger")  # ...declared too late
            await uow.commit()

    run(go())
    assert retired == [frozenset({"ledger"}), frozenset({"ledger"}), None, None, None]
