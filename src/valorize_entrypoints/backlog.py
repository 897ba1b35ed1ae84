"""The backlog SLIs on ``/metrics``, sampled by the worker role every :data:`SAMPLE_EVERY`
seconds: the local task queue's depth and its oldest task's age, dead letters, and the outbox
lag (events committed but not published, and the oldest one's age). With Cloud Tasks the queue's
depth and age are Cloud Monitoring's (``cloudtasks.googleapis.com/queue/depth``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from prometheus_client import Gauge

from valorize_adapters.postgres.backlog import PgBacklog

__all__ = ["GAUGES", "SAMPLE_EVERY", "sample_once", "sampling"]

log = logging.getLogger("valorize.jobs")

SAMPLE_EVERY = 15.0

# With several worker processes the most recent reading wins (they all read the same tables).
GAUGES = {
    "queued_tasks": Gauge("valorize_task_queue_depth", "Tasks waiting in the local queue",
                          multiprocess_mode="mostrecent"),
    "oldest_task_seconds": Gauge("valorize_task_queue_oldest_seconds", "Age of the oldest queued task",
                                 multiprocess_mode="mostrecent"),
    "dead_letters": Gauge("valorize_dead_letters", "Dead letters kept", multiprocess_mode="mostrecent"),
    "unpublished_events": Gauge("valorize_outbox_unpublished", "Events committed, not yet published",
                                multiprocess_mode="mostrecent"),
    "oldest_unpublished_seconds": Gauge("valorize_outbox_lag_seconds", "Age of the oldest unpublished event",
                                        multiprocess_mode="mostrecent"),
}  # fmt: skip


async def sample_once(backlog: PgBacklog) -> None:
    """Read the backlog and set the gauges."""
    reading = await backlog.read()
    for name, gauge in GAUGES.items():
        gauge.set(getattr(reading, name))


def sampling(backlog: PgBacklog, every: float = SAMPLE_EVERY) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
    """The job: a reading at start and every ``every`` seconds until stopped (a failed reading,
    the database away, is logged at debug level and tried again)."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await sample_once(backlog)
            except Exception:
                log.debug("backlog reading failed", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)

    return run
