"""The ``Cache`` port on Redis, with a global epoch that retires everything after an outage,
and the version feed that keeps near caches (``valorize_core.runtime.near_cache``) current.

A write made while Redis was unreachable could not bump its tenant's version, so entries cached
before the outage would look current again once Redis is back. When this client succeeds after
a bump failed, it bumps a global epoch that is part of every version: every entry cached before
is retired at once. Only a failed bump does: a lookup or a store that fails (a reply slower
than the timeout, as under overload) loses no invalidation, and retiring every tenant's entries
for it would turn an overload into a storm of misses.

Every bump — a tenant's version or the epoch — is published on one channel by the same script
that makes it, so no bump can happen without its message. :class:`RedisVersionFeed` listens
on it for a :class:`NearCache`.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar
from uuid import UUID

import redis.asyncio as redis

from valorize_adapters.redis.client import ScriptCall, redis_client
from valorize_core.ports.cache import Lookup
from valorize_core.runtime.near_cache import NearCache

__all__ = ["RedisCache", "RedisVersionFeed"]

T = TypeVar("T")
_EPOCH_BITS = 40

# KEYS: the epoch, the tenant's counter, the tenant's hold. ARGV: the channel, the tenant, the
# hold in milliseconds (0: none). Message: "tenant epoch counter". A hold is only ever extended.
_BUMP = """
local counter = redis.call('INCR', KEYS[2])
local epoch = redis.call('GET', KEYS[1]) or '0'
local hold = tonumber(ARGV[3])
if hold > 0 and redis.call('PTTL', KEYS[3]) < hold then
  redis.call('SET', KEYS[3], '1', 'PX', hold)
