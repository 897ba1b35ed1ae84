"""Contract of the Idempotency-Key store: Stripe's semantics, expiry, abandoned claims, and
keys marked applied by the commit of their request's write (shared with the units of work)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import pytest

from valorize_core.model.listing import TransactionFilter
from valorize_core.ports.idempotency import (
    Applied,
    Claimed,
    ClaimRetaken,
    IdempotencyStore,
    InProgress,
    Mismatch,
    Replay,
    applying_key,
)
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.testing.contracts.base import NOW, PortsContract
from valorize_core.use_cases.context import Ports

__all__ = ["IdempotencyContract"]

TTL, LOCK = timedelta(hours=24), timedelta(seconds=60)
LOST = Replay(409, b'{"code":"already_applied"}')


class IdempotencyContract(PortsContract):
    @pytest.fixture
    def idempotency(self) -> IdempotencyStore:
        """The store under test."""
        raise NotImplementedError("override the idempotency fixture")

    def holding(
        self,
        ports: Ports,
        held: tuple[uuid.UUID, str, datetime],
        tenant: uuid.UUID,
        step: Callable[[UnitOfWork], Awaitable[None]],
    ) -> None:
        """Run ``step`` in a unit of ``tenant`` while a request holds the key ``held`` (tenant, key,
        claim); commit."""

        async def go() -> None:
            with applying_key(*held):
                async with ports.uow(tenant) as uow:
                    await step(uow)
                    await uow.commit()

        self.run(go())

    def test_first_claim_then_in_progress_then_replay(self, ports: Ports, idempotency: IdempotencyStore) -> None:
        t, key = self.new_tenant(ports), uuid.uuid4().hex
        assert self.run(idempotency.claim(t, key, "h1", NOW, TTL, LOCK)) == Claimed(NOW)
        assert self.run(idempotency.claim(t, key, "h1", NOW, TTL, LOCK)) == InProgress()
        assert self.run(idempotency.claim(t, key, "h2", NOW, TTL, LOCK)) == Mismatch()
        self.run(idempotency.complete(t, key, NOW, 201, b'{"id":1}'))
        assert self.run(idempotency.claim(t, key, "h1", NOW, TTL, LOCK)) == Replay(201, b'{"id":1}')
        assert self.run(idempotency.claim(t, key, "h2", NOW, TTL, LOCK)) == Mismatch()

    def test_keys_are_per_tenant_and_expire(self, ports: Ports, idempotency: IdempotencyStore) -> None:
        a, b, key = self.new_tenant(ports), self.new_tenant(ports), uuid.uuid4().hex
        self.run(idempotency.claim(a, key, "h", NOW, TTL, LOCK))
        self.run(idempotency.complete(a, key, NOW, 201, b"a"))
        assert self.run(idempotency.claim(b, key, "other", NOW, TTL, LOCK)) == Claimed(NOW)
        later = NOW + TTL + timedelta(seconds=1)
        assert self.run(idempotency.claim(a, key, "new", later, TTL, LOCK)) == Claimed(later)

    def test_released_and_abandoned_claims_can_be_retaken(self, ports: Ports, idempotency: IdempotencyStore) -> None:
        t, key = self.new_tenant(ports), uuid.uuid4().hex
        self.run(idempotency.claim(t, key, "h", NOW, TTL, LOCK))
        self.run(idempotency.release(t, key, NOW))
        assert self.run(idempotency.claim(t, key, "h", NOW, TTL, LOCK)) == Claimed(NOW)
        assert self.run(idempotency.claim(t, key, "h", NOW + LOCK / 2, TTL, LOCK)) == InProgress()
        assert self.run(idempotency.claim(t, key, "h", NOW + LOCK * 2, TTL, LOCK)) == Claimed(NOW + LOCK * 2)

    def test_a_committed_write_marks_its_key_applied(self, ports: Ports, idempotency: IdempotencyStore) -> None:
        """The write committed, its answer was lost (the request failed after the commit): the
        key is neither released nor retaken after its lock; a retry never runs the request again."""
        t, key = self.new_tenant(ports), uuid.uuid4().hex
        assert self.run(idempotency.claim(t, key, "h", NOW, TTL, LOCK)) == Claimed(NOW)

        async def add(uow: UnitOfWork) -> None:
            await uow.accounts.add(self.account(t))

        self.holding(ports, (t, key, NOW), t, add)
        # Still running (storing its answer, say): a retry waits as for any claim in progress.
        assert self.run(idempotency.claim(t, key, "h", NOW, TTL, LOCK)) == InProgress()
        assert self.run(idempotency.claim(t, key, "other", NOW, TTL, LOCK)) == Mismatch()
        self.run(idempotency.release(t, key, NOW))  # the request failed after its commit: kept
        assert self.run(idempotency.claim(t, key, "h", NOW + LOCK / 2, TTL, LOCK)) == InProgress()
        # Its process died before storing an answer: past the lock, never retaken.
        assert self.run(idempotency.claim(t, key, "h", NOW + LOCK * 2, TTL, LOCK)) == Applied()
        expired = NOW + TTL + LOCK
        assert self.run(idempotency.claim(t, key, "h", expired, TTL, LOCK)) == Claimed(expired)

    def test_an_applied_key_keeps_its_answer(self, ports: Ports, idempotency: IdempotencyStore) -> None:
        t, kept, lost = self.new_tenant(ports), uuid.uuid4().hex, uuid.uuid4().hex

        async def add(uow: UnitOfWork) -> None:
            await uow.categories.add(self.category(t, uuid.uuid4().hex))

        for key in (kept, lost):
            self.run(idempotency.claim(t, key, "h", NOW, TTL, LOCK))
            self.holding(ports, (t, key, NOW), t, add)
        self.run(idempotency.complete(t, kept, NOW, 201, b'{"id":1}'))
        self.run(idempotency.release(t, kept, NOW, LOST))  # a completed key keeps its own answer
        assert self.run(idempotency.claim(t, kept, "h", NOW, TTL, LOCK)) == Replay(201, b'{"id":1}')
        self.run(idempotency.release(t, lost, NOW, LOST))
        assert self.run(idempotency.claim(t, lost, "h", NOW, TTL, LOCK)) == LOST

    def test_only_a_write_of_the_keys_tenant_in_the_request_marks_it(
        self, ports: Ports, idempotency: IdempotencyStore
    ) -> None:
        """A unit that rolled back, that only read, of another tenant, or that commits after the
        request let go of the key marks nothing: the key is released and the retry runs."""
        t, other, key = self.new_tenant(ports), self.new_tenant(ports), uuid.uuid4().hex
        self.run(idempotency.claim(t, key, "h", NOW, TTL, LOCK))

        async def rolled_back() -> None:
            with applying_key(t, key, NOW):
                async with ports.uow(t) as uow:
                    await uow.accounts.add(self.account(t))
                    await uow.rollback()

        async def add(uow: UnitOfWork) -> None:
            await uow.accounts.add(self.account(uow.tenant_id))

        async def only_reads(uow: UnitOfWork) -> None:
            await uow.accounts.list()

        self.run(rolled_back())
        self.holding(ports, (t, key, NOW), t, only_reads)
        self.holding(ports, (t, key, NOW), other, add)
        self.write(ports, t, add)  # no key held
        self.run(idempotency.release(t, key, NOW, LOST))
        assert self.run(idempotency.claim(t, key, "h", NOW, TTL, LOCK)) == Claimed(NOW)

    def test_a_unit_that_only_read_marks_nothing_whatever_it_read(
        self, ports: Ports, idempotency: IdempotencyStore
    ) -> None:
        """Reads of every kind (lists, pages, lookups, word counts, a neighbour search, locks
        taken for a check) in a unit under the key: nothing written, nothing marked, the retry
        runs. (The memory unit knows it wrote from its maps' own marks: no read may mark one.)"""
        t, key = self.new_tenant(ports), uuid.uuid4().hex
        acc, food = self.account(t), self.category(t)
        self.add_all(ports, t, acc, food)
        tx = self.transaction(t, acc, categories=(food.id,))

        async def teach(uow: UnitOfWork) -> None:
            await uow.transactions.add(tx)
            await uow.payees.learn_words(["padaria", "real"], food.id, 1.0)
            await uow.examples.upsert(tx.id, [1.0] + [0.0] * (uow.examples.dimensions - 1), food.id, "padaria")

        self.write(ports, t, teach)
        self.run(idempotency.claim(t, key, "h", NOW, TTL, LOCK))

        async def reads(uow: UnitOfWork) -> None:
            await uow.accounts.list()
            await uow.accounts.lock([acc.id])
            await uow.categories.list(for_update=True)
            await uow.transactions.get(tx.id)
            await uow.transactions.lock([tx.id])
            await uow.transactions.page(TransactionFilter(), None, 10)
            await uow.transactions.all(TransactionFilter(text="padaria"))
            await uow.transactions.count_for_account(acc.id)
            await uow.payees.word_counts(["padaria", "real", "nunca"])
            await uow.payees.get_many(["padaria real"])
            await uow.examples.nearest([1.0] + [0.0] * (uow.examples.dimensions - 1), 3)
            await uow.rules.list()
            await uow.budgets.list()
            await uow.imports.list()
            await uow.identity.get_tenant()
            await uow.identity.list_members()

        self.holding(ports, (t, key, NOW), t, reads)
        self.run(idempotency.release(t, key, NOW, LOST))
        assert self.run(idempotency.claim(t, key, "h", NOW, TTL, LOCK)) == Claimed(NOW)

    def test_a_write_without_events_marks_its_key_even_when_it_left_the_data_as_it_was(
        self, ports: Ports, idempotency: IdempotencyStore
    ) -> None:
        """A unit that wrote, recorded no event, and whose writes took each other back (words
        learned then unlearned, an account saved as it was) wrote all the same, as every
        statement it ran on PostgreSQL: it marks the key. (The memory unit decided by comparing
        its whole data with the committed data, O(tenant), and marked nothing.)"""
        t, key = self.new_tenant(ports), uuid.uuid4().hex
        acc, food = self.account(t), self.category(t)
        self.add_all(ports, t, acc, food)
        self.run(idempotency.claim(t, key, "h", NOW, TTL, LOCK))

        async def taken_back(uow: UnitOfWork) -> None:
            await uow.payees.learn_words(["padaria"], food.id, 1.0)
            await uow.payees.learn_words(["padaria"], food.id, -1.0)
            await uow.accounts.update(acc)

        self.holding(ports, (t, key, NOW), t, taken_back)
        self.run(idempotency.release(t, key, NOW, LOST))  # the request failed after its commit
        assert self.run(idempotency.claim(t, key, "h", NOW, TTL, LOCK)) == LOST  # applied: never run again
        assert self.read(ports, t, lambda uow: uow.payees.word_counts(["padaria"])) == {}

    def test_a_unit_that_only_took_a_lock_marks_nothing(self, ports: Ports, idempotency: IdempotencyStore) -> None:
        """A lock is no write: a unit that held the rule order (as every rule action does first)
        and changed nothing leaves the key in progress, so a request that failed after it is
        released and its retry runs (as the memory units, which mark only a changed state)."""
        t, key = self.new_tenant(ports), uuid.uuid4().hex
        self.run(idempotency.claim(t, key, "h", NOW, TTL, LOCK))

        async def only_locks(uow: UnitOfWork) -> None:
            await uow.rules.hold_order()

        self.holding(ports, (t, key, NOW), t, only_locks)
        self.run(idempotency.release(t, key, NOW, LOST))
        assert self.run(idempotency.claim(t, key, "h", NOW, TTL, LOCK)) == Claimed(NOW)

    def test_a_claim_is_owned_by_its_request(self, ports: Ports, idempotency: IdempotencyStore) -> None:
        """A request outlived its claim's lock and a retry retook the key: the late request's
        write is refused (:class:`ClaimRetaken`, nothing written), its release and its answer
        touch nothing of the retry's claim; the retry's write is the one, its answer the replay."""
        t, key = self.new_tenant(ports), uuid.uuid4().hex
        late, retry = NOW, NOW + LOCK * 2

        async def add(uow: UnitOfWork) -> None:
            await uow.accounts.add(self.account(t, uuid.uuid4().hex))  # a name of its own each time

        async def accounts(uow: UnitOfWork) -> int:
            return len(await uow.accounts.list())

        assert self.run(idempotency.claim(t, key, "h", late, TTL, LOCK)) == Claimed(late)
        assert self.run(idempotency.claim(t, key, "h", retry, TTL, LOCK)) == Claimed(retry)
        with pytest.raises(ClaimRetaken):  # before the retry wrote
            self.holding(ports, (t, key, late), t, add)
        self.run(idempotency.release(t, key, late, LOST))
        assert self.run(idempotency.claim(t, key, "h", retry, TTL, LOCK)) == InProgress()  # the retry's, kept
        self.holding(ports, (t, key, retry), t, add)
        with pytest.raises(ClaimRetaken):  # after the retry wrote
            self.holding(ports, (t, key, late), t, add)
        self.run(idempotency.complete(t, key, late, 500, b"late"))
        self.run(idempotency.release(t, key, late, LOST))
        assert self.write(ports, t, accounts) == 1
        self.run(idempotency.release(t, key, retry, LOST))  # the retry failed after its write: applied
        assert self.run(idempotency.claim(t, key, "h", retry, TTL, LOCK)) == LOST
