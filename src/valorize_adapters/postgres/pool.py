"""The connection pool: every connection in UTC, as the application role, with pgvector types.

Bounded waits: a connection is waited for at most ``wait`` seconds (2 by default) and a connection attempt
takes at most ``connect_timeout``; past either, :class:`Unavailable` (a 503), never a hung request.
"""

from __future__ import annotations

import select
from typing import Any

import msgspec
import psycopg
from pgvector.psycopg import register_vector_async
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool

from valorize_adapters.postgres.errors import unavailable

__all__ = ["APP_ROLE", "BoundedPool", "check_idle_connection", "open_pool"]

APP_ROLE = "valorize_app"
# How long reconnecting keeps backing off (1 s, 2 s, 2 s) before it starts again at 1 s: a server
# back after an outage of any length is reconnected to within about two seconds.
RECONNECT_WINDOW = 5.0


class BoundedPool(AsyncConnectionPool[psycopg.AsyncConnection[Any]]):
    """A pool whose every wait for a connection ends within its ``timeout``: a database that is
    down, restarting or saturated raises :class:`~valorize_core.model.errors.Unavailable`."""

    async def getconn(self, timeout: float | None = None) -> psycopg.AsyncConnection[Any]:  # noqa: ASYNC109 (psycopg_pool's signature)
        try:
            return await super().getconn(timeout)
        except psycopg.Error as exc:
            if (down := unavailable(exc)) is not None:
                raise down from exc
            raise


async def check_idle_connection(conn: psycopg.AsyncConnection[Any]) -> None:
    """Raise if a pooled connection is no longer usable, without a round trip when it is.

    An idle connection has nothing to read: the server speaks only when asked. When a backend
    is terminated (restart, ``pg_terminate_backend``, an idle timeout, a proxy closing it) the
    server sends its goodbye and closes the socket, which makes the socket readable. Only then,
    or when the connection is not idle, does the check pay the server round trip of
    ``check_connection``, which raises for a dead connection so the pool replaces it.
    """
    if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE or _readable(conn.fileno()):
        await AsyncConnectionPool.check_connection(conn)


def _readable(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


async def open_pool(
    conninfo: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    role: str | None = APP_ROLE,
    wait: float = 2.0,
    connect_timeout: int = 2,
) -> BoundedPool:
    """An open pool. ``role``: the role to ``SET ROLE`` to when it exists (``None``: stay as is).
    ``wait``: the longest wait for a connection (seconds); ``connect_timeout``: the longest
    connection attempt (whole seconds, libpq's minimum is 2).

    Connections are checked before being handed out (:func:`check_idle_connection`), so one
    the server dropped is replaced instead of failing the request.
    """

    async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
        await conn.set_autocommit(True)
        await conn.execute("SET TIME ZONE 'UTC'")
        if role is not None:
            exists = await (await conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))).fetchone()
            if exists:
                await conn.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(role)))
        await register_vector_async(conn)
        # json/jsonb values (a page's splits, rule conditions, event payloads) decoded by msgspec:
        # the same values as the standard library's json.loads, in a fraction of the time.
        set_json_loads(msgspec.json.decode, conn)
        # Left in autocommit: a tenant Session sends BEGIN itself, with its settings.

    pool = BoundedPool(
        conninfo,
        kwargs={"connect_timeout": connect_timeout},
        min_size=min_size,
        max_size=max_size,
        configure=configure,
        check=check_idle_connection,
        open=False,
        timeout=wait,
        reconnect_timeout=RECONNECT_WINDOW,
    )
    await pool.open(wait=True)
    return pool
