"""Soak: the production roles under the mixed load with periodic imports; memory and tables over time.

    python perf/soak.py            # ten minutes at ~300 req/s offered, a 2,000-row import every 20 s
    python perf/soak.py --quick    # one minute at ~100 req/s, a 200-row import every 10 s

Embedded PostgreSQL 16; ``valorize api`` and ``valorize worker`` started as operators start them
(the worker runs the local dispatcher, the retention job and the backlog sampler). The load is
the mixed experiment's shape — 65 % transaction pages, 20 % ``POST /api/transactions``, 15 %
``GET /api/accounts`` — paced at ``--rate`` over ``--tenants`` tenants, plus CSV imports. Every
``--every`` seconds it samples each role's resident memory (the process and its children) and
the rows and bytes of ``outbox``, ``processed_tasks`` and ``transactions``, and the worker's
resident memory by kind of mapping (main malloc heap, other anonymous memory, files).
``--worker-env NAME=VALUE`` compares allocator settings (``MALLOC_ARENA_MAX``, ``PYTHONMALLOC``).

``--realtime`` adds the third role: a ``redis-server`` (a free port, a temp dir), the api and the
worker publishing to it (``VALORIZE_REDIS_URL``, which also moves the read cache there),
``valorize realtime`` started as operators start it, and ``--subscribers`` WebSocket clients per
tenant (Pusher protocol, on ``private-tenant.{id}``, signed by ``/broadcasting/auth``) that count
the events they receive; each sample adds the realtime role's memory and its ``/metrics``
(connections, deliveries, slow-client disconnects, backplane gaps).

Retention runs every ``--retention`` seconds with the published-events horizon at 0 (so the
soak shows the outbox levelling off within minutes rather than after the 24 h default);
processed-task ids keep their 48 h minimum and grow, by design, for that long.

Output: ``perf/results/soak[-quick].json`` (every sample, with the worker's per-process cache
sizes from its ``/metrics``) and a table: each role's memory at the end of warm-up (the first
third, or ``--warm-up`` seconds) and at the end, and its growth per minute after warm-up; each
table's rows then and at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import websockets
from bench_servers import answering

from valorize_adapters.postgres import EmbeddedPostgres, migrate
from valorize_adapters.redis.server import RedisServer
from valorize_core.testing.net import free_port

SECRET = "soak-worker-secret"
PUSHER_SECRET = "soak-pusher-secret"
PUSHER_KEY = "valorize-key"
LAUNCH = "from valorize_entrypoints.launcher import main; main()"
MAPPING = {"date_column": "date", "description_column": "description", "amount_column": "amount",
           "date_format": "%Y-%m-%d", "decimal_style": "point", "delimiter": ","}  # fmt: skip
PAYEES = ["PADARIA REAL", "SUPERMERCADO ZAFFARI", "UBER TRIP", "FARMACIA PANVEL", "POSTO IPIRANGA", "NETFLIX"]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (a server's workers), in MB."""
    pids = [str(pid), *subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]
    total = 0
    for each in pids:
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except FileNotFoundError:
            continue
        total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return total / 1024


def memory_kinds(pid: int) -> dict[str, float]:
    """A process's (and its children's) resident memory by mapping, in MB (``/proc/PID/smaps``):
    ``brk`` the main malloc arena (``[heap]``), ``anon`` every other anonymous mapping (glibc's
    thread arenas, its mmap'd large blocks, Python's object arenas, stacks), ``file`` mapped files."""
    pids = [str(pid), *subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]
    kb = {"brk": 0, "anon": 0, "file": 0}
    for each in pids:
        try:
            text = Path(f"/proc/{each}/smaps").read_text()
        except (FileNotFoundError, PermissionError):
            continue
        kind = "anon"
        for line in text.splitlines():
            head = line.split(maxsplit=6)
            if not head[0].endswith(":"):  # a mapping's header: address perms offset dev inode [path]
                path = head[5] if len(head) > 5 else ""
                kind = "brk" if path == "[heap]" else "anon" if not path or path.startswith("[") else "file"
            elif head[0] == "Rss:":
                kb[kind] += int(head[1])
    return {name: round(value / 1024, 1) for name, value in kb.items()}


def tables(url: str) -> dict[str, dict[str, int]]:
    with psycopg.connect(url, autocommit=True) as conn:
        found = {}
        for table in ("outbox", "processed_tasks", "transactions"):
            rows = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # type: ignore[arg-type]
            size = conn.execute("SELECT pg_total_relation_size(%s)", (table,)).fetchone()
            found[table] = {"rows": int(rows[0]) if rows else 0, "bytes": int(size[0]) if size else 0}
        # The worker's progress, not only its tables: tasks queued (the local queue's depth, the
        # oldest one's age) and the imports by state — accepted (202) is not stored.
        queued = conn.execute("SELECT count(*), extract(epoch FROM now() - min(created_at)) FROM task_queue").fetchone()
        found["task_queue"] = {
            "rows": int(queued[0]) if queued else 0,
            "oldest_s": int(queued[1] or 0) if queued else 0,
        }
        states = conn.execute("SELECT status, count(*) FROM imports GROUP BY status").fetchall()
        found["imports"] = {str(status): int(n) for status, n in states}
        return found


