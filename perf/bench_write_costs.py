"""What one ``POST /api/transactions`` costs on PostgreSQL, beside its bare floor, in one run.

    python perf/bench_write_costs.py [--writes 2000] [--quick] [--output FILE]

Embedded PostgreSQL; the API in-process under Litestar's ``TestClient`` (``valorize api``'s
wiring from the container: token cache, read cache, relay, local task queue), then the *floor*:
a one-route Litestar app, in the same harness, that decodes the same body with msgspec and runs
only the statements a write needs (``BEGIN`` and the tenant setting, the transaction and its
split, the balance, one outbox row, ``COMMIT``) in one psycopg pipeline. CPU, not time, because
the machine is shared:

* **API CPU per write**: this process's CPU seconds (``time.process_time``, every thread; the
  test client's own HTTP work is in both rows, so the difference is ours);
* **PostgreSQL CPU per write**: user + system CPU of every client backend of the database
  (``/proc/<pid>/stat``), the pool's and the relay's;
* **write transactions per write**: transaction ids taken (every transaction that wrote takes
  one; read-only ones, such as token lookups, take none).

Writes are spread over 10 tenants of one account each; no category is given, so the categorizer
runs (rules, payee memory, neighbours). Then a cache miss: ``GET /api/transactions?limit=50`` of
one account with the read cache off, beside the floor's route running the project's own page
query; and a cache hit (the same pages again, cache on) beside the floor route answering with
the bytes it kept for the page. Results: a Markdown table and ``perf/results/``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec
import psycopg
from bench_write_path import TENANTS, signed_up_tenants
from litestar import Litestar, Request, Response, get, post
from litestar.testing import TestClient
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from valorize_adapters.postgres import EmbeddedPostgres, migrate
from valorize_adapters.postgres.rows import TRANSACTION_COLUMNS
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings


class _Body(msgspec.Struct):
    account_id: uuid.UUID
    booked_on: date
    description: str
    amount: str


def _backend_cpu(admin: psycopg.Connection[Any]) -> tuple[float, int]:
    """CPU seconds of the database's client backends (not ``admin``'s) and the last transaction
    id (every transaction that wrote took one; this read takes one too)."""
    rows = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
    ).fetchall()
    total = 0
    for (pid,) in rows:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    (xacts,) = admin.execute("SELECT txid_current()").fetchone() or (0,)
    return total / os.sysconf("SC_CLK_TCK"), int(xacts)


@contextmanager
def _costs(admin: psycopg.Connection[Any], writes: int, into: dict[str, float]) -> Iterator[None]:
    pg_before, xacts_before = _backend_cpu(admin)
    started = time.process_time()
    yield
    api = time.process_time() - started
    time.sleep(0.3)  # the relay's last mark
    pg_after, xacts_after = _backend_cpu(admin)
    into["api_cpu_ms"] = api / writes * 1000
    into["pg_cpu_ms"] = (pg_after - pg_before) / writes * 1000
    into["transactions"] = (xacts_after - xacts_before - 1) / writes  # the first read's own id


def _write_all(client: TestClient[Any], tenants: list[tuple[dict[str, str], str]], writes: int) -> None:
    for n in range(writes):
        headers, account = tenants[n % TENANTS]
        body = {"account_id": account, "booked_on": "2026-03-01", "description": f"Padaria {n % 50}", "amount": "-1.25"}
        response = client.post("/api/transactions", json=body, headers=headers)
        assert response.status_code == 201, response.text


def _read_all(client: TestClient[Any], tenants: list[tuple[dict[str, str], str]], reads: int) -> None:
    for n in range(reads):
        headers, account = tenants[n % TENANTS]
        response = client.get(f"/api/transactions?limit=50&account_id={account}", headers=headers)
        assert response.status_code == 200, response.text


def project(url: str, admin: psycopg.Connection[Any], writes: int) -> dict[str, dict[str, float]]:
    """``valorize api``'s write, as the container wires it; then its list page, uncached."""
    container = Container()
    container.settings.override(
        Settings(backend="postgres", database_url=url, db_pool_min=2, db_pool_max=2, log_json=True)
    )
    result: dict[str, float] = {}
    with TestClient(create_app(container)) as client:
        tenants = [(headers, account) for headers, _, account in signed_up_tenants(client)]
        _write_all(client, tenants, min(writes, 200))  # warm up
        with _costs(admin, writes, result):
            _write_all(client, tenants, writes)
        hit: dict[str, float] = {}
        _read_all(client, tenants, 100)  # every tenant's page is cached now
        with _costs(admin, writes, hit):
            _read_all(client, tenants, writes)
    missed: dict[str, float] = {}
    container = Container()
    container.settings.override(
        Settings(backend="postgres", database_url=url, db_pool_min=2, db_pool_max=2, log_json=True, cache=False)
    )
    with TestClient(create_app(container)) as client:
        _read_all(client, tenants, 100)  # warm up
        with _costs(admin, writes, missed):
            _read_all(client, tenants, writes)
    return {"write": result, "hit": hit, "miss": missed}


