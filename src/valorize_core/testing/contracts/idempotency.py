"""Contract of the Idempotency-Key store: Stripe's semantics, expiry, abandoned claims."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from valorize_core.ports.idempotency import Claimed, IdempotencyStore, InProgress, Mismatch, Replay
from valorize_core.testing.contracts.base import NOW, PortsContract
from valorize_core.use_cases.context import Ports

__all__ = ["IdempotencyContract"]

TTL, LOCK = timedelta(hours=24), timedelta(seconds=60)


class IdempotencyContract(PortsContract):
    @pytest.fixture
    def idempotency(self) -> IdempotencyStore:
        """The store under test."""
        raise NotImplementedError("override the idempotency fixture")

    def test_first_claim_then_in_progress_then_replay(self, ports: Ports, idempotency: IdempotencyStore) -> None:
        t, key = self.new_tenant(ports), uuid.uuid4().hex
        assert self.run(idempotency.claim(t, key, "h1", NOW, TTL, LOCK)) == Claimed()
        assert self.run(idempotency.claim(t, key, "h1", NOW, TTL, LOCK)) == InProgress()
        assert self.run(idempotency.claim(t, key, "h2", NOW, TTL, LOCK)) == Mismatch()
        self.run(idempotency.complete(t, key, 201, b'{"id":1}'))
        assert self.run(idempotency.claim(t, key, "h1", NOW, TTL, LOCK)) == Replay(201, b'{"id":1}')
        assert self.run(idempotency.claim(t, key, "h2", NOW, TTL, LOCK)) == Mismatch()

    def test_keys_are_per_tenant_and_expire(self, ports: Ports, idempotency: IdempotencyStore) -> None:
        a, b, key = self.new_tenant(ports), self.new_tenant(ports), uuid.uuid4().hex
        self.run(idempotency.claim(a, key, "h", NOW, TTL, LOCK))
        self.run(idempotency.complete(a, key, 201, b"a"))
        assert self.run(idempotency.claim(b, key, "other", NOW, TTL, LOCK)) == Claimed()
        later = NOW + TTL + timedelta(seconds=1)
        assert self.run(idempotency.claim(a, key, "new", later, TTL, LOCK)) == Claimed()

    def test_released_and_abandoned_claims_can_be_retaken(self, ports: Ports, idempotency: IdempotencyStore) -> None:
        t, key = self.new_tenant(ports), uuid.uuid4().hex
        self.run(idempotency.claim(t, key, "h", NOW, TTL, LOCK))
        self.run(idempotency.release(t, key))
        assert self.run(idempotency.claim(t, key, "h", NOW, TTL, LOCK)) == Claimed()
        assert self.run(idempotency.claim(t, key, "h", NOW + LOCK / 2, TTL, LOCK)) == InProgress()
        assert self.run(idempotency.claim(t, key, "h", NOW + LOCK * 2, TTL, LOCK)) == Claimed()
