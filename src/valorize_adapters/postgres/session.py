"""A tenant-bound database session: one connection, one transaction at a time."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, LiteralString
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from valorize_adapters.postgres.errors import domain_error
from valorize_adapters.postgres.tracing import statement_span

__all__ = ["Session"]

Row = dict[str, Any]

_SCOPE = re.compile("[a-z_]*")


class Session:
    """Runs statements for one tenant, setting ``valorize.tenant_id`` at the start of each
    transaction so row-level security sees the same tenant as the explicit filters."""

    def __init__(
        self, conn: psycopg.AsyncConnection[Any], tenant_id: UUID | None, scope: str = "", *, snapshot: bool = False
    ) -> None:
        """``snapshot``: a read-only transaction whose statements all see one snapshot
        (``REPEATABLE READ``), for reads that must be consistent across statements (audits)."""
        if not _SCOPE.fullmatch(scope):
            raise ValueError(f"a session scope is a lower-case word, not {scope!r}")
        self.conn = conn
        self.tenant_id = tenant_id
        # Inlined, so both are checked here: a UUID's text and a lower-case word need no quoting.
        tenant = "" if tenant_id is None else str(UUID(str(tenant_id)))
        begin = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY" if snapshot else "BEGIN"
        self._begin = (
            f"{begin}; SELECT set_config('valorize.tenant_id', '{tenant}', true),"
            f" set_config('valorize.scope', '{scope}', true)"
        ).encode()
        self._begun = False

    async def begin(self) -> None:
        """Start the transaction and set the tenant (idempotent), in one round trip.

        The session owns the transaction's boundaries: ``BEGIN`` and the settings go together
        as one simple-protocol query (a tenant id and a scope word are safe to inline), where
        psycopg's transaction mode would send its own ``BEGIN`` first and cost a round trip.
        """
        if not self._begun:
            if not self.conn.autocommit:
                # Only a flag on the client: the connection is idle between transactions.
                await self.conn.set_autocommit(True)
            try:
                await self.conn.execute(self._begin)
            except Exception:
                await self.conn.rollback()
                raise
            self._begun = True

    @asynccontextmanager
    async def planner_settings(self) -> AsyncIterator[None]:
        """A savepoint that is always rolled back, for reads that need ``SET LOCAL`` settings.

        Settings made inside cannot leak into the unit's other statements; the tenant setting
        stays in the outer transaction.
        """
        await self.begin()
        async with self.conn.transaction(force_rollback=True):
            yield

    async def fetch(
        self, query: LiteralString | sql.Composed, params: Sequence[Any] | dict[str, Any] = ()
    ) -> list[Row]:
        """All rows of a query, as dicts."""
        await self.begin()
        span = statement_span(query)
        try:
            async with self.conn.cursor(row_factory=dict_row) as cur:
                await cur.execute(query, params)
                # Whether it returned rows, from the result itself: ``cur.description`` would
                # build a Column object per column first (a tenth of a list page's CPU).
                result = cur.pgresult
                return await cur.fetchall() if result is not None and result.nfields else []
        except psycopg.Error as exc:
            raise (domain_error(exc) or exc) from exc
        finally:
            if span is not None:
                span.end()

    async def fetch_in_turn(
        self, first: LiteralString, first_params: Sequence[Any], then: LiteralString, then_params: Sequence[Any]
    ) -> list[Row]:
        """Run ``first`` and then ``then`` in one pipelined round trip; ``then``'s rows.

        The server runs them one after the other, each with its own snapshot: when ``first``
        takes locks (and waits for them), ``then`` sees what the lock holders committed.
        """
        await self.begin()
        try:
            async with self.conn.pipeline() as pipeline, self.conn.cursor(row_factory=dict_row) as cur:
                await cur.execute(first, first_params)
                async with self.conn.cursor(row_factory=dict_row) as rows:
                    await rows.execute(then, then_params)
                    await pipeline.sync()
                    return await rows.fetchall()
        except psycopg.Error as exc:
            raise (domain_error(exc) or exc) from exc

    async def fetch_one(self, query: LiteralString, params: Sequence[Any] | dict[str, Any] = ()) -> Row | None:
        """The first row, or ``None``."""
        rows = await self.fetch(query, params)
        return rows[0] if rows else None

    async def execute(self, query: LiteralString | sql.Composed, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Run a statement; return the number of rows it touched."""
        await self.begin()
        span = statement_span(query)
        try:
            async with self.conn.cursor() as cur:
                await cur.execute(query, params)
                return cur.rowcount
        except psycopg.Error as exc:
            raise (domain_error(exc) or exc) from exc
        finally:
            if span is not None:
                span.end()

    async def execute_many(self, query: LiteralString, rows: Sequence[Sequence[Any]]) -> None:
        """Run a statement for many parameter rows in one pipelined round trip.

        One row goes as a plain statement: psycopg's pipeline costs ~0.1 ms of CPU to set up,
        which a single row (a new transaction, its one split) does not repay.
        """
        if not rows:
            return
        await self.begin()
        try:
            async with self.conn.cursor() as cur:
                if len(rows) == 1:
                    await cur.execute(query, rows[0])
                else:
                    await cur.executemany(query, rows)
        except psycopg.Error as exc:
            raise (domain_error(exc) or exc) from exc

    async def commit(self) -> None:
        """Commit; deferred constraints (the splits trigger) are checked here."""
        try:
            await self.conn.commit()
        except psycopg.Error as exc:
            self._begun = False
            raise (domain_error(exc) or exc) from exc
        self._begun = False

    async def rollback(self) -> None:
        """Roll back whatever is open."""
        await self.conn.rollback()
        self._begun = False
