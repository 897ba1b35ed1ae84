"""PostgreSQL's CPU and WAL per ``POST /api/transactions``, before and after a schema migration,
beside the floor's write, in one run.

    python perf/bench_write_schema.py [--since 35] [--writes 2000] [--quick] [--output FILE]

One embedded server, two databases: *before* has the migrations older than ``--since``, *after*
has them all. Four sides write in the same event loop, in alternating blocks of 50 requests (the
order turns every block), so they share whatever the machine does meanwhile: the project's write
(``valorize api``'s wiring, driven through the ASGI app as ``profile_requests.py`` does; no
category given, so the categorizer runs) and the floor's (``bench_write_costs.py``'s: the row, its
split, the balance, one outbox row in one pipeline) on each database. Per side:

* **PostgreSQL CPU per write**: user + system CPU of that database's client backends
  (``/proc/<pid>/stat``; the pool's, the relay's, the floor's connection);
* **WAL bytes per write**: ``pg_current_wal_lsn()`` before and after each block (blocks run one
  at a time; each ends after its relay's last mark).

Background processes (WAL writer, checkpointer, autovacuum) are in neither number.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import psycopg
from bench_write_costs import _floor_app
from litestar import Litestar
from profile_requests import TENANTS, _started, call

from valorize_adapters.postgres import EmbeddedPostgres, migrate
from valorize_adapters.postgres.migrate import available_migrations
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings

BLOCK = 50
Tenants = list[tuple[tuple[tuple[bytes, bytes], ...], str]]


def _backend_cpu(admin: psycopg.Connection[Any], database: str) -> float:
    """CPU seconds so far of ``database``'s client backends (``admin``'s own excepted)."""
    query = (
        "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname = %s"
        " AND pid <> pg_backend_pid()"
    )
    total = 0
    for (pid,) in admin.execute(query, (database,)).fetchall():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _wal(admin: psycopg.Connection[Any]) -> int:
    (lsn,) = admin.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint").fetchone() or (0,)
    return int(lsn)


def _floor(url: str) -> tuple[Litestar, Tenants]:
    app, state = _floor_app(url)
    accounts = {}
    with psycopg.connect(url, autocommit=True) as admin:
        for _ in range(TENANTS):
            tenant, account = uuid.uuid4(), uuid.uuid4()
            admin.execute("INSERT INTO tenants (id, name, created_at) VALUES (%s, 'floor', now())", (tenant,))
            admin.execute(
                "INSERT INTO accounts (tenant_id, id, name, kind, currency, exponent, opening_minor, balance_minor,"
                " opened_on, archived, created_at) VALUES (%s, %s, 'Checking', 'checking', 'BRL', 2, 0, 0,"
                " '2026-01-01', false, now())",
                (tenant, account),
            )
            accounts[account] = tenant
    state()["tenants"] = accounts
    return app, [((), str(account)) for account in accounts]


async def _writes(app: Litestar, tenants: Tenants, first: int, count: int) -> None:
    for n in range(first, first + count):
        headers, account = tenants[n % TENANTS]
        body = {"account_id": account, "booked_on": "2026-03-01", "description": f"Padaria {n % 50}", "amount": "-1.25"}
        status, answer = await call(app, "POST", "/api/transactions", json.dumps(body).encode(), headers)
        assert status == 201, answer


async def run(server_url: str, databases: dict[str, str], writes: int) -> dict[str, dict[str, float]]:
    """Alternating blocks of the four sides; CPU (ms) and WAL bytes per write of each."""
    sides: dict[str, tuple[Litestar, Tenants, str]] = {}
    lifespans: list[Any] = []
    for schema, url in databases.items():
        project = await _project_started(url, lifespans)
        sides[f"project, {schema}"] = (*project, url)
        floor_app, floor_tenants = _floor(url)
        lifespans.append(await _started(floor_app))
        sides[f"floor, {schema}"] = (floor_app, floor_tenants, url)
    spent = {side: {"cpu": 0.0, "wal": 0} for side in sides}
    names = list(sides)
    with psycopg.connect(server_url, autocommit=True) as admin:
        for side in names:  # warm-up: prepared statements, caches, the first pages of every index
            app, tenants, _ = sides[side]
            await _writes(app, tenants, 0, 200)
        blocks = max(1, writes // BLOCK)
        for n in range(blocks):
            for side in names[n % len(names) :] + names[: n % len(names)]:
                app, tenants, url = sides[side]
                database = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
                cpu, wal = _backend_cpu(admin, str(database)), _wal(admin)
                await _writes(app, tenants, n * BLOCK, BLOCK)
                await asyncio.sleep(0.12)  # the relay's mark (one per 50 ms window)
                spent[side]["cpu"] += _backend_cpu(admin, str(database)) - cpu
                spent[side]["wal"] += _wal(admin) - wal
    for inbox, lifespan in lifespans:
        await inbox.put({"type": "lifespan.shutdown"})
        await lifespan
    count = blocks * BLOCK
    return {
        side: {"pg_cpu_ms": spent[side]["cpu"] / count * 1000, "wal_bytes": spent[side]["wal"] / count}
        for side in names
    }


async def _project_started(url: str, lifespans: list[Any]) -> tuple[Litestar, Tenants]:
    container = Container()
    container.settings.override(
        Settings(backend="postgres", database_url=url, db_pool_min=2, db_pool_max=2, log_json=True)
    )
    container_app = create_app(container)
    lifespans.append(await _started(container_app))
    tenants: Tenants = []
    for n in range(TENANTS):
        signup = {"tenant_name": f"Bench {n}", "email": f"{uuid.uuid4().hex}@example.com", "name": "B"}
        _, body = await call(container_app, "POST", "/api/signup", json.dumps(signup).encode())
        headers = ((b"authorization", f"Bearer {json.loads(body)['token']}".encode()),)
        account = {"name": "Checking", "kind": "checking", "currency": "BRL", "opening_balance": "1000.00"}
        _, body = await call(container_app, "POST", "/api/accounts", json.dumps(account).encode(), headers)
        tenants.append((headers, json.loads(body)["id"]))
    return container_app, tenants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--since", type=int, default=35, help="the first migration 'after' has and 'before' lacks")
    parser.add_argument("--writes", type=int, default=2000, help="measured writes per side")
    parser.add_argument("--quick", action="store_true", help="100 writes per side")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "write_schema.json")
    args = parser.parse_args()
    writes = 100 if args.quick else args.writes
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as data:
        server = EmbeddedPostgres(Path(data), delete_on_stop=True)
        url = server.start()
        try:
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute("CREATE DATABASE valorize_after TEMPLATE template0 ENCODING 'UTF8'")
            after = psycopg.conninfo.make_conninfo(url, dbname="valorize_after")
            every = available_migrations()
            asyncio.run(migrate(url, [m for m in every if m.version < args.since]))
            asyncio.run(migrate(after, every))
            results = asyncio.run(run(url, {"before": url, "after": after}, writes))
        finally:
            server.stop()
    print(f"| per write ({writes} each, blocks of {BLOCK} alternating) | PostgreSQL CPU | WAL bytes |")
    print("|---|---|---|")
    for side, numbers in results.items():
        print(f"| {side} | {numbers['pg_cpu_ms']:.3f} ms | {numbers['wal_bytes']:.0f} |")
    for schema in ("before", "after"):
        project, floor = results[f"project, {schema}"], results[f"floor, {schema}"]
        print(
            f"{schema}: project ÷ floor, PostgreSQL CPU {project['pg_cpu_ms'] / floor['pg_cpu_ms']:.2f}×,"
            f" WAL {project['wal_bytes'] / floor['wal_bytes']:.2f}×"
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"since": args.since, "writes": writes, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
