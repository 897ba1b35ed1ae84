"""One write's trace across the production roles, each a process of its own (``valorize api``,
``valorize worker``, ``valorize realtime`` on real PostgreSQL and Redis), each exporting its spans
to one JSON-lines file (``VALORIZE_TRACING=file:PATH``): the HTTP request, its use case, its SQL,
the outbox relay and realtime publish in the API; the delivery of its tasks and their runs in the
worker; the fan-out of its event to a WebSocket subscriber in the realtime server — one trace id,
and every span's parent the one it should be."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from valorize_core.testing.net import free_port
from valorize_entrypoints.testing import RoleProcess

pytestmark = pytest.mark.slow

KEY, APP_ID = "trace-key", "100002"


def _spans(path: Path, trace_id: str) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    spans = [json.loads(line) for line in path.read_text().splitlines() if line]
    return [s for s in spans if s["context"]["trace_id"] == f"0x{trace_id}"]


async def _subscribe(ws_url: str, api: str, token: str, channel: str) -> Any:
    """A WebSocket subscribed to ``channel`` on the realtime server (signed by the API)."""
    ws = await connect(f"{ws_url}/app/{KEY}?protocol=7&client=trace", open_timeout=5)
    socket_id = json.loads(json.loads(await asyncio.wait_for(ws.recv(), 5))["data"])["socket_id"]
    async with httpx.AsyncClient(base_url=api, headers={"Authorization": f"Bearer {token}"}) as http:
        auth = await http.post("/broadcasting/auth", data={"socket_id": socket_id, "channel_name": channel})
    assert auth.status_code == 200, auth.text
    await ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": channel, "auth": auth.json()["auth"]}}))
    while json.loads(await asyncio.wait_for(ws.recv(), 5))["event"] != "pusher_internal:subscription_succeeded":
        pass
    return ws


def test_one_write_is_one_trace_across_api_worker_and_realtime_processes(
    own_database_url: str, redis_server: Any, tmp_path: Path
) -> None:
    api_port, worker_port, realtime_port = free_port(), free_port(), free_port()
    spans_file = tmp_path / "spans.jsonl"
    env = {
        **os.environ, "VALORIZE_DATABASE_URL": own_database_url, "VALORIZE_REDIS_URL": redis_server.url,
        "VALORIZE_RUN_MIGRATIONS": "false", "VALORIZE_WORKER_SECRET": "trace-s3cret", "VALORIZE_TASK_QUEUE": "local",
        "VALORIZE_WORKER_URL": f"http://127.0.0.1:{worker_port}", "VALORIZE_PUSHER_SECRET": "pusher-s3cret",
        "VALORIZE_PUSHER_KEY": KEY, "VALORIZE_PUSHER_APP_ID": APP_ID, "VALORIZE_LOG_JSON": "true",
        "VALORIZE_TRACING": f"file:{spans_file}", "OTEL_BSP_SCHEDULE_DELAY": "100", "PYTHONWARNINGS": "ignore",
    }  # fmt: skip
    with (
        RoleProcess("api", api_port, env, tmp_path / "api.log") as api,
        RoleProcess("worker", worker_port, env, tmp_path / "worker.log"),
        RoleProcess("realtime", realtime_port, env, tmp_path / "realtime.log") as realtime,
    ):
        signup = httpx.post(f"{api.url}/api/signup", json={"tenant_name": "Traced", "email": "trace@example.com",
                                                           "name": "T"})  # fmt: skip
        assert signup.status_code == 201, signup.text
        token, tenant = signup.json()["token"], signup.json()["tenant_id"]
        headers = {"Authorization": f"Bearer {token}"}
        opened = httpx.post(f"{api.url}/api/accounts", headers=headers, json={"name": "Conta", "kind": "checking",
                            "currency": "BRL", "opening_balance": "100.00"})  # fmt: skip
        assert opened.status_code == 201, opened.text
        # A budget on the write's category: its follow-up (the evaluation) has something to do,
        # so the write causes a task (follow-ups are written only when they can act).
        food = httpx.post(f"{api.url}/api/categories", headers=headers, json={"name": "Food", "kind": "expense"})
        assert food.status_code == 201, food.text
        budget = httpx.post(f"{api.url}/api/budgets", headers=headers, json={"category_id": food.json()["id"],
                            "limit": "100.00", "currency": "BRL"})  # fmt: skip
        assert budget.status_code == 201, budget.text
        today = datetime.now(UTC).date().isoformat()  # a day the budget exists on
        request_id = uuid.uuid4().hex  # a trace id itself (logs.trace_id_of)

        async def write_while_subscribed() -> str:
            ws = await _subscribe(realtime.url.replace("http", "ws"), api.url, token, f"private-tenant.{tenant}")
            try:
                async with httpx.AsyncClient(base_url=api.url, headers=headers) as http:
                    written = await http.post("/api/transactions", headers={"X-Request-ID": request_id}, json={
                        "account_id": opened.json()["id"], "booked_on": today, "description": "PADARIA",
                        "amount": "-4.50", "category_id": food.json()["id"]})  # fmt: skip
                assert written.status_code == 201, written.text
                while True:  # the subscriber receives the write's event
                    message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if message["event"] == "transaction.created":
                        return str(json.loads(message["data"])["correlation_id"])
            finally:
                await ws.close()

        assert asyncio.run(write_while_subscribed()) == request_id

        def wanted(spans: list[dict[str, Any]]) -> bool:
            names = {s["name"] for s in spans}
            return {"POST /api/transactions", "realtime fan-out transaction.created"} <= names and any(
                n.startswith("task ") for n in names
            )

        deadline = time.monotonic() + 30
        while not wanted(spans := _spans(spans_file, request_id)):
            assert time.monotonic() < deadline, sorted({s["name"] for s in spans})
            time.sleep(0.2)
        time.sleep(0.5)  # the last tasks' spans
        spans = _spans(spans_file, request_id)

    by_id = {s["context"]["span_id"]: s for s in spans}

    def one(name: str) -> dict[str, Any]:
        found = [s for s in spans if s["name"] == name]
        assert len(found) == 1, (name, sorted(s["name"] for s in spans))
        return found[0]

    def parent(s: dict[str, Any]) -> dict[str, Any]:
        assert s["parent_id"] in by_id, (s["name"], s["parent_id"])
        return by_id[s["parent_id"]]

    def service(s: dict[str, Any]) -> str:
        return str(s["resource"]["attributes"]["service.name"])

    request = one("POST /api/transactions")
    assert request["parent_id"] is None
    assert service(request) == "valorize-api"
    assert request["attributes"]["http.response.status_code"] == 201
    use_case = one("use case create_transaction")
    assert parent(use_case) is request
    assert use_case["attributes"]["valorize.tenant_id"] == tenant
    assert use_case["attributes"]["valorize.outcome"] == "ok"
    assert any(s["name"] == "SQL INSERT" and parent(s) is use_case for s in spans)
    relay = one("outbox relay")
    assert parent(relay) is use_case
    assert parent(one("realtime publish")) is relay

    deliveries = [s for s in spans if s["name"].startswith("deliver ")]
    runs = [s for s in spans if s["name"].startswith("task ")]
    assert deliveries, sorted(s["name"] for s in spans)
    assert len(runs) == len(deliveries), sorted(s["name"] for s in spans)
    for delivery in deliveries:
        assert service(delivery) == "valorize-worker"
        assert parent(delivery) is request
    for run in runs:
        delivered = parent(run)
        assert delivered["name"] == f"deliver {run['name'].removeprefix('task ')}"
        assert service(run) == "valorize-worker"
    # The task's statements descend from its run, through the use case it runs (the evaluation).
    run_ids = {r["context"]["span_id"] for r in runs}
    run_use_cases = [s for s in spans if s["parent_id"] in run_ids]
    assert [s["name"] for s in run_use_cases] == ["use case evaluate_budgets"], sorted(s["name"] for s in spans)
    under_runs = run_ids | {s["context"]["span_id"] for s in run_use_cases}
    assert any(s["name"].startswith("SQL ") and s["parent_id"] in under_runs for s in spans)

    fan_out = one("realtime fan-out transaction.created")
    assert service(fan_out) == "valorize-realtime"
    assert parent(fan_out) is request
    assert fan_out["attributes"]["channel"] == f"private-tenant.{tenant}"
