"""The schedule tick: one ``post_schedules`` task per tenant with an occurrence due (and one a
day for every tenant with a schedule).

Run every few minutes by the worker role's scheduler job (embedded and local-queue runs) or by
Cloud Scheduler calling the worker's ``POST /schedules/tick`` (Cloud Tasks deployments). The
task id is derived from the tenant, the day and the tick's slot, so every process ticking in
the same slot asks for the same task (the queue keeps one); posting itself is exactly once per
schedule and date (:class:`~valorize_core.use_cases.actions.post_schedules.PostSchedules`),
whatever the number of tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from valorize_core.ports.clock import Clock
from valorize_core.ports.schedules import ScheduleDirectory
from valorize_core.ports.task_queue import Task, TaskQueue
from valorize_core.runtime.tasks import task_id_for

__all__ = ["DEFAULT_TICK_SECONDS", "run_ticks", "tick"]

log = logging.getLogger("valorize.schedules")

DEFAULT_TICK_SECONDS = 300


def _slot(now: datetime, every: int) -> str:
    return f"{now.date().isoformat()}:{int(now.timestamp()) // max(every, 1)}"


async def tick(directory: ScheduleDirectory, queue: TaskQueue, clock: Clock, every: int = DEFAULT_TICK_SECONDS) -> int:
    """Enqueue the posting tasks for today: one per slot for a tenant with an occurrence due,
    one per day for any other tenant with a schedule (its subscriptions are watched and its
    projections checked daily). Returns how many tenants had something due."""
    now = clock.now()
    day, slot = now.date(), _slot(now, every)
    due = await directory.tenants_due(day)
    keys = dict.fromkeys(due, slot)
    for tenant_id in await directory.tenants_scheduled():
        keys.setdefault(tenant_id, day.isoformat())
    for tenant_id, key in sorted(keys.items()):
        task_id = task_id_for("post_schedules", tenant_id, key)
        await queue.enqueue(Task(task_id, "post_schedules", tenant_id, {"day": day.isoformat()}))
    return len(due)


async def run_ticks(
    directory: ScheduleDirectory, queue: TaskQueue, clock: Clock, stop: asyncio.Event, every: int
) -> None:
    """Tick at once and then every ``every`` seconds until ``stop`` is set; a failed tick (the
    database away) is logged and tried again at the next one."""
    while not stop.is_set():
        try:
            await tick(directory, queue, clock, every)
        except Exception:
            log.exception("schedule tick failed; trying again at the next one")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