end
redis.call('PUBLISH', ARGV[1], ARGV[2] .. ' ' .. epoch .. ' ' .. counter)
return {epoch, counter}
"""
# KEYS: the epoch, then per scope its counter and its hold. ARGV: the channel, the tenant, the
# hold in milliseconds (0: none), then the scopes' names. One message for the bump:
# "tenant epoch counter scope counter scope ..." (a single scope's is the message processes
# before it published per scope). A hold is only ever extended.
_BUMP_SCOPES = """
local epoch = redis.call('GET', KEYS[1]) or '0'
local hold = tonumber(ARGV[3])
local out = {epoch}
local message = {ARGV[2], epoch}
for i = 1, (#KEYS - 1) / 2 do
  local counter = redis.call('INCR', KEYS[2 * i])
  if hold > 0 and redis.call('PTTL', KEYS[2 * i + 1]) < hold then
    redis.call('SET', KEYS[2 * i + 1], '1', 'PX', hold)
  end
  out[i + 1] = counter
  message[2 * i + 1] = counter
  message[2 * i + 2] = ARGV[3 + i]
end
redis.call('PUBLISH', ARGV[1], table.concat(message, ' '))
return out
"""
# KEYS: the epoch. ARGV: the channel. Message: "* epoch".
_BUMP_EPOCH = """
local epoch = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], '* ' .. epoch)
return epoch
"""


class RedisCache:
    """Bytes with TTLs under ``{prefix}:``, per-tenant and per-scope version counters."""

    def __init__(self, client: redis.Redis, prefix: str = "vz") -> None:
        self._r = client
        self._p = prefix
        self._lost_bump = False  # a bump failed: the epoch must move at the next success
        self.channel = _channel(prefix)  # every bump is published here (RedisVersionFeed)
        self._bump = client.register_script(_BUMP)
        self._bump_epoch = client.register_script(_BUMP_EPOCH)
        self._bump_scopes = client.register_script(_BUMP_SCOPES)

    async def _call(self, op: Awaitable[T], *, bump: bool = False) -> T:
        try:
            result = await op
        except Exception:
            if bump:
                self._lost_bump = True  # it may or may not have happened: assume it did not
            raise
        if self._lost_bump:
            self._lost_bump = False  # one move for concurrent successes...
            try:
                await self._bump_epoch(keys=[f"{self._p}:epoch"], args=[self.channel])
            except Exception:
                self._lost_bump = True  # ...but a move that failed is still owed
                raise
        return result

    async def get(self, key: str) -> bytes | None:
        return _bytes(await self._call(self._r.get(f"{self._p}:{key}")))

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        if ttl_seconds > 0:
            await self._call(self._r.set(f"{self._p}:{key}", value, px=max(1, int(ttl_seconds * 1000))))

    async def delete(self, key: str) -> None:
        await self._call(self._r.delete(f"{self._p}:{key}"))

    async def tenant_version(self, tenant_id: UUID) -> int:
        epoch, version = await self._call(self._r.mget(f"{self._p}:epoch", f"{self._p}:ver:{tenant_id}"))
        return _version(epoch, version)

    async def lookup(self, tenant_id: UUID, key: str, scopes: Sequence[str] = ()) -> Lookup:
        p, tenant = self._p, str(tenant_id)
        epoch, version, value, held, *rest = await self._call(
            self._r.mget(
                f"{p}:epoch",
                f"{p}:ver:{tenant}",
                f"{p}:{key}",
                f"{p}:hold:{tenant}",
                *(f"{p}:ver:{tenant}:{scope}" for scope in scopes),
                *(f"{p}:hold:{tenant}:{scope}" for scope in scopes),
            )
        )
        versions = tuple(_version(epoch, counter) for counter in rest[: len(scopes)])
        writing = held is not None or any(h is not None for h in rest[len(scopes) :])
        return Lookup(_version(epoch, version), _bytes(value), writing, versions)

    async def bump_scopes(self, tenant_id: UUID, scopes: Sequence[str], hold: float = 0.0) -> tuple[int, ...]:
        """One round trip, as :meth:`bump_tenant_version`: a script increments each scope's
        counter, sets or extends its hold and publishes the new versions, every scope's in one
        message."""
        recovering = self._lost_bump
        p = self._p
        tenant = str(tenant_id)  # formatted once, not twice per scope
        keys = [f"{p}:epoch"]
        for scope in scopes:
            keys += [f"{p}:ver:{tenant}:{scope}", f"{p}:hold:{tenant}:{scope}"]
        hold_ms = max(1, math.ceil(hold * 1000)) if hold > 0 else 0
        epoch, *counters = await self._call(
            self._bump_scopes(keys=keys, args=[self.channel, tenant, hold_ms, *scopes]), bump=True
        )
        if recovering:  # the epoch moved after the script: read the versions again
            return (await self.lookup(tenant_id, "-", scopes)).scopes
        return tuple(_version(epoch, counter) for counter in counters)

    def bump_scopes_call(self, tenant_id: UUID, scopes: Sequence[str]) -> ScriptCall | None:
        """What :meth:`bump_scopes` sends (no hold), as a script call to send with others in one
        round trip (:func:`~valorize_adapters.redis.client.run_scripts`); its result goes to
        :meth:`scopes_bumped`. ``None`` while the epoch must move first (a bump was lost): then
        :meth:`bump_scopes`."""
        if self._lost_bump:
            return None
        keys = [f"{self._p}:epoch"]
        for scope in scopes:
            keys += [f"{self._p}:ver:{tenant_id}:{scope}", f"{self._p}:hold:{tenant_id}:{scope}"]
        # By its text: the events sent after it must not run before it (ScriptCall.by_body).
        return ScriptCall(self._bump_scopes, keys, [self.channel, str(tenant_id), 0, *scopes], by_body=True)

    def scopes_bumped(self, result: object) -> tuple[int, ...] | None:
        """The versions a :meth:`bump_scopes_call` returned, or ``None`` when it failed (an
        exception: the bump may or may not have happened, so the epoch moves at the next
        success, as after a failed :meth:`bump_scopes`)."""
        if not isinstance(result, list):
            self._lost_bump = True
            return None
        epoch, *counters = result
        return tuple(_version(epoch, counter) for counter in counters)

    async def bump_epoch(self) -> None:
        """One round trip: the script moves the global epoch and publishes it (every near
        cache forgets what it holds)."""
        await self._call(self._bump_epoch(keys=[f"{self._p}:epoch"], args=[self.channel]), bump=True)

    async def bump_tenant_version(self, tenant_id: UUID, hold: float = 0.0) -> int:
        """One round trip: a script increments the counter, reads the epoch, sets or extends
        the hold (a key that expires by itself) and publishes the new version on the feed.

        When this call is the first success after a failed bump, ``_call`` moves the epoch after
        it, so the version is read again to include the new epoch.
        """
        recovering = self._lost_bump
        keys = [f"{self._p}:epoch", f"{self._p}:ver:{tenant_id}", f"{self._p}:hold:{tenant_id}"]
        hold_ms = max(1, math.ceil(hold * 1000)) if hold > 0 else 0
        epoch, version = await self._call(
            self._bump(keys=keys, args=[self.channel, str(tenant_id), hold_ms]), bump=True
        )
        if recovering:
            return await self.tenant_version(tenant_id)
        return _version(epoch, version)


class RedisVersionFeed:
    """Tells a :class:`NearCache` every bump published on a :class:`RedisCache`'s channel, and
    when it may miss one.

    The near cache is live from the subscription's confirmation (every bump after it arrives
    here) until the connection fails or stays silent for three heartbeats — it pings when
    nothing else arrives — and then is dropped until the next subscription. The feed has its
    own client that never reconnects behind its back (a silent reconnection could lose bumps
    while the near cache stays live). Runs until cancelled.
    """

    def __init__(self, url: str, near: NearCache, *, prefix: str = "vz", heartbeat: float = 1.0) -> None:
        self._r = redis_client(url, retries=0)
        self._channel = _channel(prefix)
        self._near = near
        self._heartbeat = heartbeat
        self.connections = 0

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            await self._r.aclose()

    async def _run(self) -> None:
        backoff = 0.05
        while True:
            pubsub = self._r.pubsub()
            connections = self.connections
            try:
                await self._listen(pubsub)
            except Exception:  # a lost connection, a silent one, a message it cannot read: start over
                pass
            finally:
                self._near.disconnected()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            backoff = 0.05 if self.connections > connections else min(backoff * 2, 2.0)
            await asyncio.sleep(backoff)

    async def _listen(self, pubsub: Any) -> None:
        loop = asyncio.get_running_loop()
        await pubsub.subscribe(self._channel)
        heard = loop.time()
        while True:
            message = await pubsub.get_message(timeout=self._heartbeat)
            now = loop.time()
            if message is None:
                if now - heard > 3 * self._heartbeat:
                    raise TimeoutError("the version feed went silent")
                await pubsub.ping()
                continue
            heard = now
            kind = message["type"]
            if kind == b"subscribe" or kind == "subscribe":
                self.connections += 1
                self._near.connected()  # every bump from here on reaches this loop
            elif kind == b"message" or kind == "message":
                self._apply(message["data"])

    def _apply(self, data: bytes) -> None:
        """One bump: ``tenant epoch counter`` (the tenant's version), ``tenant epoch counter scope
        [counter scope ...]`` (a bump of scopes, all in one message), or ``* epoch``."""
        who, *rest = data.split(b" ")
        if who == b"*":
            self._near.forget()  # the epoch moved: every version changed
            return
        epoch, *pairs = rest
        tenant = UUID(who.decode())
        if len(pairs) == 1:
            self._near.fed(tenant, _version(epoch, pairs[0]))
            return
        if not pairs or len(pairs) % 2:
            raise ValueError(f"not a version message: {data[:200]!r}")
        for at in range(0, len(pairs), 2):
            self._near.fed(tenant, _version(epoch, pairs[at]), pairs[at + 1].decode())


def _channel(prefix: str) -> str:
    return f"{prefix}:versions"


def _version(epoch: bytes | str | None, version: bytes | str | None) -> int:
    """A tenant's version: the global epoch in the high bits, the tenant's counter below."""
    return (int(epoch or 0) << _EPOCH_BITS) | int(version or 0)


def _bytes(value: bytes | str | None) -> bytes | None:
    return value if value is None or isinstance(value, bytes) else value.encode()
