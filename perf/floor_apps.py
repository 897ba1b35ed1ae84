"""The floors under `valorize api`: what the bare stack costs for the same work, under the same server.

* ``bare`` and ``litestar`` (for ``bench_servers.py``): the cached page's bytes served by a bare
  ASGI function and by a one-route Litestar app. The body is read from the file named by
  ``VALORIZE_FLOOR_BODY`` on the first request.
* ``stack`` (a factory, for ``experiments.py``): Litestar, msgspec and a psycopg 3 pool on the
  project's database, with no authentication, middleware, use cases or cache invalidation —
  the three paths of the experiments as cheaply as the stack does them:

  - ``GET /api/transactions?account_id=…&limit=50``: the project's own page query
    (``TRANSACTION_COLUMNS``, newest first) with ``BEGIN``, the tenant setting and ``COMMIT`` in
    one pipeline, the rows encoded by msgspec as they come (a *miss*); with
    ``VALORIZE_CACHE=true`` the bytes of a page already built are answered again (a *hit*);
  - ``POST /api/transactions``: the body decoded by msgspec, then ``BEGIN`` and the tenant
    setting, the row, its split, the balance and one outbox row, ``COMMIT`` — one pipeline.

  ``VALORIZE_DATABASE_URL`` names the database (its owner role: the accounts' tenants are read
  once at startup; requests then run as ``valorize_app`` under row-level security) and
  ``VALORIZE_DB_POOL_MAX`` the pool size (the project's default, 10).
"""

from __future__ import annotations

import functools
import os
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import psycopg
from litestar import Litestar, Request, Response, get, post
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from valorize_adapters.postgres.rows import TRANSACTION_COLUMNS


@functools.cache
def _body() -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = Path(os.environ["VALORIZE_FLOOR_BODY"]).read_bytes()
    return body, [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]


async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Every HTTP request gets the body; nothing else is looked at."""
    if scope["type"] != "http":
        return
    body, headers = _body()
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@get("/api/transactions")
async def _page(limit: int = 50) -> Response[bytes]:
    return Response(content=_body()[0], media_type="application/json")


@get("/ready")
async def _ready() -> dict[str, str]:
    return {"status": "ready"}


litestar = Litestar([_page, _ready])


class _NewTransaction(msgspec.Struct):
    account_id: uuid.UUID
    booked_on: date
    description: str
    amount: str


_PAGE = (
    "SELECT " + TRANSACTION_COLUMNS + " FROM transactions t WHERE t.tenant_id = %s AND t.account_id = %s"
    " ORDER BY t.booked_on DESC, t.id DESC LIMIT %s"
)
_INSERT_TRANSACTION = (
    "INSERT INTO transactions (search, tenant_id, id, account_id, booked_on, description, payee, amount_minor,"
    " currency, exponent, status, source, tags, cat_source, cat_confidence, cat_explanation, created_at, updated_at)"
    " VALUES (array_to_tsvector(%s::text[]), %s, %s, %s, %s, %s, %s, %s, 'BRL', 2, 'posted', 'manual', '{}',"
    " 'none', 0, '', %s, %s)"
)
_INSERT_SPLIT = (
    "INSERT INTO splits (tenant_id, transaction_id, position, amount_minor, memo) VALUES (%s, %s, 0, %s, '')"
)
_MOVE_BALANCE = (
    "UPDATE accounts SET balance_minor = balance_minor + %s WHERE tenant_id = %s AND id = %s RETURNING balance_minor"
)
_INSERT_OUTBOX = "INSERT INTO outbox (tenant_id, id, name, occurred_at, payload) VALUES (%s, %s, %s, %s, %s)"


def stack() -> Litestar:
    """The bare stack's app (granian ``--factory floor_apps:stack``)."""
    url = os.environ["VALORIZE_DATABASE_URL"]
    size = int(os.environ.get("VALORIZE_DB_POOL_MAX", "10"))
    cached = os.environ.get("VALORIZE_CACHE", "true").lower() == "true"
    pages: dict[str, bytes] = {}
    tenants: dict[uuid.UUID, uuid.UUID] = {}
    state: dict[str, AsyncConnectionPool[Any]] = {}

    async def as_app(conn: psycopg.AsyncConnection[Any]) -> None:
        await conn.execute("SET ROLE valorize_app")

    async def start() -> None:
        async with await psycopg.AsyncConnection.connect(url) as owner:
            rows = await (await owner.execute("SELECT id, tenant_id FROM accounts")).fetchall()
        tenants.update((account, tenant) for account, tenant in rows)
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            url, min_size=size, max_size=size, kwargs={"autocommit": True}, configure=as_app, open=False
        )
        await pool.open(wait=True)
        state["pool"] = pool

    async def stop() -> None:
        await state["pool"].close()

    @get("/api/transactions")
    async def page(request: Request[Any, Any, Any], account_id: uuid.UUID, limit: int = 50) -> Response[bytes]:
        key = str(request.url.query)
        if cached and (kept := pages.get(key)) is not None:
            return Response(kept, media_type="application/json")
        tenant = tenants[account_id]
        async with state["pool"].connection() as conn, conn.pipeline():
            await conn.execute("BEGIN", prepare=False)
            await conn.execute("SELECT set_config('valorize.tenant_id', %s, true)", (str(tenant),))
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(_PAGE, (tenant, account_id, limit + 1))
            await conn.execute("COMMIT", prepare=False)
            rows = await cur.fetchall()
        body = msgspec.json.encode({"items": rows[:limit]})
        if cached:
            pages[key] = body
        return Response(body, media_type="application/json")

    @post("/api/transactions", status_code=201)
    async def create(request: Request[Any, Any, Any]) -> Response[bytes]:
        new = msgspec.json.decode(await request.body(), type=_NewTransaction)
        tenant, amount = tenants[new.account_id], int(Decimal(new.amount).scaleb(2))
        tx_id, now = uuid.uuid4(), datetime.now(UTC)
        async with state["pool"].connection() as conn, conn.pipeline():
            await conn.execute("BEGIN", prepare=False)
            await conn.execute("SELECT set_config('valorize.tenant_id', %s, true)", (str(tenant),))
            await conn.execute(
                _INSERT_TRANSACTION,
                ([new.description.lower()], tenant, tx_id, new.account_id, new.booked_on, new.description,
                 new.description, amount, now, now),
            )  # fmt: skip
            await conn.execute(_INSERT_SPLIT, (tenant, tx_id, amount))
            cur = await conn.execute(_MOVE_BALANCE, (amount, tenant, new.account_id))
            await conn.execute(
                _INSERT_OUTBOX,
                (tenant, uuid.uuid4(), "transaction.created", now, Jsonb({"transaction_id": str(tx_id)})),
            )
            await conn.execute("COMMIT", prepare=False)
            row = await cur.fetchone()
        body = {
            "id": tx_id,
            "account_id": new.account_id,
            "amount_minor": amount,
            "balance_minor": row[0] if row else None,
        }
        return Response(msgspec.json.encode(body), media_type="application/json", status_code=201)

    return Litestar([page, create, _ready], on_startup=[start], on_shutdown=[stop])
