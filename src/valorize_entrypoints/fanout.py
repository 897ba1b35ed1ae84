"""A commit's Redis work after it committed in one round trip: the read cache's bump, then its
events to the event bus and to the browsers.

With Redis, :class:`~valorize_core.runtime.publishing.FanOutPublisher` sent a commit's events
twice, one after the other: the event bus's script (``RedisEventBus``), then the realtime
backplane's (``RealtimeBroadcaster`` → ``RedisBackplane``). :class:`PipelinedFanOut` sends the
two scripts in one pipeline (``run_scripts``): the same messages, channels and sequence numbers,
one round trip, each event's JSON made once.

Before them went a round trip of its own: the read cache's bump after the commit
(``ReadCache.retire_after_commit``), awaited before the relay started so that no event leaves
before the reads it changes are retired. :class:`RetireThenRelay`, the after-commit hook that
replaces the two, hands that bump to the publisher, which sends it first in the same pipeline:
Redis runs a connection's commands in order, so the bump still happens before any of the events
is published, and this process applies the new versions (``ReadCache.retired``) before the hook
returns — before the write's response. Meanwhile (``ReadCache.retiring``) its near cache serves
nothing that depends on the scopes being bumped: a subscriber refetching on an event could reach
this process before it has read the pipeline's reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from itertools import groupby

from valorize_adapters.pusher.backplane import RedisBackplane
from valorize_adapters.pusher.broadcaster import tenant_channel
from valorize_adapters.redis import RedisCache, RedisEventBus
from valorize_adapters.redis.client import ScriptCall, run_scripts
from valorize_core.model.events import DomainEvent
from valorize_core.ports.unit_of_work import CommitHook, UnitOfWork
from valorize_core.runtime.caching import ReadCache
from valorize_entrypoints.tracing import span

__all__ = ["PipelinedFanOut", "RetireThenRelay"]


@dataclass
class _Bump:
    """A bump riding with the next publish of this context: sent first, its reply kept."""

    call: ScriptCall
    sent: bool = False
    result: object = field(default=None)


_RIDING: ContextVar[_Bump | None] = ContextVar("valorize_riding_bump", default=None)


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
        if not calls:
            return
        # The round trip is the realtime publish's span (as ``TracedPublisher`` gives the
        # broadcaster without Redis), in the write's trace.
        with span("realtime publish", events[0].correlation_id, events=len(events), event=events[0].name):
            await self._send(calls)

    async def _send(self, calls: list[ScriptCall]) -> None:
        bump = _RIDING.get()
        if bump is None or bump.sent:
            await run_scripts(self._bus.client, calls)
            return
        bump.sent = True
        try:
            results = await run_scripts(self._bus.client, [bump.call, *calls], raise_on_error=False)
        except Exception as exc:  # not one reply read: the bump may or may not have happened
            bump.result = exc
            raise
        bump.result = results[0]
        for result in results[1:]:
            if isinstance(result, Exception):
                raise result


class RetireThenRelay:
    """The after-commit hook that does what ``ReadCache.retire_after_commit`` then
    ``OutboxRelay.after_commit`` did, with the cache's bump sent in the round trip of the
    events' publish (:class:`PipelinedFanOut`, which must be the relay's publisher). A unit
    with no events, a bump of the tenant's version or of the epoch, and the first bump after a
    lost one are sent on their own first, as before. Never raises (neither hook does)."""

    def __init__(self, reads: ReadCache, cache: RedisCache, relay: CommitHook) -> None:
        self._reads = reads
        self._cache = cache
        self._relay = relay

    async def __call__(self, uow: UnitOfWork) -> None:
        names = self._reads.retirement(uow) if uow.committed_events else None
        call = None if names is None else self._cache.bump_scopes_call(uow.tenant_id, names)
        if names is None or call is None:
            await self._reads.retire_after_commit(uow)
            await self._relay(uow)
            return
        bump = _Bump(call)
        self._reads.retiring(uow.tenant_id, names)
        token = _RIDING.set(bump)
        try:
            await self._relay(uow)
        finally:
            _RIDING.reset(token)
            if not bump.sent:  # nothing was published (the events are the sweeper's): bump alone
                self._reads.retired(uow.tenant_id, names, await self._bump_alone(uow, names))
            else:
                self._reads.retired(uow.tenant_id, names, self._cache.scopes_bumped(bump.result))

    async def _bump_alone(self, uow: UnitOfWork, names: list[str]) -> tuple[int, ...] | None:
        try:
            return await self._cache.bump_scopes(uow.tenant_id, names)
        except Exception:
            return None
