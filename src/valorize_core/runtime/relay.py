"""The outbox relay: committed events reach subscribers and become background tasks.

Right after a commit the unit's events are published (low latency) and their follow-up tasks
enqueued; the events are then marked published. If that fails — the process dies between
commit and publish, or Redis is away — the events stay unpublished in the outbox, and
:meth:`OutboxRelay.sweep` publishes them later. Nothing committed is lost; an event may be
published twice, which consumers tolerate: they deduplicate by event id, and follow-up tasks
have ids derived from the event id, so the queue drops the second enqueue.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from valorize_core.model.events import (
    DomainEvent,
    ImportRequested,
    JobRequested,
    TransactionCreated,
    TransactionDeleted,
    TransactionsImported,
    TransactionUpdated,
    WebhookDeliveryRequested,
)
from valorize_core.model.notifications import notification_for
from valorize_core.model.webhooks import WEBHOOK_EVENTS
from valorize_core.ports.clock import Clock
from valorize_core.ports.event_publisher import EventPublisher
from valorize_core.ports.outbox import Outbox
from valorize_core.ports.task_queue import Task, TaskQueue
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.runtime.tasks import task_id_for
from valorize_core.use_cases.cooperative import cooperatively

__all__ = ["PUBLISH_SLICE", "OutboxRelay", "follow_up_tasks"]

PUBLISH_SLICE = 500  # events per call to the publisher


def _task(name: str, event: DomainEvent, key: str, payload: dict[str, Any]) -> Task:
    """A follow-up task whose id derives from what caused it (one task per cause)."""
    task_id = task_id_for(name, event.tenant_id, key)
    return Task(task_id, name, event.tenant_id, payload, correlation_id=event.correlation_id)


def follow_up_tasks(event: DomainEvent) -> list[Task]:
    """The background work an event asks for (deterministic ids: one task per event)."""
    tasks: list[Task] = []
    if isinstance(event, ImportRequested):
        tasks.append(_task("import_statement", event, event.import_id, {"import_id": event.import_id}))
    elif isinstance(event, JobRequested):
        tasks.append(_task(event.kind, event, event.job_id, {"job_id": event.job_id}))
    if isinstance(event, TransactionCreated):
        day: str | None = event.booked_on
    elif isinstance(event, (TransactionUpdated, TransactionDeleted, TransactionsImported)):
        day = event.occurred_at.date().isoformat()
    else:
        day = None
    if day is not None:
        tasks.append(_task("evaluate_budgets", event, str(event.event_id), {"day": day}))
    if notification_for(event) is not None:
        tasks.append(_task("notify", event, str(event.event_id), {"event": event.to_record()}))
    if event.name in WEBHOOK_EVENTS:
        tasks.append(_task("fan_out_webhooks", event, str(event.event_id), {"event": event.to_record()}))
    elif isinstance(event, WebhookDeliveryRequested):
        key = f"{event.delivery_id}:{event.round}:{event.attempt}"
        task = _task("deliver_webhook", event, key,
                     {"delivery_id": event.delivery_id, "attempt": event.attempt, "round": event.round})  # fmt: skip
        due = datetime.fromisoformat(event.not_before) if event.not_before else None
        tasks.append(replace(task, not_before=due))
    return tasks


class OutboxRelay:
    """Publishes committed events and enqueues their follow-up tasks.

    With a ``mark_window`` (seconds), events published by many commits are marked published
    together, once per window, in one statement instead of one per commit; until then (or if
    the process dies first) they merely look unpublished, and the sweeper — whose grace is far
    longer than the window — would publish them again, which consumers tolerate.

    With ``tasks_committed`` the units of work wrote the follow-up tasks in the commit that
    stored their events (the local queue, on the same database): the relay only publishes.
    """

    def __init__(
        self,
        outbox: Outbox,
        publisher: EventPublisher,
        queue: TaskQueue,
        clock: Clock,
        *,
        mark_window: float = 0.0,
        tasks_committed: bool = False,
    ) -> None:
        self._outbox = outbox
        self._publisher = publisher
        self._queue = queue
        self._clock = clock
        self._mark_window = mark_window
        self._tasks_committed = tasks_committed
        self._unmarked: list[UUID] = []
        self._marking: asyncio.Task[None] | None = None
        self._relaying: set[UUID] = set()  # events this process's commits are relaying right now
        self.failures = 0

    async def relay(self, events: Sequence[DomainEvent]) -> None:
        """Publish, enqueue follow-ups, then mark published (raises on failure)."""
        if not events:
            return
        ids = [e.event_id for e in events]
        self._relaying.update(ids)
        try:
            await self._deliver(events)
        finally:
            self._relaying.difference_update(ids)
        if self._mark_window <= 0:
            await self._outbox.mark_published(ids)
            return
        self._unmarked.extend(ids)
        if self._marking is None or self._marking.done():
            self._marking = asyncio.get_running_loop().create_task(self._mark_later())

    async def _deliver(self, events: Sequence[DomainEvent]) -> None:
        """Publish the events and enqueue their follow-up tasks (raises on failure)."""
        # A big unit (a retroactive apply over 100,000 transactions commits 200,000 events) is
        # published in slices, handing the event loop back between them: in one go it would
        # hold every other request of the process for seconds.
        for start in range(0, len(events), PUBLISH_SLICE):
            if start:
                await asyncio.sleep(0)
            await self._publisher.publish(events[start : start + PUBLISH_SLICE])
        if self._tasks_committed:
            return
        async for event in cooperatively(events):
            for task in follow_up_tasks(event):
                await self._queue.enqueue(task)

    async def _mark_later(self) -> None:
        await asyncio.sleep(self._mark_window)
        await self.flush()

    async def flush(self) -> None:
        """Mark what is waiting as published now (shutdown; never raises)."""
        ids, self._unmarked = self._unmarked, []
        if not ids:
            return
        try:
            await self._outbox.mark_published(ids)
        except Exception:
            self.failures += 1  # they stay unpublished: the sweeper publishes them again

    async def after_commit(self, uow: UnitOfWork) -> None:
        """The post-commit hook: relay now, or leave it to the sweeper (never raises)."""
        try:
            await self.relay(uow.committed_events)
        except Exception:
            self.failures += 1

    async def sweep(self, grace: timedelta = timedelta(seconds=5), limit: int = 500) -> int:
        """Relay events left unpublished for longer than ``grace``; returns how many.

        The events are claimed (:meth:`Outbox.claim`) while they are relayed and marked published
        with the claim: every API and worker process sweeps, and no two relay one event at once.
        Events this process is relaying after their commit, or has published and not yet marked,
        are left alone: a unit that ran longer than ``grace`` (a retroactive apply) would
        otherwise be published twice from the same process.
        """
        unmarked = set(self._unmarked)

        def idle(event: DomainEvent) -> bool:
            return event.event_id not in self._relaying and event.event_id not in unmarked

        async with self._outbox.claim(self._clock.now() - grace, limit, idle) as events:
            await self._deliver(events)
        return len(events)

    async def sweep_until(self, stop: asyncio.Event, every: float = 2.0, limit: int = 500) -> None:
        """Sweep every ``every`` seconds until ``stop`` is set; a full claim is followed by the
        next at once (a backlog drains without waiting); errors wait for the next round."""
        while not stop.is_set():
            try:
                if await self.sweep(limit=limit) >= limit:
                    await asyncio.sleep(0)  # a backlog drains at once, but the loop's other work goes on
                    continue
            except Exception:
                self.failures += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
