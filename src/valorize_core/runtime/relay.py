"""The outbox relay: committed events reach subscribers and become background tasks.

Right after a commit the unit's events are published (low latency) and their follow-up tasks
enqueued; the events are then marked published. If that fails — the process dies between
commit and publish, or Redis is away — the events stay unpublished in the outbox, and
:meth:`OutboxRelay.sweep` publishes them later. Nothing committed is lost; an event may be
published twice, which consumers tolerate: they deduplicate by event id, and follow-up tasks
have ids derived from the ids of the events they serve, so the queue drops the second enqueue of
the same events. A sweep may group a commit's events differently (part of a commit, or several
commits of a tenant and request in one claim): the tasks then get other ids and run again, which
their handlers tolerate — a fan-out stores each delivery once per endpoint and event, a budget
evaluation announces each threshold once per budget and period.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from valorize_core.model.events import (
    BudgetSet,
    DomainEvent,
    ImportRequested,
    JobRequested,
    TransactionCreated,
    TransactionDeleted,
    TransactionsImported,
    TransactionUpdated,
    WebhookDeliveryRequested,
)
from valorize_core.model.follow_ups import Precondition
from valorize_core.model.notifications import notification_for
from valorize_core.model.webhooks import WEBHOOK_EVENTS
from valorize_core.ports.clock import Clock
from valorize_core.ports.event_publisher import EventPublisher
from valorize_core.ports.outbox import Outbox
from valorize_core.ports.task_queue import Task, TaskQueue
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.runtime.tasks import task_id_for

__all__ = ["FAN_OUT_BYTES", "FAN_OUT_SLICE", "PUBLISH_SLICE", "OutboxRelay", "follow_up_tasks", "follow_ups"]

PUBLISH_SLICE = 500  # events per call to the publisher
FAN_OUT_SLICE = 64  # events per fan_out_webhooks task, at most
# The JSON text of the records a fan_out_webhooks task carries, at most (one event more than
# that still gets a task of its own): with its envelope a task body stays under Cloud Tasks'
# 100 KB (``cloudtasks.MAX_BODY``). Count alone did not: 64 events with 1,000-character accented
# descriptions (six bytes a character in JSON) made 125 KB, which the queue refused at every sweep.
FAN_OUT_BYTES = 64_000


def _task(name: str, event: DomainEvent, key: str, payload: dict[str, Any]) -> Task:
    """A follow-up task whose id derives from what caused it (one task per cause)."""
    task_id = task_id_for(name, event.tenant_id, key)
    return Task(task_id, name, event.tenant_id, payload, correlation_id=event.correlation_id)


def _key(events: Sequence[DomainEvent]) -> str:
    """The cause of a task that serves several events: a digest of their ids, in order (one
    event: its id alone, as when every event had its own task)."""
    if len(events) == 1:
        return str(events[0].event_id)
    digest = hashlib.sha256()
    for event in events:
        digest.update(event.event_id.bytes)
    return digest.hexdigest()


def _budget_day(event: DomainEvent) -> str | None:
    """The day whose budgets an event may change (``None``: it changes none)."""
    if isinstance(event, TransactionCreated):
        return event.booked_on
    if isinstance(event, BudgetSet):
        return event.day
    if isinstance(event, (TransactionUpdated, TransactionDeleted, TransactionsImported)):
        return event.occurred_at.date().isoformat()
    return None


def _own_tasks(event: DomainEvent) -> list[Task]:
    """The follow-ups that are the event's alone (one per event)."""
    tasks: list[Task] = []
    if isinstance(event, ImportRequested):
        tasks.append(_task("import_statement", event, event.import_id, {"import_id": event.import_id}))
    elif isinstance(event, JobRequested):
        tasks.append(_task(event.kind, event, event.job_id, {"job_id": event.job_id}))
    elif isinstance(event, WebhookDeliveryRequested):
        key = f"{event.delivery_id}:{event.round}:{event.attempt}"
        task = _task("deliver_webhook", event, key,
                     {"delivery_id": event.delivery_id, "attempt": event.attempt, "round": event.round})  # fmt: skip
        due = datetime.fromisoformat(event.not_before) if event.not_before else None
        tasks.append(replace(task, not_before=due))
    if notification_for(event) is not None:
        tasks.append(_task("notify", event, str(event.event_id), {"event": event.to_record()}))
    return tasks


