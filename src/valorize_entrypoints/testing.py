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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import httpx
import uvicorn

from valorize_core.model.events import BudgetThresholdCrossed
from valorize_core.ports.task_queue import Task
from valorize_core.testing.net import free_port

__all__ = [
    "DevServer",
    "Readiness",
    "RoleProcess",
    "ServerProcess",
    "answers",
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


def answers(
    proc: subprocess.Popen[Any], url: str, seconds: float, *, method: str = "GET", any_status: bool = False
) -> bool:
    """Poll ``url`` until it answers 200 (any status with ``any_status``): ``True`` then, ``False``
    once ``proc`` exits or ``seconds`` pass first. The one readiness poll of the servers tests and
    benchmarks start in a process (:class:`ServerProcess`, perf/bench_servers.py)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.request(method, url, timeout=2).status_code == 200 or any_status:
                return True
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.2)


@dataclass(frozen=True)
class Readiness:
    """What tells that a started server is ready: ``method path`` answers 200, or answers at all
    with ``any_status``."""

    path: str = "/health"
    method: str = "GET"
    any_status: bool = False


class ServerProcess:
    """A server in a process (and process group) of its own on ``port``, one a test may stop,
    SIGKILL and start again on the same port. Its output is appended to ``log`` across restarts
    (discarded without one). ``start`` returns once ``ready`` holds; ``stop`` sends
    ``stop_signal`` (SIGTERM; SIGINT is a person's Ctrl-C), SIGKILLs it after ``stop_seconds``
    and then whatever of its group is left."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        port: int,
        env: dict[str, str],
        log: Path | None = None,
        *,
        ready: Readiness = Readiness(),
        startup_seconds: float = 60,
        stop_signal: signal.Signals = signal.SIGTERM,
        stop_seconds: float = 20,
    ) -> None:
        self.name, self.command, self.port, self.env, self.log = name, list(command), port, env, log
        self.ready, self.startup_seconds = ready, startup_seconds
        self.stop_signal, self.stop_seconds = stop_signal, stop_seconds
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def output(self) -> str:
        """What it printed so far, across restarts (stdout and stderr; empty without a log)."""
        return self.log.read_text() if self.log is not None and self.log.exists() else ""

    def start(self, startup_seconds: float | None = None) -> Self:
        """Start the process and return once it is ready; stop it and raise ``RuntimeError`` (with
        the end of its output) if it exits first or does not get ready in time."""
        seconds = self.startup_seconds if startup_seconds is None else startup_seconds
        with contextlib.ExitStack() as files:
            out = subprocess.DEVNULL if self.log is None else files.enter_context(self.log.open("ab"))
            self.proc = subprocess.Popen(
                self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        ready = self.ready
        if not answers(self.proc, self.url + ready.path, seconds, method=ready.method, any_status=ready.any_status):
            code = self.proc.poll()
            self.stop()
            why = f"exited with {code}" if code is not None else f"not ready within {seconds:g} s"
            raise RuntimeError(f"{self.name} did not start ({why}):\n{self.output[-4000:]}")
        return self

    def kill(self) -> None:
        """SIGKILL the process and its children (its whole process group, as a container's death
        would) and reap it."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None

    def stop(self) -> None:
        """Ask the process to stop (``stop_signal``), SIGKILL it after ``stop_seconds``, and kill
        whatever of its group is left."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.send_signal(self.stop_signal)
        try:
            proc.wait(self.stop_seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RoleProcess(ServerProcess):
    """``valorize <role>`` as production starts it (``api``, ``worker``, ``realtime``; ``dev`` as a
    person does), on loopback at ``port`` with ``workers`` processes (``api`` and ``worker``) and
    ``args`` after the rest; ready once ``/health`` answers 200 unless told otherwise."""

    def __init__(
        self,
        role: str,
        port: int,
        env: dict[str, str],
        log: Path,
        *,
        workers: int = 1,
        args: Sequence[str] = (),
        ready: Readiness = Readiness(),
        startup_seconds: float = 60,
        stop_signal: signal.Signals = signal.SIGTERM,
        stop_seconds: float = 20,
    ) -> None:
        command = [str(Path(sys.executable).with_name("valorize")), role, "--host", "127.0.0.1", "--port", str(port)]
        if role in ("api", "worker"):
            command += ["--workers", str(workers)]
        super().__init__(
            f"valorize {role}", [*command, *args], port, env, log, ready=ready, startup_seconds=startup_seconds,
            stop_signal=stop_signal, stop_seconds=stop_seconds,
        )  # fmt: skip
        self.role, self.workers = role, workers


@dataclass(frozen=True)
class DevServer:
    """A running ``valorize dev``: where it answers, the demo token it printed, and its output."""

    base: str
    realtime_port: int
    token: str
    log: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes]

    @property
    def output(self) -> str:
        """What it printed so far (stdout and stderr)."""
        return self.log.read_text()


@contextmanager
def dev_serving(home: Path, *, memory: bool = False, startup_seconds: float = 90) -> Iterator[DevServer]:
    """``valorize dev`` (``--memory`` when asked) as a person starts it, its data under ``home``,
    until the block ends; yields once ``/ready`` answers 200. The block's end is a Ctrl-C
    (SIGINT), as a person stops it; ``proc.returncode`` then tells whether it stopped cleanly."""
    ws_port = free_port()
    env = {**os.environ, "XDG_DATA_HOME": str(home / "data"), "PYTHONWARNINGS": "ignore"}
    args = [*(["--memory"] if memory else []), "--realtime-port", str(ws_port)]
    log = home / "dev.log"
    dev = RoleProcess(
        "dev", free_port(), env, log, args=args, ready=Readiness("/ready"),
        startup_seconds=startup_seconds, stop_signal=signal.SIGINT, stop_seconds=30,
    )  # fmt: skip
    with dev:
        assert dev.proc is not None
        demo = re.search(r"Demo token: (vz_\S+)", dev.output)
        if demo is None:
            raise RuntimeError(f"valorize dev printed no demo token:\n{dev.output[-4000:]}")
        yield DevServer(dev.url, ws_port, demo.group(1), log, env, dev.proc)


def start_worker_process(
    port: int, database_url: str, secret: str, *, cpu: int | None = None, startup_seconds: float = 30
) -> ServerProcess:
    """The worker app in its own uvicorn process (one a test can SIGKILL and start again), pinned
    to ``cpu`` with ``taskset`` when given; returns once it answers on ``/tasks`` (any status: the
    ping is not signed)."""
    env = {**os.environ, "VALORIZE_DATABASE_URL": database_url, "VALORIZE_WORKER_SECRET": secret,
           "VALORIZE_RUN_MIGRATIONS": "false", "VALORIZE_LOG_JSON": "false", "PYTHONWARNINGS": "ignore"}  # fmt: skip
    pin = [] if cpu is None else ["taskset", "-c", str(cpu)]
    uvicorn_bin = Path(sys.executable).with_name("uvicorn")
    command = [*pin, str(uvicorn_bin), "--factory", "valorize_entrypoints.worker:worker_app", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "error", "--loop", "uvloop", "--http", "httptools"]  # fmt: skip
    worker = ServerProcess(
        "the worker", command, port, env, ready=Readiness("/tasks/ping", "POST", any_status=True),
        startup_seconds=startup_seconds,
    )  # fmt: skip
    return worker.start()


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
