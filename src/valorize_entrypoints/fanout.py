"""Committed events to the event bus and to the browsers in one Redis round trip.

With Redis, :class:`~valorize_core.runtime.publishing.FanOutPublisher` sent a commit's events
twice, one after the other: the event bus's script (``RedisEventBus``), then the realtime
backplane's (``RealtimeBroadcaster`` → ``RedisBackplane``). :class:`PipelinedFanOut` sends the
two scripts in one pipeline (``run_scripts``): the same messages, channels and sequence numbers,
one round trip, each event's JSON made once.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from valorize_adapters.pusher.backplane import RedisBackplane
from valorize_adapters.pusher.broadcaster import tenant_channel
from valorize_adapters.redis import RedisEventBus
from valorize_adapters.redis.client import ScriptCall, run_scripts
from valorize_core.model.events import DomainEvent

__all__ = ["PipelinedFanOut"]


class PipelinedFanOut:
    """The ``EventPublisher`` that publishes each run of a tenant's events on the event bus and on
    the tenant's realtime channel (``private-tenant.{id}``, as ``RealtimeBroadcaster``), every
    script of a call in one round trip, in order. Like ``FanOutPublisher``, every script runs even
    when one fails, and the first failure is raised after: the outbox keeps the events for the
    sweeper (consumers tolerate the repeats)."""

    def __init__(self, bus: RedisEventBus, backplane: RedisBackplane) -> None:
        self._bus = bus
        self._backplane = backplane

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        calls: list[ScriptCall] = []
        for tenant, run in groupby(events, key=lambda e: e.tenant_id):
            named = [(e.name, e.to_json()) for e in run]
            calls.append(self._bus.publish_call(tenant, [record for _, record in named]))
            calls.append(self._backplane.publish_call(tenant_channel(tenant), named))
        if calls:
            await run_scripts(self._bus.client, calls)
