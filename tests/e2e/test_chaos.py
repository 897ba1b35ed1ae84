"""The chaos suite: the production roles as separate processes — ``valorize api``, ``valorize
worker`` (with the local queue's dispatcher), two ``valorize realtime`` instances — on a real
PostgreSQL and a real Redis, under a steady mixed load (writes, reads, imports) with WebSocket
subscribers on both realtime instances. One at a time, Redis is killed and restarted, PostgreSQL
is stopped and started, the worker is SIGKILLed in the middle of an import and restarted, and one
realtime instance is SIGKILLed and restarted. Afterwards:

- every request was answered with a 2xx or a 503 (a retry of a key whose request was cut by the
  outage may meet 409 ``request in progress``, or 409 ``already_applied`` when the cut request's
  write had committed: acknowledged, its answer lost), none later than its deadline;
- 0 committed writes lost, 0 duplicated effects (every acknowledged write is stored exactly once,
  every import exactly once), and ``valorize verify`` finds every balance right;
- every committed event reached every subscriber, or the subscriber was told it may have missed
  events (``valorize:resync``, or its connection was lost and it subscribed again) after it;
- every service was healthy again, and a fresh write reached every subscriber, within seconds.

The figures of the run (answers by status, recovery times, events announced by a resync) are
printed and written to ``chaos.json`` in the test's folder; docs/reliability.md quotes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from backlog_support import tasks_left, unpublished_events
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from valorize_adapters.postgres import EmbeddedPostgres, migrate
from valorize_adapters.pusher.signatures import sign_request
from valorize_adapters.redis.server import RedisServer
from valorize_core.testing.net import free_port
from valorize_entrypoints.testing import RoleProcess

pytestmark = pytest.mark.slow

WRITERS = 4
SUBSCRIBERS_PER_INSTANCE = 2
DEADLINE = 5.0  # every request is answered within this (the pool waits 2 s for a connection)
HEALTHY_WITHIN = 10.0  # every service healthy, and a fresh write delivered, within this of a restart
# (of Redis or PostgreSQL being started, or of a restarted role's process answering its /health)
SETTLE_SECONDS = 60.0  # the sweepers' grace (5 s), the dispatcher's lease (15 s) and backoff, with room
PAUSE = 3.0  # seconds each fault lasts, and seconds of steady load between faults
KEY, PUSHER_SECRET, APP_ID = "chaos-key", "pusher-s3cret", "100001"
BIG_IMPORT_ROWS = 2000

MAPPING = (
    '{"date_column": "data", "description_column": "lançamento", "amount_column": "valor",'
    ' "date_format": "%d/%m/%Y", "decimal_style": "comma", "delimiter": ";"}'
)


def _csv(n: int, rows: int) -> bytes:
    """A statement no other file repeats (its amounts are its own: descriptions are compared
    without digits)."""
    lines = "".join(f"0{1 + i % 9}/11/2026;IMPORTADO {n} {i};-{n + 1}{i:04d},{i % 100:02d}\n" for i in range(rows))
    return ("data;lançamento;valor\n" + lines).encode()


@dataclass
class Answer:
    route: str
    status: int
    seconds: float
    code: str = ""


@dataclass
class Load:
    """What the clients saw: every answer, every acknowledged write, every accepted import."""

    answers: list[Answer] = field(default_factory=list)
    committed: dict[str, tuple[str, float]] = field(default_factory=dict)  # description → (id, acknowledged at)
    attempted: set[str] = field(default_factory=set)  # descriptions sent, acknowledged or not
    # Acknowledged by a 409 ``already_applied``: written (once), its answer lost after the commit.
    applied: set[str] = field(default_factory=set)
    imports: dict[str, int] = field(default_factory=dict)  # import id → rows
    pings: dict[str, tuple[str, float]] = field(default_factory=dict)  # events the HTTP events API took

    async def trigger(self, http: httpx.AsyncClient, channel: str, ping: str) -> None:
        """One event through the Pusher HTTP events API, signed as the ``pusher`` SDKs sign it."""
        body = json.dumps({"name": "chaos.ping", "channels": [channel], "data": json.dumps({"ping": ping})}).encode()
        path = f"/apps/{APP_ID}/events"
        params = sign_request(KEY, PUSHER_SECRET, "POST", path, {}, body, int(time.time()))
        r = await self.call(f"POST {path}", lambda: http.post(path, params=params, content=body,
                                                             headers={"content-type": "application/json"}))  # fmt: skip
        if r is not None and r.status_code == 200:
            self.pings[ping] = (ping, time.monotonic())

    async def call(self, route: str, send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response | None:
        started = time.monotonic()
        try:
            response = await send()
        except httpx.TransportError as exc:  # the API is never killed: this is a finding too
            self.answers.append(Answer(route, 0, time.monotonic() - started, type(exc).__name__))
            return None
        code = ""
        if response.status_code >= 400 and response.headers.get("content-type", "").endswith("json"):
            with contextlib.suppress(ValueError):
                code = str(response.json().get("code") or response.json().get("title", ""))
        self.answers.append(Answer(route, response.status_code, time.monotonic() - started, code))
        return response

    async def write(self, http: httpx.AsyncClient, account: str, description: str, stop: asyncio.Event) -> None:
        """One transaction, retried with its Idempotency-Key on 503 as a client should."""
        self.attempted.add(description)
        body = {"account_id": account, "booked_on": "2026-11-03", "description": description, "amount": "-4.50"}
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        for _ in range(60):
            r = await self.call("POST /api/transactions", lambda: http.post("/api/transactions", json=body,
                                                                            headers=headers))  # fmt: skip
            if r is not None and r.status_code == 201:
                self.committed[description] = (r.json()["id"], time.monotonic())
                return
            if r is not None and r.status_code == 409 and self.answers[-1].code == "already_applied":
                self.applied.add(description)
                return
            if r is None or r.status_code not in (503, 409) or stop.is_set():
                return  # its fate is read from the database at the end
            await asyncio.sleep(min(float(r.headers.get("retry-after", "1")), 0.5))

    async def upload(self, http: httpx.AsyncClient, account: str, n: int, rows: int) -> str | None:
        """One statement import, retried with its Idempotency-Key on 503."""
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        for _ in range(60):
            r = await self.call("POST /api/imports", lambda: http.post(
                "/api/imports", data={"account_id": account, "mapping": MAPPING}, headers=headers,
                files={"file": (f"extrato-{n}.csv", _csv(n, rows), "text/csv")},
            ))  # fmt: skip
            if r is not None and r.status_code == 202:
                self.imports[r.json()["id"]] = rows
                return str(r.json()["id"])
            if r is None or r.status_code not in (503, 409):
                return None
            await asyncio.sleep(0.5)
        return None


@dataclass
class Subscriber:
    """A WebSocket client of one realtime instance on the tenant's private channel, reconnecting
    as pusher-js does; records what it received and when it was told it may have missed some."""

    name: str
    ws_url: str
    api: str
    token: str
    channel: str
    received: dict[str, float] = field(default_factory=dict)  # transaction id → received at
    notices: list[tuple[float, str]] = field(default_factory=list)  # (at, "resync" | "resubscribed")
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, stop: asyncio.Event) -> None:
        connections = 0
        async with httpx.AsyncClient(base_url=self.api, headers={"Authorization": f"Bearer {self.token}"}) as http:
            while not stop.is_set():
                with contextlib.suppress(OSError, WebSocketException, TimeoutError, httpx.TransportError, KeyError):
                    async with connect(f"{self.ws_url}/app/{KEY}?protocol=7&client=chaos", open_timeout=3) as ws:
                        hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
                        socket_id = json.loads(hello["data"])["socket_id"]
                        auth = await self._auth(http, socket_id, stop)
                        if auth is None:
                            return
                        await ws.send(json.dumps({"event": "pusher:subscribe",
                                                  "data": {"channel": self.channel, "auth": auth}}))  # fmt: skip
                        reader = asyncio.create_task(self._read(ws, connections))
                        stopping = asyncio.create_task(stop.wait())
                        await asyncio.wait({reader, stopping}, return_when=asyncio.FIRST_COMPLETED)
                        stopping.cancel()
                        reader.cancel()
                        with contextlib.suppress(asyncio.CancelledError, WebSocketException):
                            await reader
                        connections += 1
                await asyncio.sleep(0.3)

    async def _auth(self, http: httpx.AsyncClient, socket_id: str, stop: asyncio.Event) -> str | None:
        while not stop.is_set():
            r = await http.post("/broadcasting/auth", data={"socket_id": socket_id, "channel_name": self.channel})
            if r.status_code == 200:
                return str(r.json()["auth"])
            assert r.status_code == 503, r.text
            await asyncio.sleep(0.3)
        return None

    async def _read(self, ws: Any, connections: int) -> None:
        async for raw in ws:
            message = json.loads(raw)
            now = time.monotonic()
            if message["event"] == "pusher_internal:subscription_succeeded":
                if connections:  # a new connection after a lost one: whatever was sent meanwhile is missed
                    self.notices.append((now, "resubscribed"))
                self.subscribed.set()
            elif message["event"] == "valorize:resync":
                self.notices.append((now, "resync"))
            elif message["event"] == "transaction.created":
                self.received.setdefault(json.loads(message["data"])["payload"]["transaction_id"], now)
            elif message["event"] == "chaos.ping":  # sent through the Pusher HTTP events API
                self.received.setdefault(json.loads(message["data"])["ping"], now)

    def unannounced_misses(self, committed: dict[str, tuple[str, float]]) -> list[str]:
        """Acknowledged events this subscriber neither received nor was told about (a notice
        after their acknowledgement; 1 s of slack for the event published before the answer)."""
        return [
            tx for tx, acknowledged in committed.values()
            if tx not in self.received and not any(at >= acknowledged - 1.0 for at, _ in self.notices)
        ]  # fmt: skip


def _descriptions(database_url: str, tenant: str) -> Counter[str]:
    with psycopg.connect(database_url) as conn:
        conn.execute("SELECT set_config('valorize.tenant_id', %s, false)", (tenant,))
        rows = conn.execute("SELECT description FROM transactions WHERE tenant_id = %s", (tenant,)).fetchall()
        return Counter(str(r[0]) for r in rows)


async def _healthy(urls: list[str], since: float) -> float:
    """Seconds from ``since`` until every URL answers 200 (polled every 0.1 s)."""
    async with httpx.AsyncClient(timeout=2) as http:
        pending = list(urls)
        while pending:
            for url in list(pending):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(url)).status_code == 200:
                        pending.remove(url)
            if pending:
                assert time.monotonic() - since < 60, f"not healthy after 60 s: {pending}"
                await asyncio.sleep(0.1)
    return time.monotonic() - since


def test_the_production_roles_survive_redis_postgres_worker_and_realtime_faults_under_load(tmp_path: Path) -> None:
    postgres = EmbeddedPostgres(tmp_path / "pg", delete_on_stop=True)
    database_url = postgres.start()
    asyncio.run(migrate(database_url))
    redis = RedisServer().start()
    api_port, worker_port, rt_ports = free_port(), free_port(), (free_port(), free_port())
    env = {
        **os.environ, "VALORIZE_DATABASE_URL": database_url, "VALORIZE_REDIS_URL": redis.url,
        "VALORIZE_RUN_MIGRATIONS": "false", "VALORIZE_WORKER_SECRET": "chaos-s3cret", "VALORIZE_TASK_QUEUE": "local",
        "VALORIZE_WORKER_URL": f"http://127.0.0.1:{worker_port}", "VALORIZE_PUSHER_SECRET": PUSHER_SECRET,
        "VALORIZE_PUSHER_KEY": KEY, "VALORIZE_PUSHER_APP_ID": APP_ID, "VALORIZE_RATE_LIMIT_PER_TOKEN": "1000000/minute",
        "VALORIZE_LOG_JSON": "true", "PYTHONWARNINGS": "ignore",
    }  # fmt: skip
    api = RoleProcess("api", api_port, env, tmp_path / "api.log")
    worker = RoleProcess("worker", worker_port, env, tmp_path / "worker.log")
    realtimes = [RoleProcess("realtime", port, env, tmp_path / f"realtime-{port}.log") for port in rt_ports]
    try:
        for role in (api, worker, *realtimes):
            role.start()
        asyncio.run(_chaos(api, worker, realtimes, redis, postgres, database_url, tmp_path))
    finally:
        for role in (api, worker, *realtimes):
            role.stop()
        redis.stop()
        postgres.stop()


async def _chaos(
    api: RoleProcess,
    worker: RoleProcess,
    realtimes: list[RoleProcess],
    redis: RedisServer,
    postgres: EmbeddedPostgres,
    database_url: str,
    tmp_path: Path,
) -> None:
    base = api.url
    async with httpx.AsyncClient(base_url=base, timeout=15) as http:
        signup = await http.post("/api/signup", json={"tenant_name": "Chaos", "email": "chaos@example.com",
                                                      "name": "C"})  # fmt: skip
        assert signup.status_code == 201, signup.text
        token, tenant = signup.json()["token"], signup.json()["tenant_id"]
        http.headers["Authorization"] = f"Bearer {token}"
        accounts = []
        for i in range(WRITERS + 2):  # one per writer, one for imports, one for the probes
            account = {"name": f"Conta {i}", "kind": "checking", "currency": "BRL", "opening_balance": "1000.00"}
            opened = await http.post("/api/accounts", json=account)
            assert opened.status_code == 201, opened.text
            accounts.append(opened.json()["id"])

        load = Load()
        stop_load, stop_subscribers = asyncio.Event(), asyncio.Event()
        channel = f"private-tenant.{tenant}"
        subscribers = [
            Subscriber(f"rt{r}-{i}", rt.url.replace("http", "ws"), base, token, channel)
            for r, rt in enumerate(realtimes) for i in range(SUBSCRIBERS_PER_INSTANCE)
        ]  # fmt: skip
        listening = [asyncio.create_task(s.run(stop_subscribers)) for s in subscribers]
        await asyncio.wait_for(asyncio.gather(*(s.subscribed.wait() for s in subscribers)), 20)

        numbers = itertools.count()

        async def writer(i: int) -> None:
            async with httpx.AsyncClient(base_url=base, headers=http.headers, timeout=15) as client:
                while not stop_load.is_set():
                    await load.write(client, accounts[i], f"CHAOS W{i} N{next(numbers)}", stop_load)
                    await asyncio.sleep(0.05)

        async def reader() -> None:
            async with httpx.AsyncClient(base_url=base, headers=http.headers, timeout=15) as client:
                while not stop_load.is_set():
                    await load.call("GET /api/transactions", lambda: client.get("/api/transactions?limit=20"))
                    await load.call("GET /api/accounts", lambda: client.get("/api/accounts"))
                    await asyncio.sleep(0.05)

        async def importer() -> None:
            async with httpx.AsyncClient(base_url=base, headers=http.headers, timeout=15) as client:
                while not stop_load.is_set():
                    await load.upload(client, accounts[WRITERS], next(numbers), 3)
                    await asyncio.sleep(0.7)

        async def server_events() -> None:  # a backend using a pusher SDK against the API
            async with httpx.AsyncClient(base_url=base, timeout=15) as client:
                while not stop_load.is_set():
                    await load.trigger(client, channel, f"ping-{next(numbers)}")
                    await asyncio.sleep(0.1)

        probes = itertools.count()

        async def delivered_everywhere(since: float) -> float:
            """Seconds from ``since`` until a fresh write reaches every subscriber."""
            while True:
                description = f"CHAOS PROBE {next(probes)}"
                await load.write(http, accounts[WRITERS + 1], description, asyncio.Event())
                if description in load.committed:
                    tx = load.committed[description][0]
                    waited = time.monotonic()
                    while time.monotonic() - waited < 3:
                        if all(tx in s.received for s in subscribers):
                            return time.monotonic() - since
                        await asyncio.sleep(0.05)
                assert time.monotonic() - since < 60, (
                    "no fresh write reached every subscriber within 60 s: "
                    + ", ".join(f"{s.name} got {len(s.received)}, notices {s.notices[-3:]}" for s in subscribers)
                    + f"; {unpublished_events(database_url)} events unpublished"
                )

        everything = [f"{base}/ready", f"{worker.url}/health", *(f"{rt.url}/health" for rt in realtimes)]
        recovery: dict[str, dict[str, float]] = {}

        async def recovered(fault: str, since: float) -> None:
            healthy = await _healthy(everything, since)
            delivered = await delivered_everywhere(since)
            recovery[fault] = {"healthy_s": round(healthy, 2), "fresh_write_delivered_s": round(delivered, 2)}

        clients = [asyncio.create_task(c) for c in (*(writer(i) for i in range(WRITERS)), reader(), importer(),
                                                    server_events())]  # fmt: skip
        await asyncio.sleep(PAUSE)

        redis.stop()  # 1. Redis
        await asyncio.sleep(PAUSE)
        await asyncio.to_thread(redis.start)
        await recovered("redis", time.monotonic())
        await asyncio.sleep(PAUSE)

        await asyncio.to_thread(postgres.interrupt)  # 2. PostgreSQL
        await asyncio.sleep(PAUSE)
        await asyncio.to_thread(postgres.resume)
        await recovered("postgres", time.monotonic())
        await asyncio.sleep(PAUSE)

        big = await load.upload(http, accounts[WRITERS], next(numbers), BIG_IMPORT_ROWS)  # 3. the worker, mid-import
        assert big is not None
        while not any(name == "import_statement" and attempts for name, attempts, *_ in tasks_left(database_url)):  # noqa: ASYNC110 - polling the database
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        worker.kill()
        killed = time.monotonic()
        cut = (await http.get(f"/api/imports/{big}")).json()
        assert cut["status"] == "pending", cut  # killed before its one unit of work committed
        await asyncio.sleep(1)
        restarted = time.monotonic()
        await asyncio.to_thread(worker.start)
        booted = time.monotonic()
        await recovered("worker", booted)
        recovery["worker"]["process_start_s"] = round(booted - restarted, 2)
        while (await http.get(f"/api/imports/{big}")).json()["status"] != "completed":
            assert time.monotonic() - killed < 60, tasks_left(database_url)
            await asyncio.sleep(0.2)
        recovery["worker"]["killed_import_completed_after_kill_s"] = round(time.monotonic() - killed, 2)
        await asyncio.sleep(PAUSE)

        realtimes[1].kill()  # 4. a realtime instance
        await asyncio.sleep(1)
        restarted = time.monotonic()
        await asyncio.to_thread(realtimes[1].start)
        booted = time.monotonic()
        await recovered("realtime", booted)
        recovery["realtime"]["process_start_s"] = round(booted - restarted, 2)
        await asyncio.sleep(PAUSE)

        stop_load.set()
        await asyncio.gather(*clients)

        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            statuses = Counter([(await http.get(f"/api/imports/{i}")).json()["status"] for i in load.imports])
            left = await asyncio.to_thread(unpublished_events, database_url)
            if left == 0 and set(statuses) == {"completed"}:
                break
            assert time.monotonic() < deadline, (
                f"{left} events unpublished, imports {statuses}, {tasks_left(database_url)}"
            )
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)  # the last deliveries
        stop_subscribers.set()
        await asyncio.gather(*listening)

        imports = [(await http.get(f"/api/imports/{i}")).json() for i in load.imports]

    # Every answer a 2xx or a 503 (or the 409 of a retried key still held, or applied with its
    # answer lost), none past its deadline.
    unexpected = [a for a in load.answers if not (200 <= a.status < 300 or a.status == 503 or
                                                  (a.status == 409 and a.code in ("request_in_progress",
                                                                                  "already_applied")))]  # fmt: skip
    late = [a for a in load.answers if a.seconds > DEADLINE]
    # 0 lost, 0 duplicated: each acknowledged write exactly once, nothing at all twice, each import once.
    stored = await asyncio.to_thread(_descriptions, database_url, tenant)
    lost = [d for d in [*load.committed, *load.applied] if stored[d] != 1]
    doubled = [d for d, n in stored.items() if n > 1]
    strays = [d for d in stored if d.startswith("CHAOS") and d not in load.attempted]
    wrong_imports = [i for i in imports if (i["imported"], i["duplicates"]) != (i["total_rows"], 0)]
    verify = subprocess.run(  # noqa: ASYNC221 - the run is over
        [str(Path(sys.executable).with_name("valorize")), "verify", "--grace", "0"],
        env={**api.env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    # Every committed event delivered, or announced by a resync (or a new subscription) after it.
    events = {**load.committed, **load.pings}
    unannounced = {s.name: s.unannounced_misses(events) for s in subscribers}
    missed = {s.name: sum(tx not in s.received for tx, _ in events.values()) for s in subscribers}

    statuses = Counter(a.status for a in load.answers)
    figures = {
        "requests": len(load.answers),
        "answers": {str(k): v for k, v in sorted(statuses.items())},
        "slowest_answer_s": round(max(a.seconds for a in load.answers), 2),
        "acknowledged_writes": len(load.committed),
        "applied_answers_lost": len(load.applied),
        "events_api_accepted": len(load.pings),
        "imports": len(imports),
        "recovery": recovery,
        "events_missed_and_announced": missed,
        "resync_notices": {s.name: Counter(kind for _, kind in s.notices) for s in subscribers},
    }
    print("chaos figures:", json.dumps(figures, indent=2))
    (tmp_path / "chaos.json").write_text(json.dumps(figures, indent=2))
    assert api.proc is not None
    assert api.proc.poll() is None, "the API died"
    assert unexpected == [], unexpected[:20]
    assert late == [], late[:20]
    assert len(load.committed) > 100  # the load was real
    assert len(imports) > 10
    assert statuses[503] > 0  # and the outages were felt
    assert lost == [], lost[:10]
    assert doubled == [], doubled[:10]
    assert strays == [], strays[:10]
    assert wrong_imports == [], wrong_imports
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert all(not misses for misses in unannounced.values()), {k: v[:5] for k, v in unannounced.items()}
    assert all(len(s.received) > len(events) // 2 for s in subscribers)  # most arrived live
    assert len(load.pings) > 50
    for fault, times in recovery.items():
        assert times["healthy_s"] < HEALTHY_WITHIN, (fault, times)
        assert times["fresh_write_delivered_s"] < HEALTHY_WITHIN, (fault, times)
    # The killed dispatcher's claim lapsed with its lease (15 s), not after a fixed minute; then the
    # import ran whole (a few seconds on a loaded machine).
    assert recovery["worker"]["killed_import_completed_after_kill_s"] < 40
