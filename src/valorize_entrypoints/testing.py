"""Servers for tests and benchmarks: the app under a real uvicorn, in a thread or a process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from valorize_core.model.events import BudgetThresholdCrossed
from valorize_core.ports.task_queue import Task
from valorize_core.testing.net import free_port

__all__ = ["countable_effects", "countable_task", "realtime_serving", "serving", "start_worker_process"]


@contextmanager
def serving(app: Callable[..., Any], *, startup_seconds: float = 30) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL once it accepts requests."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_seconds
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


@contextmanager
def realtime_serving(settings: Any, *, startup_seconds: float = 30) -> Iterator[int]:
    """``valorize realtime`` with ``settings`` in a thread of its own until the block ends;
    yields its port (``realtime_port=0`` picks a free one)."""
    import asyncio

    from valorize_entrypoints.realtime import serve_realtime

    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    bound: list[int] = []
    started = threading.Event()

    def ready(port: int) -> None:
        bound.append(port)
        started.set()

    def main() -> None:
        async def go() -> None:
            await serve_realtime(settings, stop=stop, ready=ready)

        loop.run_until_complete(go())
        loop.close()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    if not started.wait(startup_seconds):
        raise RuntimeError("the realtime server did not start")
    try:
        yield bound[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(20)


def start_worker_process(
    port: int, database_url: str, secret: str, *, cpu: int | None = None, startup_seconds: float = 30
) -> subprocess.Popen[bytes]:
    """The worker app in its own uvicorn process (one a test can SIGKILL), pinned to ``cpu``
    with ``taskset`` when given; returns once it answers on ``/tasks``."""
    env = {**os.environ, "VALORIZE_DATABASE_URL": database_url, "VALORIZE_WORKER_SECRET": secret,
           "VALORIZE_RUN_MIGRATIONS": "false", "VALORIZE_LOG_JSON": "false", "PYTHONWARNINGS": "ignore"}  # fmt: skip
    pin = [] if cpu is None else ["taskset", "-c", str(cpu)]
    uvicorn_bin = Path(sys.executable).with_name("uvicorn")
    proc = subprocess.Popen(
        [*pin, str(uvicorn_bin), "--factory", "valorize_entrypoints.worker:worker_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "error", "--loop", "uvloop", "--http", "httptools"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + startup_seconds
    while True:
        try:
            httpx.post(f"http://127.0.0.1:{port}/tasks/ping", timeout=1)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None:
                raise RuntimeError("the worker died at start") from None
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("the worker did not start") from None
            time.sleep(0.1)


def countable_task(tenant_id: uuid.UUID) -> Task:
    """A task with one countable effect: a ``notify`` for a fresh budget event, which stores one
    notification and records one ``notification.created`` (the drain benchmark and the SIGKILL
    test count them: lost = tasks - distinct ids, duplicated = events - distinct ids)."""
    event = BudgetThresholdCrossed(
        event_id=uuid.uuid4(), tenant_id=tenant_id, occurred_at=datetime.now(UTC), budget_id=str(uuid.uuid4()),
        category_id=str(uuid.uuid4()), period_start="2026-03-01", threshold=80, spent_minor=800,
        available_minor=1000, currency="BRL",
    )  # fmt: skip
    return Task(uuid.uuid4(), "notify", tenant_id, {"event": event.to_record()})


async def countable_effects(pool: Any, tenant_id: uuid.UUID) -> tuple[int, int]:
    """``(events, distinct notifications)`` that :func:`countable_task` tasks produced."""
    from valorize_adapters.postgres.session import Session

    async with pool.connection() as conn:
        s = Session(conn, tenant_id)
        rows = await s.fetch(
            "SELECT count(*) AS events, count(DISTINCT payload->>'notification_id') AS distinct_ids FROM outbox"
            " WHERE tenant_id = %s AND name = 'notification.created'",
            (tenant_id,),
        )
        await s.rollback()
    return int(rows[0]["events"]), int(rows[0]["distinct_ids"])
