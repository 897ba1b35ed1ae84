"""The production roles as production runs them: ``valorize api`` and ``valorize worker`` (two
granian processes each) on real PostgreSQL and Redis. Redis is killed in the middle of a load of
writes and imports, and started again: every committed event is published in the end, and every
import is done — the roles' outbox sweepers relay what the commits could not, and the worker's
dispatcher delivers the follow-up tasks they queue."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from backlog_support import tasks_left, unpublished_events

from valorize_core.testing.net import free_port
from valorize_entrypoints.testing import RoleProcess

pytestmark = pytest.mark.slow

SECRET = "roles-s3cret"
CLIENTS = 6
SETTLE_SECONDS = 40  # the sweepers' grace (5 s) and round (2 s), the dispatcher's backoff, with room


def _csv(n: int) -> bytes:
    """Three rows no other file has (amounts differ: descriptions are compared without digits)."""
    rows = "".join(f"0{1 + i}/11/2026;LOJA {n};-{n + 1},{i:02d}\n" for i in range(3))
    return ("data;lançamento;valor\n" + rows).encode()


MAPPING = (
    '{"date_column": "data", "description_column": "lançamento", "amount_column": "valor",'
    ' "date_format": "%d/%m/%Y", "decimal_style": "comma", "delimiter": ";"}'
)


async def _load(base: str, headers: dict[str, str], account: str, stop: asyncio.Event) -> tuple[dict[str, int], int]:
    """Writes and imports from ``CLIENTS`` clients until ``stop``; returns the accepted imports
    (id → file number) and how many transactions were created."""
    imports: dict[str, int] = {}
    created = 0
    numbers = itertools.count()

    async def client() -> None:
        nonlocal created
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:
            while not stop.is_set():
                n = next(numbers)
                try:
                    if n % 4 == 0:
                        r = await http.post(
                            "/api/imports",
                            data={"account_id": account, "mapping": MAPPING},
                            files={"file": (f"extrato-{n}.csv", _csv(n), "text/csv")},
                        )
                        if r.status_code == 202:
                            imports[r.json()["id"]] = n
                    else:
                        body = {"account_id": account, "booked_on": "2026-11-03", "description": f"CAFE {n}",
                                "amount": "-4.50"}  # fmt: skip
                        r = await http.post("/api/transactions", json=body)
                        created += r.status_code == 201
                except httpx.TransportError:
                    await asyncio.sleep(0.05)

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return imports, created


def test_api_and_worker_publish_everything_committed_while_redis_was_down(
    own_database_url: str, redis_server: Any, tmp_path: Path
) -> None:
    api_port, worker_port = free_port(), free_port()
    env = {
        **os.environ, "VALORIZE_DATABASE_URL": own_database_url, "VALORIZE_REDIS_URL": redis_server.url,
        "VALORIZE_RUN_MIGRATIONS": "false", "VALORIZE_WORKER_SECRET": SECRET, "VALORIZE_TASK_QUEUE": "local",
        "VALORIZE_WORKER_URL": f"http://127.0.0.1:{worker_port}", "VALORIZE_PUSHER_SECRET": "pusher-s3cret",
        "VALORIZE_LOG_JSON": "false", "PYTHONWARNINGS": "ignore",
    }  # fmt: skip
    base = f"http://127.0.0.1:{api_port}"
    with (
        RoleProcess("api", api_port, env, tmp_path / "api.log", workers=2),
        RoleProcess("worker", worker_port, env, tmp_path / "worker.log", workers=2),
    ):
        signup = httpx.post(f"{base}/api/signup", json={"tenant_name": "Roles", "email": "roles@example.com",
                                                        "name": "R"})  # fmt: skip
        assert signup.status_code == 201, signup.text
        headers = {"Authorization": f"Bearer {signup.json()['token']}"}
        opened = httpx.post(f"{base}/api/accounts", headers=headers, json={"name": "Conta", "kind": "checking",
                            "currency": "BRL", "opening_balance": "1000.00"})  # fmt: skip
        assert opened.status_code == 201, opened.text
        account = opened.json()["id"]

        stranded: list[int] = []

        async def drive() -> tuple[dict[str, int], int]:
            stop = asyncio.Event()
            load = asyncio.create_task(_load(base, headers, account, stop))
            await asyncio.sleep(2)
            redis_server.stop()  # mid-load: commits go on, their publishing fails
            await asyncio.sleep(2.5)
            stranded.append(await asyncio.to_thread(unpublished_events, own_database_url))  # younger than the grace
            await asyncio.sleep(0.5)
            await asyncio.to_thread(redis_server.start)
            await asyncio.sleep(1)
            stop.set()
            return await load

        imports, created = asyncio.run(drive())
        assert len(imports) > 10
        assert stranded[0] > 0  # the outage left committed events unpublished

        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            statuses = [httpx.get(f"{base}/api/imports/{i}", headers=headers).json()["status"] for i in imports]
            left = unpublished_events(own_database_url)
            if left == 0 and set(statuses) == {"completed"}:
                break
            assert time.monotonic() < deadline, (
                f"after {SETTLE_SECONDS} s: {left} events unpublished, imports {Counter(statuses)},"
                f" tasks {tasks_left(own_database_url)}"
            )
            time.sleep(1)
        # Each import's rows and each created transaction count once in the balance (minor units):
        # a follow-up task that ran twice, or a write the outage half-did, would show here.
        expected = 100_000 - 450 * created - sum(300 * (n + 1) + 3 for n in imports.values())
        balance = httpx.get(f"{base}/api/accounts/{account}", headers=headers).json()["balance"]["amount"]
        assert int(Decimal(balance) * 100) == expected
