"""What a write costs in Redis round trips through the API (the container's wiring, a real Redis),
and the order Redis runs them in: the read cache's bump before any of the write's events."""

from __future__ import annotations

import time
from typing import Any

import redis
import redis.asyncio.connection as connection
from litestar.testing import TestClient

from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings


def test_a_write_costs_three_round_trips_and_its_bump_reaches_redis_before_its_events(redis_url: str) -> None:
    container = Container()
    container.settings.override(Settings(backend="memory", redis_url=redis_url))
    listener = redis.Redis.from_url(redis_url).pubsub()
    sends: list[bytes] = []
    original = connection.AbstractConnection.send_packed_command

    async def counted(self: Any, command: Any, check_health: bool = True) -> None:
        sends.append(bytes(command if isinstance(command, bytes) else b"".join(command))[:40])
        await original(self, command, check_health)

    with TestClient(create_app(container)) as client:
        signed = client.post("/api/signup", json={"tenant_name": "T", "email": "rt@example.com", "name": "N"}).json()
        headers = {"Authorization": f"Bearer {signed['token']}"}
        tenant = client.get("/api/me", headers=headers).json()["tenant_id"]
        account = client.post("/api/accounts", headers=headers, json={"name": "C", "kind": "checking",
                                                                      "currency": "BRL"}).json()["id"]  # fmt: skip
        listener.subscribe("vz:versions", f"vz:events:{{{tenant}}}")
        body = {"account_id": account, "booked_on": "2026-03-01", "description": "Padaria", "amount": "-1.25"}
        assert client.post("/api/transactions", headers=headers, json=body).status_code == 201  # warm
        time.sleep(0.2)
        while listener.get_message(timeout=0.05) is not None:
            pass
        connection.AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]
        try:
            assert client.post("/api/transactions", headers=headers, json=body).status_code == 201
        finally:
            connection.AbstractConnection.send_packed_command = original  # type: ignore[method-assign]
        seen = []
        deadline = time.monotonic() + 3
        while len([s for s in seen if s == "event"]) < 2 and time.monotonic() < deadline:
            message = listener.get_message(timeout=0.1)
            if message is None or message["type"] != "message":
                continue
            if message["channel"] == b"vz:versions":
                if message["data"].startswith(tenant.encode()):
                    seen.append("bump")
            else:
                seen.append("event")
    listener.close()
    writes = [s for s in sends if b"PING" not in s]  # the feed's heartbeat, if it falls in
    assert len(writes) == 3, writes  # the rate limit, the hold before the commit, the rest after it
    assert seen == ["bump", "bump", "event", "event"]  # the hold's, the retirement's, then the events
