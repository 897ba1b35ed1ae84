"""PostgreSQL's CPU and WAL per ``POST /api/transactions``, before and after a schema migration,
beside the floor's write, in one run.

    python perf/bench_write_schema.py [--since 35] [--candidate FILE.sql] [--writes 2000] [--quick] [--output FILE]
    python perf/bench_write_schema.py --since 9999 --every-follow-up    # the follow-ups' A/B, same schema

One embedded server, a database per side: *before* has the migrations older than ``--since``,
*after* has them all — and, with ``--candidate``, that SQL on top (a change tried before it
becomes a migration: ``--since 9999 --candidate x.sql`` compares today's schema with today's
plus x).

Four sides write in the same event loop, in alternating blocks of 50 requests (the
order turns every block), so they share whatever the machine does meanwhile: the project's write
(``valorize api``'s wiring, driven through the ASGI app as ``profile_requests.py`` does; no
category given, so the categorizer runs) and the floor's (``bench_write_costs.py``'s: the row, its
split, the balance, one outbox row in one pipeline) on each database. Per side:

* **PostgreSQL CPU per write**: user + system CPU of that database's client backends
  (``/proc/<pid>/stat``; the pool's, the relay's, the floor's connection);
* **WAL bytes per write**: ``pg_waldump`` over the measured range, each record counted for the
  database its blocks belong to (commit records, ~40 bytes each, name none and are left out);
  its record bytes apart from the full-page images, which depend on when a checkpoint fell.

Background processes (WAL writer, checkpointer, autovacuum) are in neither number.

``--every-follow-up``: *before*'s project writes its follow-up tasks as it did before they were
shared and conditional — each event's own (``follow_ups`` of the event alone: an evaluation
and a fan-out per event), every one written whatever the tenant has — so that, with
``--since 9999``, the two project sides differ only in which task rows a write adds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import psycopg
from bench_write_costs import _floor_app, floor_tenants
from litestar import Litestar
from profile_requests import TENANTS, _started, call, every_follow_up, signed_up

from valorize_adapters.postgres import EmbeddedPostgres, migrate
from valorize_adapters.postgres.migrate import available_migrations
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings

BLOCK = 50
_SIZES = re.compile(r"len \(rec/tot\): *(\d+)/ *(\d+)")
_REL = re.compile(r"rel \d+/(\d+)/(\d+)")
_KIND = re.compile(r"rmgr: (\w+) .*desc: ([A-Z_+0-9]+)")
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


def _lsn(admin: psycopg.Connection[Any]) -> str:
    (lsn,) = admin.execute("SELECT pg_current_wal_lsn()::text").fetchone() or ("0/0",)
    return str(lsn)


def _wal_by_database(
    admin: psycopg.Connection[Any], start: str, end: str, urls: list[str]
) -> dict[int, dict[str, int]]:
    """WAL written between two LSNs, by database oid: record bytes (``records``), full-page-image
    bytes (``images``) and record bytes by kind (``Heap/INSERT`` …) and relation."""
    import pgserver  # type: ignore[import-untyped]

    (data,) = admin.execute("SHOW data_directory").fetchone() or ("",)
    waldump = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_waldump"
    dump = subprocess.run(
        [str(waldump), "-p", f"{data}/pg_wal", "-s", start, "-e", end], capture_output=True, text=True, check=True
    ).stdout
    names: dict[tuple[int, int], str] = {}
    for url in urls:
        with psycopg.connect(url) as conn:
            query = "SELECT d.oid::int, c.relfilenode::int, c.relname FROM pg_class c, pg_database d"
            query += " WHERE c.relfilenode <> 0 AND d.datname = current_database()"
            names.update({(db, node): name for db, node, name in conn.execute(query).fetchall()})
    found: dict[int, dict[str, int]] = {}
    for line in dump.splitlines():
        sizes, rel, kind = _SIZES.search(line), _REL.search(line), _KIND.search(line)
        if sizes and rel and kind:
            record, total = int(sizes[1]), int(sizes[2])
            counts = found.setdefault(int(rel[1]), {"records": 0, "images": 0})
            counts["records"] += record
            counts["images"] += total - record
            key = f"{kind[1]}/{kind[2]} {names.get((int(rel[1]), int(rel[2])), rel[2])}"
            counts[key] = counts.get(key, 0) + record
    return found


def _floor(url: str) -> tuple[Litestar, Tenants]:
    app, state = _floor_app(url)
    with psycopg.connect(url, autocommit=True) as admin:
        accounts = floor_tenants(admin)
    state()["tenants"] = accounts
    return app, [((), str(account)) for account in accounts]


async def _writes(app: Litestar, tenants: Tenants, first: int, count: int) -> None:
    for n in range(first, first + count):
        headers, account = tenants[n % TENANTS]
        body = {"account_id": account, "booked_on": "2026-03-01", "description": f"Padaria {n % 50}", "amount": "-1.25"}
        status, answer = await call(app, "POST", "/api/transactions", json.dumps(body).encode(), headers)
        assert status == 201, answer


async def run(
    server_url: str, databases: dict[str, str], writes: int, every: frozenset[str] = frozenset()
) -> dict[str, dict[str, Any]]:
    """Alternating blocks of the sides (``databases``: side → its database's URL, a side whose
    name starts with "floor" runs the floor); CPU (ms) and WAL bytes per write of each."""
    sides: dict[str, tuple[Litestar, Tenants, str]] = {}
    lifespans: list[Any] = []
    for side, url in databases.items():
        if side.startswith("floor"):
            floor_app, floor_tenants = _floor(url)
            lifespans.append(await _started(floor_app))
            sides[side] = (floor_app, floor_tenants, url)
        else:
            sides[side] = (*await _project_started(url, lifespans, side in every), url)
    spent = dict.fromkeys(sides, 0.0)
    names = list(sides)
    with psycopg.connect(server_url, autocommit=True) as admin:
        for side in names:  # warm-up: prepared statements, caches, the first pages of every index
            app, tenants, _ = sides[side]
            await _writes(app, tenants, 0, 200)
        await asyncio.sleep(0.3)
        start = _lsn(admin)
        blocks = max(1, writes // BLOCK)
        for n in range(blocks):
            for side in names[n % len(names) :] + names[: n % len(names)]:
                app, tenants, url = sides[side]
                database = str(psycopg.conninfo.conninfo_to_dict(url)["dbname"])
                cpu = _backend_cpu(admin, database)
                await _writes(app, tenants, n * BLOCK, BLOCK)
                await asyncio.sleep(0.12)  # the relay's mark (one per 50 ms window)
                spent[side] += _backend_cpu(admin, database) - cpu
        wal = _wal_by_database(admin, start, _lsn(admin), [url for _, _, url in sides.values()])
        oids = {
            side: admin.execute(
                "SELECT oid FROM pg_database WHERE datname = %s", (psycopg.conninfo.conninfo_to_dict(url)["dbname"],)
            ).fetchone()
            for side, (_, _, url) in sides.items()
        }
    for inbox, lifespan in lifespans:
        await inbox.put({"type": "lifespan.shutdown"})
        await lifespan
    count = blocks * BLOCK
    results = {}
    for side in names:
        oid = oids[side]
        counts = wal.get(int(oid[0]) if oid else 0, {"records": 0, "images": 0})
        results[side] = {
            "pg_cpu_ms": spent[side] / count * 1000,
            "wal_bytes": counts.pop("records") / count,
            "wal_fpi_bytes": counts.pop("images") / count,
            "wal_bytes_by_kind": {key: round(value / count, 1) for key, value in sorted(counts.items())},
        }
    return results


async def _project_started(url: str, lifespans: list[Any], every: bool = False) -> tuple[Litestar, Tenants]:
    container = Container()
    container.settings.override(
        Settings(
            backend="postgres",
            database_url=url,
            db_pool_min=2,
            db_pool_max=2,
            log_json=True,
            run_migrations=False,  # "before" stays before
        )
    )
    container_app = create_app(container)
    lifespans.append(await _started(container_app))
    if every:  # the factory every unit of the app is opened from
        container_app.state.runtime.app.ports.uow.follow_ups = every_follow_up
    return container_app, await signed_up(container_app)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--since", type=int, default=35, help="the first migration 'after' has and 'before' lacks")
    parser.add_argument("--candidate", type=Path, help="SQL run on 'after' once it is migrated")
    parser.add_argument("--writes", type=int, default=2000, help="measured writes per side")
    parser.add_argument("--quick", action="store_true", help="100 writes per side")
    parser.add_argument("--every-follow-up", action="store_true", help="'before' writes every follow-up, one per event")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "write_schema.json")
    args = parser.parse_args()
    writes = 100 if args.quick else args.writes
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as data:
        server = EmbeddedPostgres(Path(data), delete_on_stop=True)
        url = server.start()
        try:
            every = available_migrations()
            databases = {}
            for side in ("project, before", "floor, before", "project, after", "floor, after"):
                name = "bench_" + side.replace(", ", "_")
                with psycopg.connect(url, autocommit=True) as admin:
                    admin.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'")
                databases[side] = psycopg.conninfo.make_conninfo(url, dbname=name)
                after = side.endswith("after")
                asyncio.run(migrate(databases[side], every if after else [m for m in every if m.version < args.since]))
                if after and args.candidate:
                    with psycopg.connect(databases[side], autocommit=True) as admin:
                        admin.execute(args.candidate.read_text().encode())
            legacy = frozenset({"project, before"} if args.every_follow_up else ())
            results = asyncio.run(run(url, databases, writes, legacy))
        finally:
            server.stop()
    print(f"| per write ({writes} each, blocks of {BLOCK}) | PostgreSQL CPU | WAL bytes | and page images |")
    print("|---|---|---|---|")
    for side, numbers in results.items():
        print(
            f"| {side} | {numbers['pg_cpu_ms']:.3f} ms | {numbers['wal_bytes']:.0f} | {numbers['wal_fpi_bytes']:.0f} |"
        )
    for schema in ("before", "after"):
        project, floor = results[f"project, {schema}"], results[f"floor, {schema}"]
        print(
            f"{schema}: project ÷ floor, PostgreSQL CPU {project['pg_cpu_ms'] / floor['pg_cpu_ms']:.2f}×,"
            f" WAL {project['wal_bytes'] / floor['wal_bytes']:.2f}×"
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    report = {"since": args.since, "candidate": str(args.candidate or ""), "writes": writes,
              "every_follow_up_before": args.every_follow_up, "results": results}  # fmt: skip
    args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
