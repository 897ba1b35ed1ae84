"""PostgreSQL stopped under a serving API: answers are fast, honest 503s, and it recovers alone.

A dedicated embedded server (not the session's) is stopped and started again (``pg_ctl``)
while the API runs on real uvicorn; nothing is restarted on the API's side.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from valorize_adapters.postgres import EmbeddedPostgres, migrate
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings
from valorize_entrypoints.testing import countable_task, serving
from valorize_entrypoints.worker import SECRET_HEADER, create_worker_app


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    """A server of the test's own (not the session's), which it stops and starts again."""
    server = EmbeddedPostgres(tmp_path / "pg", delete_on_stop=True)
    asyncio.run(migrate(server.start()))
    try:
        yield server
    finally:
        server.stop()


def timed(call: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def assert_unavailable(response: httpx.Response, elapsed: float, within: float) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) >= 1
    assert elapsed < within, f"answered after {elapsed:.1f} s"


def test_a_stopped_database_answers_503_fast_and_recovers_without_a_restart(postgres: EmbeddedPostgres) -> None:
    settings = Settings(
        backend="postgres", database_url=postgres.url, db_pool_max=4, run_migrations=False, worker_secret="s3cret"
    )
    container, worker_container = Container(), Container()
    container.settings.override(settings)
    worker_container.settings.override(settings)
    with (
        serving(create_app(container)) as base,
        serving(create_worker_app(worker_container)) as worker,
        httpx.Client(base_url=base, timeout=10) as http,
    ):
        signed_up = http.post("/api/signup", json={"tenant_name": "Casa", "email": "ana@example.com", "name": "Ana"})
        assert signed_up.status_code == 201, signed_up.text
        http.headers["Authorization"] = f"Bearer {signed_up.json()['token']}"
        account = {"name": "Checking", "kind": "checking", "currency": "BRL", "opening_balance": "10.00"}
        created = http.post("/api/accounts", json=account)
        assert created.status_code == 201, created.text
        entry = {
            "account_id": created.json()["id"],
            "booked_on": "2026-12-01",
            "description": "Bread",
            "amount": "-5.00",
        }
        assert http.post("/api/transactions", json=entry).status_code == 201

        postgres.interrupt()
        for _ in range(2):  # the first calls meet the pool's dead connections, the next ones an empty pool
            assert_unavailable(*timed(lambda: http.get("/api/accounts")), within=3.5)
            assert_unavailable(*timed(lambda: http.post("/api/transactions", json=entry)), within=3.5)
            assert_unavailable(*timed(lambda: http.post("/api/accounts", json={**account, "name": "Savings"})), 3.5)
        # The worker asks Cloud Tasks (or the local dispatcher) to retry, and says when: an outage
        # is no reason to dead-letter a task.
        tenant_id = uuid.UUID(signed_up.json()["tenant_id"])
        valid = countable_task(tenant_id)
        for payload in (valid.payload, {"event": "not an event"}):
            # a valid task, and a rejected one whose dead letter cannot be recorded
            headers = {SECRET_HEADER: "s3cret", "x-cloudtasks-taskname": uuid.uuid4().hex}
            body = {"tenant_id": str(tenant_id), "payload": payload}
            started = time.monotonic()
            retried = httpx.post(f"{worker}/tasks/notify", json=body, headers=headers)
            elapsed = time.monotonic() - started
            assert retried.status_code == 503, retried.text
            assert int(retried.headers["retry-after"]) >= 1
            assert elapsed < 3.5
        # A probe carries no token: nothing but the probe itself waits for the database.
        # (its bound is 0.8 s; 1.5 s leaves room for a loaded machine)
        assert_unavailable(*timed(lambda: httpx.get(f"{base}/ready", timeout=10)), within=1.5)

        postgres.resume()
        restarted = time.monotonic()
        while (listed := http.get("/api/accounts")).status_code != 200:
            assert listed.status_code == 503, listed.text
            assert time.monotonic() - restarted < 6, "not recovered within 6 s of the restart"
            time.sleep(0.2)
        assert http.post("/api/transactions", json=entry).status_code == 201
        assert httpx.get(f"{base}/ready", timeout=10).status_code == 200
        # Nothing was half written: the outage's writes are not there.
        assert [a["name"] for a in http.get("/api/accounts").json()] == ["Checking"]