def _floor_app(url: str) -> tuple[Litestar, Callable[[], Any]]:
    state: dict[str, Any] = {}

    @post("/api/transactions", status_code=201)
    async def create(request: Request[Any, Any, Any]) -> bytes:
        body = msgspec.json.decode(await request.body(), type=_Body)
        conn: psycopg.AsyncConnection[Any] = state["conn"]
        tenant = state["tenants"][body.account_id]
        amount = -125
        tx_id, now = uuid.uuid4(), datetime.now(UTC)
        async with conn.pipeline():
            await conn.execute("BEGIN", prepare=False)
            await conn.execute("SELECT set_config('valorize.tenant_id', %s, true)", (str(tenant),))
            await conn.execute(
                "INSERT INTO transactions (search, tenant_id, id, account_id, booked_on, description, payee,"
                " amount_minor, currency, exponent, status, source, tags, cat_source, cat_confidence,"
                " cat_explanation, created_at, updated_at)"
                " VALUES (array_to_tsvector(%s::text[]), %s, %s, %s, %s, %s, %s, %s, 'BRL', 2, 'posted', 'manual',"
                " '{}', 'none', 0, '', %s, %s)",
                ([body.description.lower()], tenant, tx_id, body.account_id, body.booked_on, body.description,
                 body.description, amount, now, now),
            )  # fmt: skip
            await conn.execute(
                "INSERT INTO splits (tenant_id, transaction_id, position, amount_minor, memo)"
                " VALUES (%s, %s, 0, %s, '')",
                (tenant, tx_id, amount),
            )
            cur = await conn.execute(
                "UPDATE accounts SET balance_minor = balance_minor + %s WHERE tenant_id = %s AND id = %s"
                " RETURNING balance_minor",
                (amount, tenant, body.account_id),
            )
            await conn.execute(
                "INSERT INTO outbox (tenant_id, id, name, occurred_at, payload) VALUES (%s, %s, %s, %s, %s)",
                (tenant, uuid.uuid4(), "transaction.created", now, Jsonb({"transaction_id": str(tx_id)})),
            )
            await conn.execute("COMMIT", prepare=False)
        row = await cur.fetchone()
        return msgspec.json.encode({"id": tx_id, "balance_minor": row[0] if row else None})

    @get("/api/transactions")
    async def page(request: Request[Any, Any, Any], account_id: uuid.UUID, limit: int = 50) -> Response[bytes]:
        if state.get("cached"):  # a hit: the bytes kept for the page, nothing else looked at
            kept: bytes | None = state.setdefault("pages", {}).get(account_id)
            if kept is not None:
                return Response(kept, media_type="application/json")
        conn: psycopg.AsyncConnection[Any] = state["conn"]
        tenant = state["tenants"][account_id]
        async with conn.pipeline():
            await conn.execute("BEGIN", prepare=False)
            await conn.execute("SELECT set_config('valorize.tenant_id', %s, true)", (str(tenant),))
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT " + TRANSACTION_COLUMNS + " FROM transactions t WHERE t.tenant_id = %s AND t.account_id = %s"
                " ORDER BY t.booked_on DESC, t.id DESC LIMIT %s",
                (tenant, account_id, limit + 1),
            )
            await conn.execute("COMMIT", prepare=False)
        rows = await cur.fetchall()
        body = msgspec.json.encode({"items": rows[:limit]})
        state.setdefault("pages", {})[account_id] = body
        return Response(body, media_type="application/json")

    async def start() -> None:
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
        await conn.execute("SET ROLE valorize_app")
        state["conn"] = conn

    async def stop() -> None:
        await state["conn"].close()

    return Litestar([create, page], on_startup=[start], on_shutdown=[stop]), lambda: state


