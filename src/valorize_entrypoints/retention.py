"""The retention job of the worker role: prune what the ``VALORIZE_RETAIN_*`` horizons no longer
keep, every ``VALORIZE_RETENTION_INTERVAL`` seconds (see ``valorize_adapters/postgres/retention.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from prometheus_client import Counter, Gauge

from valorize_adapters.postgres.retention import Horizons, PgRetention
from valorize_entrypoints.settings import Settings

__all__ = ["horizons_of", "prune_once", "pruning"]

log = logging.getLogger("valorize.jobs")

DELETED = Counter("valorize_retention_deleted", "Rows pruned by the retention job", ("table",))
LAST_RUN = Gauge("valorize_retention_last_run_timestamp_seconds", "When a pruning round last finished",
                 multiprocess_mode="max")  # fmt: skip


def horizons_of(settings: Settings) -> Horizons:
    """The horizons ``VALORIZE_RETAIN_*`` configure."""
    return Horizons(
        published_events=timedelta(hours=settings.retain_events_hours),
        processed_tasks=timedelta(hours=settings.retain_task_ids_hours),
        finished_jobs=timedelta(hours=settings.retain_jobs_hours),
        dead_letters=timedelta(hours=settings.retain_dead_letters_hours),
    )


async def prune_once(retention: PgRetention, settings: Settings) -> dict[str, int] | None:
    """One round: the rows deleted per table (``None``: another process holds the round)."""
    deleted = await retention.prune(horizons_of(settings))
    if deleted is not None:
        for table, count in deleted.items():
            DELETED.labels(table).inc(count)
        LAST_RUN.set_to_current_time()
        if any(deleted.values()):
            log.info("pruned", extra={"fields": {"deleted": deleted}})
    return deleted


def pruning(retention: PgRetention, settings: Settings) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
    """The job: a round at start, then one every ``retention_interval`` seconds, until stopped.
    A failed round (the database away) is logged and tried again at the next interval."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await prune_once(retention, settings)
            except Exception:
                log.exception("a pruning round failed; the next one tries again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.retention_interval)

    return run
