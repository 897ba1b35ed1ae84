"""Servers for tests and benchmarks: the app under a real uvicorn, in a thread or a process."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from valorize_core.model.events import BudgetThresholdCrossed
from valorize_core.ports.task_queue import Task
from valorize_core.testing.net import free_port

__all__ = [
    "DevServer",
    "RoleProcess",
    "countable_effects",
    "countable_task",
    "dev_serving",
    "realtime_serving",
    "serving",
    "start_worker_process",
]


@contextmanager
def serving(app: Callable[..., Any], *, startup_seconds: float = 30) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL once it accepts requests."""
    port = free_port()
    # The server keeps an idle connection longer than clients do (httpx: 5 s, uvicorn's default
    # too): with equal timeouts a client could reuse a connection the server was closing (a
    # ReadError on a request that was never read).
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", timeout_keep_alive=75)
    server = uvicorn.Server(config)
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


@dataclass(frozen=True)
class DevServer:
    """A running ``valorize dev``: where it answers, the demo token it printed, and its output."""

    base: str
    realtime_port: int
    token: str
    log: Path
    env: dict[str, str]
    proc: subprocess.Popen[str]

    @property
    def output(self) -> str:
        """What it printed so far (stdout and stderr)."""
        return self.log.read_text()


@contextmanager
def dev_serving(home: Path, *, memory: bool = False, startup_seconds: float = 90) -> Iterator[DevServer]:
    """``valorize dev`` (``--memory`` when asked) as a person starts it, its data under ``home``,
    until the block ends; yields once ``/ready`` answers 200. The block's end is a Ctrl-C
    (SIGINT), as a person stops it; ``proc.returncode`` then tells whether it stopped cleanly."""
    port, ws_port = free_port(), free_port()
    env = {**os.environ, "XDG_DATA_HOME": str(home / "data"), "PYTHONWARNINGS": "ignore"}
    command = [str(Path(sys.executable).with_name("valorize")), "dev", *(["--memory"] if memory else []),
               "--port", str(port), "--realtime-port", str(ws_port)]  # fmt: skip
    log_path = home / "dev.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"valorize dev did not start:\n{log_path.read_text()[-4000:]}")
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        demo = re.search(r"Demo token: (vz_\S+)", log_path.read_text())
        if demo is None:
            raise RuntimeError(f"valorize dev printed no demo token:\n{log_path.read_text()[-4000:]}")
        yield DevServer(base, ws_port, demo.group(1), log_path, env, proc)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


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


class RoleProcess:
    """``valorize <role>`` as production starts it (``api``, ``worker``, ``realtime``), in a process
    of its own that a test may stop, SIGKILL and start again on the same port. Its output is
    appended to ``log`` across restarts."""

    def __init__(self, role: str, port: int, env: dict[str, str], log: Path, *, workers: int = 1) -> None:
        self.role, self.port, self.env, self.log, self.workers = role, port, env, log, workers
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, startup_seconds: float = 60) -> RoleProcess:
        """Start the process and return once its ``/health`` answers 200."""
        command = [str(Path(sys.executable).with_name("valorize")), self.role, "--host", "127.0.0.1",
                   "--port", str(self.port)]  # fmt: skip
        if self.role != "realtime":
            command += ["--workers", str(self.workers)]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                command, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + startup_seconds
        while True:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"valorize {self.role} did not start:\n{self.log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL the process and its granian workers (its whole process group, as a container's
        death would) and reap it."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None

    def stop(self) -> None:
        """Ask the process to stop (SIGTERM), SIGKILL it after 20 s, and kill whatever of its
        group is left."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    def __enter__(self) -> RoleProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


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
