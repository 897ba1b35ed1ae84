"""The commit pipeline as the composition root wires it: a subscriber that refetches a page when
an event arrives never gets the page from before the write that sent the event.

The danger is a read computed while a write commits: on PostgreSQL a reader on another
connection sees the data as it was before the ``COMMIT`` and caches it at the version the
write's hold made (kept for up to a hold, 10 s by default). Only the bump after the commit
retires it; if the events left before that bump, a client refetching on them got that page.

The reader is put at the worst moment deterministically: the cache (a real one, in-process or
Redis) runs it right after a write's hold, the last step before the write's ``COMMIT``. The
subscriber is the worst one too: a publisher beside the event bus that refetches inline, the
moment the relay publishes. (The memory backend cannot show the race: its reads wait for the
tenant's lock, which a writer holds until after its commit.)
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from valorize_adapters.memory import InMemoryCache, InMemoryEventBus, InMemoryTaskQueue
from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.outbox import PgOutbox
from valorize_adapters.redis import RedisCache, redis_client
from valorize_core import NewAccount, NewTransaction, SignupRequest, TransactionQuery
from valorize_core.model.events import DomainEvent, TransactionCreated, TransactionDeleted, TransactionUpdated
from valorize_core.ports.cache import Cache, Lookup
from valorize_core.runtime.caching import ReadCache
from valorize_core.runtime.publishing import FanOutPublisher
from valorize_core.runtime.relay import OutboxRelay
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.delete_transaction import TransactionDeletion
from valorize_core.use_cases.actions.update_transaction import TransactionChanges
from valorize_entrypoints.container import _wired

Page = dict[str, str]  # transaction id -> description, as a cached read serves it


class ReaderAtCommit:
    """A real cache; right after a write holds a tenant (just before its ``COMMIT``), a reader
    reads that tenant's page through the read cache (``reader``, set by the test)."""

    def __init__(self, inner: Cache) -> None:
        self.inner = inner
        self.reader: Callable[[uuid.UUID], Awaitable[object]] | None = None
        self.reads_during_commits = 0

    async def get(self, key: str) -> bytes | None:
        return await self.inner.get(key)

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        await self.inner.set(key, value, ttl_seconds)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)

    async def tenant_version(self, tenant_id: uuid.UUID) -> int:
        return await self.inner.tenant_version(tenant_id)

    async def lookup(self, tenant_id: uuid.UUID, key: str, scopes: Sequence[str] = ()) -> Lookup:
        return await self.inner.lookup(tenant_id, key, scopes)

    async def bump_tenant_version(self, tenant_id: uuid.UUID, hold: float = 0.0) -> int:
        version = await self.inner.bump_tenant_version(tenant_id, hold)
        await self._held(tenant_id, hold)
        return version

    async def bump_epoch(self) -> None:
        await self.inner.bump_epoch()

    async def bump_scopes(self, tenant_id: uuid.UUID, scopes: Sequence[str], hold: float = 0.0) -> tuple[int, ...]:
        versions = await self.inner.bump_scopes(tenant_id, scopes, hold)
        await self._held(tenant_id, hold)
        return versions

    async def _held(self, tenant_id: uuid.UUID, hold: float) -> None:
        if hold > 0 and self.reader is not None:
            self.reads_during_commits += 1
            await self.reader(tenant_id)


class Refetcher:
    """A subscriber that refetches the page as each transaction event arrives (inline, as the
    relay publishes it: no latency at all)."""

    def __init__(self, page: Callable[[uuid.UUID], Awaitable[Page]]) -> None:
        self._page = page
        self.seen: list[tuple[DomainEvent, Page]] = []

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            if isinstance(event, (TransactionCreated, TransactionUpdated, TransactionDeleted)):
                self.seen.append((event, await self._page(event.tenant_id)))


@pytest.fixture(params=["in-process", "redis"])
def shared_cache(request: pytest.FixtureRequest) -> Iterator[Cache]:
    if request.param == "in-process":
        yield InMemoryCache()
        return
    client = redis_client(request.getfixturevalue("redis_url"))
    yield RedisCache(client, prefix=f"pipeline-{uuid.uuid4().hex[:8]}")
    run(client.aclose())


Step = tuple[str, int]  # ("create" | "update" | "delete", which transaction)
steps = st.lists(st.tuples(st.sampled_from(["create", "update", "delete"]), st.integers(0, 5)), min_size=1, max_size=6)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=steps)
def test_a_subscriber_refetching_on_an_event_never_gets_the_page_from_before_the_write(
    pg_backend: PostgresBackend, shared_cache: Cache, script: list[Step]
) -> None:
    cache = ReaderAtCommit(shared_cache)
    reads = ReadCache(cache)
    raw = pg_backend.app  # reads the database directly (its own pooled connection)

    async def page(tenant: uuid.UUID) -> Page:
        async def compute() -> bytes:
            found = await raw.list_transactions(TransactionQuery(tenant, limit=100))
            return "\n".join(f"{t.id}\t{t.description}" for t in found.items).encode()

        body = await reads.get_or_compute(tenant, "transactions", "limit=100", compute)
        return dict(line.split("\t") for line in body.decode().splitlines())

    refetcher = Refetcher(page)
    publisher = FanOutPublisher(InMemoryEventBus(), refetcher)
    relay = OutboxRelay(PgOutbox(pg_backend.pool), publisher, InMemoryTaskQueue(), pg_backend.ports.clock)
    vz = _wired(raw.ports, reads, relay, publisher)
    updates: list[tuple[str, str]] = []  # (transaction id, new description), in order

    async def go() -> None:
        signed = await vz.signup(SignupRequest("T", f"{uuid.uuid4().hex}@example.com", "T"))
        tenant = signed.tenant.id
        account = (await vz.create_account(NewAccount(tenant, "A", "cash", "BRL"))).id
        await page(tenant)  # warm: the page as it is before the script
        cache.reader = page  # from now on, every write's commit is raced by a reader
        live: list[uuid.UUID] = []
        for n, (kind, which) in enumerate(script):
            if kind == "create" or not live:
                tx = await vz.create_transaction(NewTransaction(tenant, account, date(2026, 3, 1), f"tx {n}", "-1.00"))
                live.append(tx.id)
            elif kind == "update":
                target = live[which % len(live)]
                updates.append((str(target), f"upd {n}"))
                await vz.update_transaction(TransactionChanges(tenant, target, description=f"upd {n}"))
            else:
                await vz.delete_transaction(TransactionDeletion(tenant, live.pop(which % len(live))))

    run(go())
    assert cache.reads_during_commits >= len(script)
    assert len(refetcher.seen) == len(script), "every write's event reached the subscriber"
    updated = iter(updates)
    for event, seen in refetcher.seen:
        if isinstance(event, TransactionDeleted):
            assert event.transaction_id not in seen, f"{event.name}: the page from before the write"
            continue
        assert event.transaction_id in seen, f"{event.name}: the page from before the write"
        if isinstance(event, TransactionUpdated):
            assert (event.transaction_id, seen[event.transaction_id]) == next(updated), "the page before the update"