def floor_tenants(admin: psycopg.Connection[Any]) -> dict[uuid.UUID, uuid.UUID]:
    """``TENANTS`` tenants, each with a checking account, inserted as the floor needs them (no
    API, no user): account id -> tenant id."""
    tenants = {}
    for _ in range(TENANTS):
        tenant, account = uuid.uuid4(), uuid.uuid4()
        admin.execute("INSERT INTO tenants (id, name, created_at) VALUES (%s, 'floor', now())", (tenant,))
        admin.execute(
            "INSERT INTO accounts (tenant_id, id, name, kind, currency, exponent, opening_minor, balance_minor,"
            " opened_on, archived, created_at) VALUES (%s, %s, 'Checking', 'checking', 'BRL', 2, 0, 0,"
            " '2026-01-01', false, now())",
            (tenant, account),
        )
        tenants[account] = tenant
    return tenants


def floor(url: str, admin: psycopg.Connection[Any], writes: int) -> dict[str, dict[str, float]]:
    """The bare stack: Litestar, msgspec, one psycopg pipeline per write, and per page read
    (the project's own page query, its rows encoded by msgspec as they come)."""
    tenants = floor_tenants(admin)
    app, state = _floor_app(url)
    state()["tenants"] = tenants
    accounts = [({}, str(a)) for a in tenants]
    result: dict[str, float] = {}
    missed: dict[str, float] = {}
    with TestClient(app) as client:
        _write_all(client, accounts, min(writes, 200))
        with _costs(admin, writes, result):
            _write_all(client, accounts, writes)
        _read_all(client, accounts, 100)
        with _costs(admin, writes, missed):
            _read_all(client, accounts, writes)
        hit: dict[str, float] = {}
        state()["cached"] = True
        _read_all(client, accounts, 100)
        with _costs(admin, writes, hit):
            _read_all(client, accounts, writes)
    return {"write": result, "hit": hit, "miss": missed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    writes = 50 if args.quick else args.writes
    with tempfile.TemporaryDirectory() as data:
        server = EmbeddedPostgres(Path(data), delete_on_stop=True)
        url = server.start()
        try:
            import asyncio

            asyncio.run(migrate(url))
            with psycopg.connect(url, autocommit=True) as admin:
                ours = project(url, admin, writes)
                bare = floor(url, admin, writes)
        finally:
            server.stop()
    result = {"writes": writes, "project": ours, "floor": bare}
    name = "write_costs-quick.json" if args.quick else "write_costs.json"
    output = args.output or Path(__file__).parent / "results" / name
    output.write_text(json.dumps(result, indent=2) + "\n")
    print("| per request | project | floor | project ÷ floor |")
    print("|---|---|---|---|")
    for kind, request in (("write", "POST /api/transactions"), ("miss", "GET /api/transactions, uncached"),
                          ("hit", "GET /api/transactions, cached")):  # fmt: skip
        for key, label in (("api_cpu_ms", "API CPU (ms)"), ("pg_cpu_ms", "PostgreSQL CPU (ms)"),
                           ("transactions", "write transactions")):  # fmt: skip
            mine, base = ours[kind][key], bare[kind][key]
            ratio = mine / base if base else float("nan")
            print(f"| {request}: {label} | {mine:.3f} | {base:.3f} | {ratio:.2f}× |")


if __name__ == "__main__":
    main()
