"""Contract of the cache: bytes with TTLs and per-tenant versions."""

from __future__ import annotations

import time
import uuid

import pytest

from valorize_core.ports.cache import Cache
from valorize_core.testing.contracts.base import PortsContract

__all__ = ["CacheContract"]


class CacheContract(PortsContract):
    @pytest.fixture
    def cache(self) -> Cache:
        """The cache under test."""
        raise NotImplementedError("override the cache fixture")

    def test_set_get_delete(self, cache: Cache) -> None:
        key = f"k:{uuid.uuid4()}"
        assert self.run(cache.get(key)) is None
        self.run(cache.set(key, b'{"a":1}', 60))
        assert self.run(cache.get(key)) == b'{"a":1}'
        self.run(cache.set(key, b"v2", 60))
        assert self.run(cache.get(key)) == b"v2"
        self.run(cache.delete(key))
        assert self.run(cache.get(key)) is None

    def test_entries_expire(self, cache: Cache) -> None:
        key = f"k:{uuid.uuid4()}"
        self.run(cache.set(key, b"x", 0.2))
        deadline = time.monotonic() + 5
        while self.run(cache.get(key)) is not None:
            assert time.monotonic() < deadline, "entry did not expire"
            time.sleep(0.05)

    def test_tenant_versions_bump_independently(self, cache: Cache) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        start = self.run(cache.tenant_version(a))
        assert self.run(cache.bump_tenant_version(a)) == start + 1
        assert self.run(cache.tenant_version(a)) == start + 1
        assert self.run(cache.tenant_version(b)) == self.run(cache.tenant_version(uuid.uuid4()))  # untouched

    def test_lookup_reads_the_version_and_the_value_together(self, cache: Cache) -> None:
        tenant, key = uuid.uuid4(), f"k:{uuid.uuid4()}"
        assert self.run(cache.lookup(tenant, key)) == (self.run(cache.tenant_version(tenant)), None, False, ())
        self.run(cache.set(key, b"page", 60))
        version = self.run(cache.bump_tenant_version(tenant))
        assert self.run(cache.lookup(tenant, key)) == (version, b"page", False, ())
        other = uuid.uuid4()
        assert self.run(cache.lookup(other, key)) == (self.run(cache.tenant_version(other)), b"page", False, ())

    def test_scope_versions_bump_alone_and_are_read_with_the_value(self, cache: Cache) -> None:
        tenant, other, key = uuid.uuid4(), uuid.uuid4(), f"k:{uuid.uuid4()}"
        version = self.run(cache.tenant_version(tenant))
        start = self.run(cache.lookup(tenant, key, ("ledger", "account:a", "account:b"))).scopes
        assert len(start) == 3
        bumped = self.run(cache.bump_scopes(tenant, ("ledger", "account:a")))
        assert bumped == (start[0] + 1, start[1] + 1)
        found = self.run(cache.lookup(tenant, key, ("account:b", "ledger", "account:a")))
        assert found.scopes == (start[2], start[0] + 1, start[1] + 1)  # in the order asked
        assert found.version == version  # the tenant's own version does not move
        assert self.run(cache.lookup(other, key, ("ledger",))).scopes == (self.run(cache.tenant_version(other)),)
        self.run(cache.bump_scopes(tenant, ("ledger",), 0.5))
        assert self.run(cache.lookup(tenant, key, ("account:a", "ledger"))).writing is True  # the scope is held
        assert self.run(cache.lookup(tenant, key, ("account:a",))).writing is False  # the others are not
        assert self.run(cache.lookup(tenant, key)).writing is False

    def test_the_epoch_moves_every_version_of_every_tenant(self, cache: Cache) -> None:
        a, b, key = uuid.uuid4(), uuid.uuid4(), f"k:{uuid.uuid4()}"
        self.run(cache.bump_tenant_version(a))
        self.run(cache.bump_scopes(a, ("ledger",)))
        before = [self.run(cache.lookup(t, key, ("ledger", "accounts"))) for t in (a, b)]
        self.run(cache.bump_epoch())
        after = [self.run(cache.lookup(t, key, ("ledger", "accounts"))) for t in (a, b)]
        for old, new in zip(before, after, strict=True):
            assert new.version > old.version
            assert all(n > o for o, n in zip(old.scopes, new.scopes, strict=True))
        # versions keep growing from there: a bump never brings one back to a value from before
        assert self.run(cache.bump_scopes(b, ("ledger",)))[0] > after[1].scopes[0]

    def test_a_hold_is_reported_by_lookups_of_its_tenant_until_it_ends(self, cache: Cache) -> None:
        tenant, other, key = uuid.uuid4(), uuid.uuid4(), f"k:{uuid.uuid4()}"
        before = self.run(cache.tenant_version(tenant))
        held = self.run(cache.bump_tenant_version(tenant, 0.5))
        assert held == before + 1  # a hold is a bump as well
        assert self.run(cache.lookup(tenant, key)) == (held, None, True, ())
        assert self.run(cache.lookup(other, key)).writing is False
        after = self.run(cache.bump_tenant_version(tenant))  # the bump after the commit...
        assert self.run(cache.lookup(tenant, key)) == (after, None, True, ())  # ...does not end it
        deadline = time.monotonic() + 5
        while self.run(cache.lookup(tenant, key)).writing:
            assert time.monotonic() < deadline, "the hold did not end"
            time.sleep(0.05)
        assert self.run(cache.tenant_version(tenant)) == after

    def test_a_shorter_hold_never_cuts_a_longer_one(self, cache: Cache) -> None:
        tenant, key = uuid.uuid4(), f"k:{uuid.uuid4()}"
        self.run(cache.bump_tenant_version(tenant, 30))
        self.run(cache.bump_tenant_version(tenant, 0.05))
        time.sleep(0.2)
        assert self.run(cache.lookup(tenant, key)).writing is True