def start(role: str, port: int, env: dict[str, str], logs: Path | None = None) -> subprocess.Popen[bytes]:
    """A role's process; its output goes to ``logs/<role>.log`` when ``logs`` is given."""
    out = open(logs / f"{role}.log", "wb") if logs else subprocess.DEVNULL  # noqa: SIM115 (the child holds it)
    proc = subprocess.Popen([sys.executable, "-c", LAUNCH, role, "--port", str(port)], env=env,
                            stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    return answering(proc, f"http://127.0.0.1:{port}/health", f"valorize {role}", 90)


async def metric_lines(client: httpx.AsyncClient, url: str) -> list[str]:
    """The lines of a role's ``/metrics``; none when it does not answer (a sample goes on)."""
    try:
        return (await client.get(url, timeout=5)).text.splitlines()
    except httpx.HTTPError:
        return []


async def caches(client: httpx.AsyncClient, url: str) -> dict[str, int]:
    """A role's per-process cache sizes from its ``/metrics`` (``valorize_process_cache_entries``)."""
    found = {}
    for line in await metric_lines(client, url):
        if line.startswith("valorize_process_cache_entries{"):
            name = line.split('cache="', 1)[1].split('"', 1)[0]
            found[name] = int(float(line.rsplit(" ", 1)[1]))
    return found


async def realtime_metrics(client: httpx.AsyncClient, url: str) -> dict[str, int]:
    """The realtime role's counters and gauges from its ``/metrics`` (``valorize_realtime_*``)."""
    found = {}
    for line in await metric_lines(client, url):
        if line.startswith("valorize_realtime_") and "{" not in line:
            name, value = line.rsplit(" ", 1)
            if not name.endswith("_created"):
                found[name.removeprefix("valorize_realtime_").removesuffix("_total")] = int(float(value))
    return found


async def subscriber(ws_url: str, client: httpx.AsyncClient, who: dict[str, str], events: dict[str, int]) -> None:
    """One Pusher-protocol client on the tenant's private channel until cancelled; counts every
    event by name, answers the server's pings, and connects again if the connection drops."""
    channel = f"private-tenant.{who['tenant']}"
    while True:
        try:
            async with websockets.connect(f"{ws_url}/app/{PUSHER_KEY}?protocol=7&client=soak", open_timeout=10) as ws:
                socket_id = json.loads(json.loads(await asyncio.wait_for(ws.recv(), 10))["data"])["socket_id"]
                auth = await client.post("/broadcasting/auth", data={"socket_id": socket_id, "channel_name": channel},
                                         headers={"Authorization": f"Bearer {who['token']}"})  # fmt: skip
                auth.raise_for_status()
                subscribe = {"channel": channel, "auth": auth.json()["auth"]}
                await ws.send(json.dumps({"event": "pusher:subscribe", "data": subscribe}))
                async for frame in ws:
                    name = json.loads(frame)["event"]
                    if name == "pusher:ping":
                        await ws.send(json.dumps({"event": "pusher:pong", "data": {}}))
                    elif not name.startswith(("pusher:", "pusher_internal:")):
                        events[name] = events.get(name, 0) + 1
                    elif name == "pusher_internal:subscription_succeeded":
                        events["subscribed"] = events.get("subscribed", 0) + 1
        except asyncio.CancelledError:
            raise
        except Exception:  # counted, then connect again: the soak goes on
            events["disconnects"] = events.get("disconnects", 0) + 1
        await asyncio.sleep(1)


async def tenant(client: httpx.AsyncClient) -> dict[str, str]:
    body = {"tenant_name": "Soak", "email": f"{uuid.uuid4().hex}@example.com", "name": "Soak"}
    signed = (await client.post("/api/signup", json=body)).raise_for_status().json()
    token = signed["token"]
    auth = {"Authorization": f"Bearer {token}"}
    account = {"name": "Checking", "kind": "checking", "currency": "BRL", "opening_balance": "100000.00"}
    account_id = (await client.post("/api/accounts", json=account, headers=auth)).raise_for_status().json()["id"]
    return {"token": token, "account": account_id, "tenant": signed["tenant_id"]}


def _day() -> str:
    return f"2026-{random.randint(1, 11):02d}-{random.randint(1, 28):02d}"


async def one_request(client: httpx.AsyncClient, who: dict[str, str], counts: dict[str, int]) -> None:
    auth = {"Authorization": f"Bearer {who['token']}"}
    roll = random.random()
    try:
        if roll < 0.65:
            response = await client.get("/api/transactions?limit=50", headers=auth)
        elif roll < 0.85:
            body = {"account_id": who["account"], "booked_on": _day(), "amount": "-12.34",
                    "description": f"{random.choice(PAYEES)} {random.randint(1, 10**9)}"}  # fmt: skip
            response = await client.post("/api/transactions", json=body, headers=auth)
        else:
            response = await client.get("/api/accounts", headers=auth)
        counts["ok" if response.status_code < 400 else f"http_{response.status_code}"] += 1
    except httpx.HTTPError:
        counts["transport_error"] += 1


async def import_rows(client: httpx.AsyncClient, who: dict[str, str], rows: int) -> int:
    lines = ["date,description,amount"] + [
        f"{_day()},{random.choice(PAYEES)} {uuid.uuid4().hex[:8]},-{random.randint(100, 99999) / 100:.2f}"
        for _ in range(rows)
    ]
    form = {"account_id": who["account"], "mapping": json.dumps(MAPPING)}
    files = {"file": ("soak.csv", "\n".join(lines).encode(), "text/csv")}
    response = await client.post("/api/imports", data=form, files=files,
                                 headers={"Authorization": f"Bearer {who['token']}"})  # fmt: skip
    return response.status_code


async def load(base: str, args: argparse.Namespace, roles: dict[str, int], url: str) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        people = [await tenant(client) for _ in range(args.tenants)]
        counts: dict[str, int] = {"ok": 0, "transport_error": 0}
        counts = {**counts, **{f"http_{c}": 0 for c in (400, 404, 409, 422, 429, 500, 503)}}
        samples: list[dict[str, Any]] = []
        imports: list[int] = []
        started = time.monotonic()
        next_sample = next_import = started
        pending: set[asyncio.Task[None]] = set()
        sent = 0
        events: dict[str, int] = {}
        listening = [asyncio.create_task(subscriber(args.realtime_ws, client, who, events))
                     for who in people for _ in range(args.subscribers)] if args.realtime_ws else []  # fmt: skip
        while (now := time.monotonic()) < started + args.seconds:
            due = int((now - started) * args.rate) - sent
            for _ in range(max(0, due)):
                if len(pending) < 256:  # the client's own bound: beyond it the server is behind
                    task = asyncio.create_task(one_request(client, random.choice(people), counts))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                sent += 1
            if now >= next_import:
                imports.append(await import_rows(client, random.choice(people), args.import_rows))
                next_import += args.import_every
            if now >= next_sample:
                rows = await asyncio.to_thread(tables, url)
                held = await caches(client, args.worker_metrics)
                live = await realtime_metrics(client, args.realtime_metrics) if args.realtime_ws else {}
                sample = {"t": round(now - started, 1), "answered": sum(counts.values()),
                          **{f"rss_mb_{r}": round(rss_mb(p), 1) for r, p in roles.items()},
                          **{f"worker_{k}_mb": v for k, v in memory_kinds(roles["worker"]).items()},
                          **{f"{t}_{k}": v for t, kv in rows.items() for k, v in kv.items()},
                          **{f"worker_cache_{name}": n for name, n in held.items()},
                          **{f"realtime_{name}": n for name, n in live.items()},
                          **{f"received_{name}": n for name, n in events.items()}}  # fmt: skip
                samples.append(sample)
                print(json.dumps(sample), file=sys.stderr)
                next_sample += args.every
            await asyncio.sleep(0.005)
        await asyncio.gather(*pending, return_exceptions=True)
        if listening:
            await asyncio.sleep(5)  # the last writes' events reach the subscribers
        for task in listening:
            task.cancel()
        await asyncio.gather(*listening, return_exceptions=True)
        return {"counts": counts, "offered": sent, "samples": samples, "imports": imports, "events": events}


def summary(result: dict[str, Any], roles: list[str], warm_up: float | None = None) -> str:
    samples = result["samples"]
    warm = samples[len(samples) // 3] if warm_up is None else next(s for s in samples if s["t"] >= warm_up)
    last = samples[-1]
    minutes = max((last["t"] - warm["t"]) / 60, 1e-9)
    lines = ["| what | after warm-up | end | growth after warm-up |", "|---|---|---|---|"]
    for role in roles:
        a, b = warm[f"rss_mb_{role}"], last[f"rss_mb_{role}"]
        lines.append(f"| {role} RSS (MB) | {a:.1f} | {b:.1f} | {(b - a) / minutes:+.2f} MB/min |")
    for table in ("outbox", "processed_tasks", "transactions"):
        a, b = warm[f"{table}_rows"], last[f"{table}_rows"]
        lines.append(f"| {table} rows | {a:,} | {b:,} | {(b - a) / minutes:+,.0f} rows/min |")
    done = last.get("imports_completed", 0)
    lines.append(f"| imports completed | {warm.get('imports_completed', 0):,} | {done:,} of {len(result['imports'])}"
                 f" accepted | task queue at the end: {last.get('task_queue_rows', 0):,} tasks,"
                 f" oldest {last.get('task_queue_oldest_s', 0)} s |")  # fmt: skip
    if "realtime_deliveries" in last:
        lines.append(f"| realtime deliveries | {warm['realtime_deliveries']:,} | {last['realtime_deliveries']:,} |"
                     f" {last.get('realtime_connections', 0)} connections open, {last.get('realtime_gaps', 0)} gaps,"
                     f" {last.get('realtime_slow_disconnects', 0)} slow-client disconnects |")  # fmt: skip
        lines.append(f"\nevents received by the subscribers: {json.dumps(result.get('events', {}))}")
    seconds = last["t"] or 1
    lines.append(f"\nanswered {last['answered']:,} of {result['offered']:,} offered requests"
                 f" ({last['answered'] / seconds:.0f}/s); {json.dumps(result['counts'])};"
                 f" imports (status) {result['imports']}")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--rate", type=float, default=300.0, help="requests offered per second")
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--import-every", type=float, default=20.0)
    parser.add_argument("--import-rows", type=int, default=2000)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--retention", type=int, default=60, help="seconds between pruning rounds")
    parser.add_argument("--warm-up", type=float, default=None,
                        help="seconds of warm-up in the table (default: the first third)")  # fmt: skip
    parser.add_argument("--worker-env", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable for the worker role only (e.g. MALLOC_ARENA_MAX=2)")  # fmt: skip
    parser.add_argument("--logs", type=Path, default=None, help="a directory for each role's output (<role>.log)")
    parser.add_argument("--realtime", action="store_true",
                        help="add redis-server and valorize realtime with WebSocket subscribers")  # fmt: skip
    parser.add_argument("--subscribers", type=int, default=2, help="WebSocket subscribers per tenant (--realtime)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rate, args.tenants, args.import_every, args.import_rows = 60, 100.0, 5, 10.0, 200
        args.every, args.retention = 5.0, 10
    out = args.output or Path(__file__).parent / "results" / ("soak-quick.json" if args.quick else "soak.json")
    pg = EmbeddedPostgres(tempfile.mkdtemp(prefix="vz-soak-"), delete_on_stop=True)
    url = pg.start()
    print(json.dumps({"database": url}), file=sys.stderr)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    redis = RedisServer().start() if args.realtime else None
    try:
        asyncio.run(migrate(url))
        api_port, worker_port = free_port(), free_port()
        args.worker_metrics = f"http://127.0.0.1:{worker_port}/metrics"
        env = {**os.environ, "VALORIZE_DATABASE_URL": url, "VALORIZE_RUN_MIGRATIONS": "false",
               "VALORIZE_WORKER_URL": f"http://127.0.0.1:{worker_port}", "VALORIZE_WORKER_SECRET": SECRET,
               "VALORIZE_RATE_LIMIT_PER_TOKEN": "1000000000/minute", "VALORIZE_LOG_LEVEL": "warning",
               "VALORIZE_RETAIN_EVENTS_HOURS": "0", "VALORIZE_RETENTION_INTERVAL": str(args.retention),
               "PYTHONWARNINGS": "ignore"}  # fmt: skip
        args.realtime_ws = args.realtime_metrics = ""
        if redis is not None:
            env = {**env, "VALORIZE_REDIS_URL": redis.url, "VALORIZE_PUSHER_SECRET": PUSHER_SECRET,
                   "VALORIZE_PUSHER_KEY": PUSHER_KEY}  # fmt: skip
        if args.logs:
            args.logs.mkdir(parents=True, exist_ok=True)
        worker_env = {**env, **dict(e.split("=", 1) for e in args.worker_env)}
        procs["worker"] = start("worker", worker_port, worker_env, args.logs)
        procs["api"] = start("api", api_port, env, args.logs)
        if redis is not None:
            realtime_port = free_port()
            procs["realtime"] = start("realtime", realtime_port, env, args.logs)
            args.realtime_ws = f"ws://127.0.0.1:{realtime_port}"
            args.realtime_metrics = f"http://127.0.0.1:{realtime_port}/metrics"
        result = asyncio.run(load(f"http://127.0.0.1:{api_port}", args, {r: p.pid for r, p in procs.items()}, url))
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        pg.stop()
        if redis is not None:
            redis.stop()
    hidden = ("output", "worker_metrics", "logs", "realtime_ws", "realtime_metrics")
    result["settings"] = {k: v for k, v in vars(args).items() if k not in hidden}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(summary(result, list(procs), args.warm_up))


if __name__ == "__main__":
    main()
