"""Domain events over Redis pub/sub: per-tenant channels and per-tenant sequence numbers.

Publishing runs a tiny Lua script that increments the tenant's sequence and publishes the
event with it, atomically, so sequence numbers follow publication order; a commit's events go
in one call (one round trip, not one per event). Subscribers resubscribe
after reconnecting (redis-py's ``PubSub`` replays its subscriptions on connect) and flag gaps in
the sequence, since pub/sub delivers at most once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from itertools import groupby
from uuid import UUID

import redis.asyncio as redis

from valorize_adapters.redis.client import ScriptCall
from valorize_core.model.events import DomainEvent
from valorize_core.ports.event_subscriber import Delivery

__all__ = ["RedisEventBus", "RedisSubscriber"]

_PUBLISH = """
local seq = 0
for i = 1, #ARGV do
  seq = redis.call('INCR', KEYS[1])
  redis.call('PUBLISH', KEYS[2], '{"seq":' .. seq .. ',"event":' .. ARGV[i] .. '}')
end
return seq
"""


class RedisEventBus:
    """The ``EventPublisher`` port on Redis; :meth:`subscriber` gives ``EventSubscriber`` s."""

    def __init__(self, client: redis.Redis, prefix: str = "vz") -> None:
        self._r = client
        self._p = prefix
        self._script = client.register_script(_PUBLISH)

    def channel(self, tenant_id: UUID) -> str:
        """The tenant's channel (hash-tagged, so the script's keys share a cluster slot)."""
        return f"{self._p}:events:{{{tenant_id}}}"

    @property
    def client(self) -> redis.Redis:
        """The client it publishes with."""
        return self._r

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        """One script call per run of the same tenant's events (a commit's events are one run)."""
        for tenant, run in groupby(events, key=lambda e: e.tenant_id):
            call = self.publish_call(tenant, [e.to_json() for e in run])
            await self._script(keys=call.keys, args=call.args)

    def publish_call(self, tenant_id: UUID, records: Sequence[str]) -> ScriptCall:
        """The script call that publishes a tenant's events (their JSON records), in order, to
        send with others (:func:`~valorize_adapters.redis.client.run_scripts`)."""
        return ScriptCall(self._script, [f"{self._p}:seq:{{{tenant_id}}}", self.channel(tenant_id)], records)

    def subscriber(self) -> RedisSubscriber:
        """A subscriber with its own connection."""
        return RedisSubscriber(self)

    async def close(self) -> None:
        """Close the client."""
        await self._r.aclose()


class RedisSubscriber:
    """Receives the events of subscribed tenants; survives Redis restarts."""

    def __init__(self, bus: RedisEventBus) -> None:
        self._bus = bus
        self._pubsub = bus._r.pubsub(ignore_subscribe_messages=True)
        self._tenants: set[UUID] = set()
        self._last: dict[UUID, int] = {}
        self._closed = False
        self.reconnects = 0

    async def subscribe(self, tenant_id: UUID) -> None:
        self._tenants.add(tenant_id)
        await self._pubsub.subscribe(self._bus.channel(tenant_id))

    async def unsubscribe(self, tenant_id: UUID) -> None:
        self._tenants.discard(tenant_id)
        self._last.pop(tenant_id, None)
        await self._pubsub.unsubscribe(self._bus.channel(tenant_id))

    async def deliveries(self) -> AsyncIterator[Delivery]:
        backoff = 0.05
        while not self._closed:
            if not self._tenants:
                await asyncio.sleep(0.05)
                continue
            try:
                message = await self._pubsub.get_message(timeout=1.0)
                backoff = 0.05
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                if self._closed:
                    return
                self.reconnects += 1
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            if message is None or message.get("type") != "message":
                continue
            body = json.loads(message["data"])
            record = body["event"]
            tenant = UUID(record["tenant_id"])
            if tenant not in self._tenants:
                continue
            sequence = int(body["seq"])
            last = self._last.get(tenant)
            self._last[tenant] = sequence
            yield Delivery(tenant, sequence, record, gap=last is not None and sequence != last + 1)

    async def close(self) -> None:
        self._closed = True
        await self._pubsub.aclose()