Wanted = Callable[[Precondition], bool]


def _always(precondition: Precondition) -> bool:
    return True


def _shared_tasks(events: Sequence[DomainEvent], wanted: Wanted = _always) -> list[Task]:
    """The follow-ups one commit's events (of one tenant and request) share: one budget
    evaluation per day, and their webhook events fanned out together (in order, at most
    :data:`FAN_OUT_SLICE` a task), each written only where it can do something. A task whose
    precondition is not ``wanted`` is not made (nor its payload)."""
    days: dict[str, list[DomainEvent]] = {}
    hooked: list[DomainEvent] = []
    for event in events:
        day = _budget_day(event)
        if day is not None:
            days.setdefault(day, []).append(event)
        if event.name in WEBHOOK_EVENTS:
            hooked.append(event)
    budget = Precondition.budget()
    tasks = [
        replace(_task("evaluate_budgets", causes[0], _key(causes), {"day": day}), precondition=budget)
        for day, causes in days.items()
        if wanted(budget)
    ]
    if not hooked or not wanted(Precondition.endpoint_for(e.name for e in hooked)):
        return tasks  # no endpoint wants any of them: no chunk would be written
    for chunk in _fan_out_chunks(hooked):
        precondition = Precondition.endpoint_for(e.name for e in chunk)
        if wanted(precondition):
            task = _task("fan_out_webhooks", chunk[0], _key(chunk), {"events": [e.to_record() for e in chunk]})
            tasks.append(replace(task, precondition=precondition))
    return tasks


def _fan_out_chunks(events: Sequence[DomainEvent]) -> list[Sequence[DomainEvent]]:
    """The events in order, in runs of at most :data:`FAN_OUT_SLICE` events and
    :data:`FAN_OUT_BYTES` of JSON text (each event's text is made once and kept)."""
    chunks: list[Sequence[DomainEvent]] = []
    start, size = 0, 0
    for at, event in enumerate(events):
        length = len(event.to_json())
        if at > start and (at - start == FAN_OUT_SLICE or size + length > FAN_OUT_BYTES):
            chunks.append(events[start:at])
            start, size = at, 0
        size += length
    if start < len(events):
        chunks.append(events[start:])
    return chunks


def follow_ups(events: Sequence[DomainEvent], wanted: Wanted = _always) -> list[Task]:
    """The background work a commit's events ask for. Each event's own tasks (an import, a job,
    a notification, a delivery attempt) come one per event; the events of one tenant and request
    share one ``evaluate_budgets`` per day and one ``fan_out_webhooks``. Ids are deterministic,
    from the events served: the same events give the same tasks, which the queue dedupes.

    ``wanted``: a queue that knows the tenant's data when it asks (the memory unit, in its
    commit) skips the shared tasks whose precondition does not hold before making them: a
    retroactive apply's 100,000 events then cost no fan-out payloads the commit would drop."""
    tasks: list[Task] = []
    groups: dict[tuple[UUID, str | None], list[DomainEvent]] = {}
    for event in events:
        tasks.extend(_own_tasks(event))
        groups.setdefault((event.tenant_id, event.correlation_id), []).append(event)
    for group in groups.values():
        tasks.extend(_shared_tasks(group, wanted))
    return tasks


def follow_up_tasks(event: DomainEvent) -> list[Task]:
    """The background work one event asks for on its own (:func:`follow_ups` of one commit
    that recorded only it)."""
    return follow_ups([event])


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
        # A commit's events share their follow-ups (:func:`follow_ups`); a big unit's are made a
        # slice at a time, handing the event loop back between slices. This queue cannot check
        # preconditions: it gets every task, and a handler with nothing to do does nothing.
        for start in range(0, len(events), PUBLISH_SLICE):
            if start:
                await asyncio.sleep(0)
            for task in follow_ups(events[start : start + PUBLISH_SLICE]):
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
