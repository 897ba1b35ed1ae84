"""Each role runs the jobs it needs, and only those: the version feed where cached reads are
served, the backplane heartbeat wherever a realtime server runs with Redis."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import redis

from valorize_entrypoints.container import Container, serving
from valorize_entrypoints.roles import ROLE_JOBS, Job, JobKind, Role, running
from valorize_entrypoints.settings import Settings
from valorize_entrypoints.testing import dev_serving


def _subscribers(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return int(dict(client.pubsub_numsub("vz:versions"))[b"vz:versions"])
    finally:
        client.close()


@pytest.mark.parametrize(("role", "feeds"), [(Role.API, True), (Role.WORKER, False), (Role.DEV, True)])
def test_only_roles_that_serve_cached_reads_keep_a_near_cache_and_its_feed(
    role: Role, feeds: bool, redis_server: Any
) -> None:
    container = Container()
    container.settings.override(replace(Settings(), backend="memory", redis_url=redis_server.url, log_json=False))
    container.role.override(role)
    app = SimpleNamespace(state=SimpleNamespace())

    async def go() -> tuple[bool, int]:
        async with serving(container)(app):
            for _ in range(50):  # the feed subscribes in the background
                if _subscribers(redis_server.url):
                    break
                await asyncio.sleep(0.05)
            return app.state.runtime.near is not None, _subscribers(redis_server.url)

    has_near, subscribers = asyncio.run(go())
    assert (has_near, subscribers) == (feeds, int(feeds))
    assert (JobKind.VERSION_FEED in ROLE_JOBS[role]) is feeds


@pytest.mark.slow
def test_dev_with_redis_keeps_its_realtime_presence_alive(
    redis_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Other instances count a presence member only while its instance's heartbeat lives."""
    monkeypatch.setenv("VALORIZE_REDIS_URL", redis_server.url)  # dev_serving passes on the environment
    client = redis.Redis.from_url(redis_server.url)
    try:
        with dev_serving(tmp_path, memory=True) as dev:
            deadline = time.monotonic() + 30
            while not client.keys("vz:rt:alive:*"):
                assert dev.proc.poll() is None, dev.output
                assert time.monotonic() < deadline, "no heartbeat: " + dev.output
                time.sleep(0.2)
    finally:
        client.close()


def test_a_job_that_fails_is_logged_when_it_fails_not_at_the_stop(caplog: pytest.LogCaptureFixture) -> None:
    """A role's job that ends with an error leaves the process up and healthy: it is said at
    once (a dispatcher that ended so left every task queued, and nothing was logged until the
    process stopped)."""

    async def breaks(stop: asyncio.Event) -> None:
        raise RuntimeError("broken job")

    async def go() -> list[str]:
        async with running([Job(JobKind.DISPATCHER, breaks)]):
            await asyncio.sleep(0.05)
            return [r.getMessage() for r in caplog.records if r.name == "valorize.jobs"]

    with caplog.at_level("ERROR", logger="valorize.jobs"):
        while_running = asyncio.run(go())
    assert while_running == ["a job failed"]
    assert [r.getMessage() for r in caplog.records if r.name == "valorize.jobs"] == ["a job failed"]  # once
