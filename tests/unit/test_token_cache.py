"""The token cache: found tokens kept for a few seconds, misses never, revocations at once here."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from world import World, run

from valorize_core.model.identity import hash_token
from valorize_core.runtime.token_cache import CachingDirectory
from valorize_core.use_cases.actions.manage_tokens import NewToken


class Counting:
    def __init__(self, inner: object) -> None:
        self.inner, self.calls = inner, 0

    async def token_by_hash(self, token_hash: str) -> object:
        self.calls += 1
        return await self.inner.token_by_hash(token_hash)  # type: ignore[attr-defined]


def test_lookups_are_kept_for_the_ttl_and_misses_are_not(world: World) -> None:
    issued = run(world.vz.create_token(NewToken(world.tenant, world.user, "ci", "member")))
    counting = Counting(world.vz.ports.directory)
    cache = CachingDirectory(counting, world.clock, ttl=10, size=2)  # type: ignore[arg-type]
    key = hash_token(issued.secret)
    assert run(cache.token_by_hash(key)) == issued.token
    assert run(cache.token_by_hash(key)) == issued.token
    assert counting.calls == 1
    world.clock.advance(timedelta(seconds=11))
    run(cache.token_by_hash(key))
    assert counting.calls == 2  # expired: asked again
    assert run(cache.token_by_hash("nope")) is None
    assert run(cache.token_by_hash("nope")) is None
    assert counting.calls == 4  # misses are never remembered
    cache.forget(issued.token.id)
    run(cache.token_by_hash(key))
    assert counting.calls == 5
    for name in ("a", "b"):  # LRU bound: two entries
        other = run(world.vz.create_token(NewToken(world.tenant, world.user, name, "member")))
        run(cache.token_by_hash(hash_token(other.secret)))
    run(cache.token_by_hash(key))
    assert counting.calls == 8  # the first one was evicted
    assert replace(issued.token).active
