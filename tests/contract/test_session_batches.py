"""A pipelined batch of the PostgreSQL session goes to the server at once: psycopg's pipeline
would send each statement as it is queued (a ``send`` per statement, each waking the backend),
so the session keeps them in libpq's buffer until the batch's ``Sync`` (docs/postgres.md,
"Round trips"). Counted on psycopg's own pipeline step, which writes what is buffered: it must
run once per batch whatever the batch's size (and this fails if psycopg's private names the
session relies on ever change: its pipeline's step, and its prepared-statement manager, which a
failed round trip of a read-only session clears as psycopg does on a rollback)."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

import psycopg
import psycopg._pipeline_base as pipeline_base
import pytest

from valorize_adapters.postgres import session as session_module
from valorize_adapters.postgres.session import Session
from valorize_core.model.errors import Conflict
from valorize_core.testing.loop import run


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    communicate = pipeline_base.pipeline_communicate

    def counted(pgconn: Any, commands: Any) -> Any:
        calls.append(len(commands))
        return communicate(pgconn, commands)

    monkeypatch.setattr(pipeline_base, "pipeline_communicate", counted)
    return calls


def test_a_batch_is_written_once_whatever_its_size(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> list[list[dict[str, Any]]]:
        conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
        try:
            session = Session(conn, uuid.uuid4())
            calls.clear()
            rows = await session.fetch_together(*((f"SELECT {n} AS n", ()) for n in range(12)))  # type: ignore[misc]
            await session.commit()
            return rows
        finally:
            await conn.close()

    calls = _counting(monkeypatch)
    rows = run(scenario())
    assert [r[0]["n"] for r in rows] == list(range(12))
    # BEGIN, the settings and 12 reads in one write (with the Sync); COMMIT alone, outside a pipeline.
    assert len(calls) == 1, calls


def test_an_error_in_a_batch_still_reaches_the_caller(database_url: str) -> None:
    async def scenario() -> None:
        conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
        try:
            session = Session(conn, uuid.uuid4())
            with pytest.raises(psycopg.errors.DivisionByZero):
                await session.fetch_together(("SELECT 1 AS n", ()), ("SELECT 1 / 0 AS n", ()))
            await session.rollback()
            # the connection is usable again, for a batch and for a single statement
            assert (await session.fetch_together(("SELECT 2 AS n", ()), ("SELECT 3 AS n", ()))) == [
                [{"n": 2}],
                [{"n": 3}],
            ]
            await session.commit()
        finally:
            await conn.close()

    run(scenario())


def test_forgetting_the_prepared_statements_forgets_them_on_both_sides(database_url: str) -> None:
    """After a failed round trip of a read-only session (no ROLLBACK to make psycopg forget),
    the session has psycopg forget the connection's prepared statements and the server
    deallocate them, with psycopg's own rollback mechanism (two internals: the prepared-statement
    manager's ``clear`` and ``maintain_gen``): none is left on the server, and a statement
    psycopg had prepared runs again (prepared anew, not asked for by a name the server dropped)."""

    async def scenario() -> tuple[int, int, list[tuple[int]]]:
        conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
        try:
            query = "SELECT %s::int AS n"
            await conn.execute(query, (1,), prepare=True)
            count = "SELECT count(*) FROM pg_prepared_statements"
            before = (await (await conn.execute(count, prepare=False)).fetchall())[0][0]
            await session_module._forget_prepared(conn)
            after = (await (await conn.execute(count, prepare=False)).fetchall())[0][0]
            again = await (await conn.execute(query, (2,), prepare=True)).fetchall()
            return before, after, again
        finally:
            await conn.close()

    before, after, again = run(scenario())
    assert before == 1
    assert after == 0
    assert again == [(2,)]


def test_a_batch_queues_its_statements_itself_and_unread_ones_share_a_cursor(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pipelined batch queues each statement by psycopg's statement generator, not through
    ``cursor.execute`` (its connection lock and waiting coroutine per statement were a tenth of
    a batch's Python calls), and the statements nobody reads the result of (``BEGIN``, the
    settings, deferred writes) share one plain cursor; the reads keep a cursor each."""
    executed: list[str] = []
    made: list[Any] = []
    execute = psycopg.AsyncCursor.execute
    cursor = psycopg.AsyncConnection.cursor

    async def counted_execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        executed.append(str(query))
        return await execute(self, query, *args, **kwargs)

    def counted_cursor(self: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(kwargs.get("row_factory"))
        return cursor(self, *args, **kwargs)

    async def scenario() -> list[list[dict[str, Any]]]:
        conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
        try:
            await conn.execute("CREATE TEMP TABLE queued (n int)")
            session = Session(conn, uuid.uuid4())
            session.defer("INSERT INTO queued (n) VALUES (%s)", [(1,)])
            session.defer("INSERT INTO queued (n) VALUES (%s)", [(2,)])
            monkeypatch.setattr(psycopg.AsyncCursor, "execute", counted_execute)
            monkeypatch.setattr(psycopg.AsyncConnection, "cursor", counted_cursor)
            rows = await session.fetch_together(("SELECT count(*) AS n FROM queued", ()), ("SELECT 7 AS n", ()))
            monkeypatch.undo()
            await session.commit()
            return rows
        finally:
            await conn.close()

    rows = run(scenario())
    assert rows == [[{"n": 2}], [{"n": 7}]]  # the deferred writes ran first, in the same transaction
    assert executed == []
    # BEGIN, the settings and the two inserts on the session's one cursor for unread results
    # (made once, not per batch); each read on its own (dict rows).
    assert made == [psycopg.rows.dict_row, psycopg.rows.dict_row], made


def test_results_nobody_reads_are_checked_but_not_kept(database_url: str) -> None:
    """The unread statements' cursor keeps no result (no loaders, no row maker set up for it:
    psycopg's ``_set_results``, overridden), yet their errors are raised as every other's."""

    async def scenario() -> tuple[Any, Any]:
        conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
        try:
            await conn.execute("CREATE TEMP TABLE queued (n int PRIMARY KEY)")
            session = Session(conn, uuid.uuid4())
            session.defer("INSERT INTO queued (n) VALUES (%s)", [(1,)])
            assert await session.fetch("SELECT count(*) AS n FROM queued") == [{"n": 1}]
            unread = session._unread
            assert unread is not None
            kept = (unread.pgresult, unread._results)
            session.defer("INSERT INTO queued (n) VALUES (%s)", [(1,)])
            with pytest.raises(Conflict, match="queued_pkey"):  # the unique violation, as the domain's
                await session.fetch("SELECT 1 AS n")
            await session.rollback()
            return kept
        finally:
            await conn.close()

    assert run(scenario()) == (None, [])


def test_a_round_trip_takes_the_connections_lock_once(database_url: str) -> None:
    """psycopg's ``connection.pipeline()`` block took the connection's lock four times per round
    trip (and ran its waiting coroutine on entering); the session drives the pipeline itself,
    under the lock taken once, with one pipeline per session."""
    taken: list[int] = []

    class CountingLock(asyncio.Lock):
        async def acquire(self) -> bool:
            taken.append(1)
            return await super().acquire()

    async def scenario() -> tuple[list[list[dict[str, Any]]], list[Any]]:
        conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
        try:
            conn.lock = CountingLock()
            session = Session(conn, uuid.uuid4())
            first = await session.fetch_together(("SELECT 1 AS n", ()), ("SELECT 2 AS n", ()))
            batches = [getattr(session, "_batch", None)]
            second = await session.fetch_together(("SELECT 3 AS n", ()), ("SELECT 4 AS n", ()))
            batches.append(getattr(session, "_batch", None))
            assert conn._pipeline is None
            assert conn.pgconn.pipeline_status == psycopg.pq.PipelineStatus.OFF
            taken.append(0)  # the two round trips' count ends here; COMMIT's follows
            await session.commit()
            return [*first, *second], batches
        finally:
            await conn.close()

    rows, batches = run(scenario())
    assert rows == [[{"n": 1}], [{"n": 2}], [{"n": 3}], [{"n": 4}]]
    assert taken.index(0) == 2, taken  # BEGIN, settings, two reads · two reads
    assert batches[0] is batches[1] is not None  # one pipeline, made once, reused


def test_an_error_while_queuing_still_ends_the_pipeline(database_url: str) -> None:
    """A parameter psycopg cannot adapt fails while the batch is queued: what was queued before
    it is still sent and answered, as psycopg's own pipeline block does, the error reaches the
    caller, and the connection leaves pipeline mode, usable (executemany rows included)."""

    async def scenario() -> tuple[list[dict[str, Any]], Any]:
        conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
        try:
            await conn.execute("CREATE TEMP TABLE queued (n int)")
            session = Session(conn, uuid.uuid4())
            with pytest.raises(psycopg.ProgrammingError):
                await session.fetch_together(("SELECT 1 AS n", ()), ("SELECT %s AS n", (object(),)))
            status = conn.pgconn.pipeline_status
            await session.rollback()
            session.defer("INSERT INTO queued (n) VALUES (%s)", [(1,), (2,)])  # executemany
            rows = await session.fetch("SELECT sum(n) AS n FROM queued")
            await session.commit()
            return rows, status
        finally:
            await conn.close()

    rows, status = run(scenario())
    assert status == psycopg.pq.PipelineStatus.OFF
    assert rows == [{"n": 3}]


def test_a_statement_that_asks_to_wait_is_waited_for() -> None:
    """The batch's fallback when psycopg's statement generator asks to wait (it does not when the
    batch only queues): what it waits for goes to psycopg's waiting, and the answers back to it."""
    got: list[Any] = []

    def statement() -> Any:
        got.append((yield "readable"))
        got.append((yield "writable"))

    gen = statement()
    first = session_module._run_until_waiting(gen)
    assert first == "readable"
    resumed = session_module._resumed(first, gen)
    assert next(resumed) == "readable"
    assert resumed.send(1) == "writable"
    with pytest.raises(StopIteration):
        resumed.send(2)
    assert got == [1, 2]
    assert session_module._run_until_waiting(iter(())) is None  # type: ignore[arg-type]


def test_begin_and_commit_go_as_psycopgs_own_commands(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``BEGIN`` and ``COMMIT`` (no parameters, never prepared, nobody reads their result) are
    queued as psycopg queues its own (``connection._exec_command``: the same message, no cursor
    work); the other statements go through a cursor. Their errors still reach the caller: a
    deferred constraint fails the ``COMMIT``."""
    through_cursor: list[str] = []
    execute_gen = psycopg.AsyncCursor._execute_gen

    def counted(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        through_cursor.append(str(query).split()[0])
        return execute_gen(self, query, *args, **kwargs)

    async def scenario() -> None:
        conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
        try:
            await conn.execute("CREATE TEMP TABLE queued (n int UNIQUE DEFERRABLE INITIALLY DEFERRED)")
            monkeypatch.setattr(psycopg.AsyncCursor, "_execute_gen", counted)
            session = Session(conn, uuid.uuid4())
            assert await session.fetch("SELECT 1 AS n") == [{"n": 1}]
            session.defer("INSERT INTO queued (n) VALUES (%s)", [(1,)])
            await session.commit()
            await session.begin()
            session.defer("INSERT INTO queued (n) VALUES (%s)", [(1,)])
            with pytest.raises(Conflict):  # the deferred unique check, at COMMIT
                await session.commit()
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        finally:
            await conn.close()

    run(scenario())
    # Two transactions: the settings, the read, the insert (with COMMIT); the settings; the
    # insert (with COMMIT).
    assert through_cursor == ["SELECT", "SELECT", "INSERT", "SELECT", "INSERT"], through_cursor


def test_a_lock_held_at_the_opening_is_taken_by_the_settings_statement(database_url: str, tmp_path: Path) -> None:
    """``Session.hold`` at the opening of a transaction: the settings' statement takes the lock
    (a statement fewer); later in the transaction: a statement of its own, in front of the next
    one, after the writes queued before it. Either way the lock is held when the next statement
    runs, until the transaction ends."""
    held = "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    trace = tmp_path / "wire.trace"

    async def scenario() -> list[Any]:
        conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
        fd = os.open(trace, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            await conn.execute("CREATE TEMP TABLE queued (n int)")
            conn.pgconn.trace(fd)
            conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE)
            session = Session(conn, uuid.uuid4())
            session.hold("pg_advisory_xact_lock_shared(%s, hashtext(%s))", (1, "a"))
            first = await session.fetch(held)
            session.defer("INSERT INTO queued (n) VALUES (%s)", [(1,)])
            session.hold("pg_advisory_xact_lock(%s, hashtext(%s))", (2, "b"))
            second = await session.fetch(held)
            await session.commit()
            conn.pgconn.untrace()
            after = await (await conn.execute(held)).fetchall()
            return [first, second, after]
        finally:
            os.close(fd)
            await conn.close()

    first, second, after = run(scenario())
    assert first == [{"n": 1}]
    assert second == [{"n": 2}]
    assert after == [(0,)]
    parsed = [line.split('"')[3] for line in trace.read_text().splitlines() if "\tParse\t" in line]
    executed = [
        line
        for line in trace.read_text().splitlines()
        if line.split("\t")[::2][:2] in (["F", "Execute"], ["F", "Query"])
    ]
    # BEGIN, the settings with the lock, the read; the insert, the lock, the read; COMMIT (alone).
    assert len(executed) == 7, parsed
    assert any("set_config" in text and "pg_advisory_xact_lock_shared" in text for text in parsed), parsed
    insert, lock = (next(n for n, text in enumerate(parsed) if text.startswith(s)) for s in ("INSERT", "SELECT pg_adv"))
    assert insert < lock, parsed


def test_a_batch_ends_with_its_sync_and_no_flush(database_url: str, tmp_path: Path) -> None:
    """The batch's ``Sync`` has the server send every answer: psycopg's own end of a pipeline
    also sent a ``Flush`` after it when the answers were not in yet (a message and a ``send``
    more per round trip), which the session's end does not. The answers all arrive, an error's
    too, and the connection stays usable."""
    trace = tmp_path / "wire.trace"

    async def scenario() -> list[Any]:
        conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
        fd = os.open(trace, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            conn.pgconn.trace(fd)
            conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE)
            session = Session(conn, uuid.uuid4())
            # The first answer comes late: the batch's end waits for the answers, not before.
            slow = await session.fetch_together(("SELECT pg_sleep(0.05)::text AS n", ()), ("SELECT 2 AS n", ()))
            with pytest.raises(psycopg.errors.DivisionByZero):
                await session.fetch_together(("SELECT pg_sleep(0.05)::text AS n", ()), ("SELECT 1 / 0 AS n", ()))
            await session.rollback()
            again = await session.fetch_together(("SELECT 3 AS n", ()), ("SELECT 4 AS n", ()))
            await session.commit()
            conn.pgconn.untrace()
            return [slow, again]
        finally:
            os.close(fd)
            await conn.close()

    slow, again = run(scenario())
    assert slow == [[{"n": ""}], [{"n": 2}]]
    assert again == [[{"n": 3}], [{"n": 4}]]
    sent = [line.split("\t")[2] for line in trace.read_text().splitlines() if line.startswith("F\t")]
    assert sent.count("Sync") == 3, sent
    assert "Flush" not in sent, sent


def test_a_batch_larger_than_the_socket_takes_at_once_is_sent_whole(database_url: str) -> None:
    """A batch of several megabytes (a bulk of deferred rows) does not fit the socket's buffer
    in one write: what is left in libpq's buffer after the batch's last step is sent before
    the answers are awaited (without it, client and server would wait for each other)."""

    async def scenario() -> list[dict[str, Any]]:
        conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
        try:
            await conn.execute("CREATE TEMP TABLE queued (n int, payload text)")
            session = Session(conn, uuid.uuid4())
            for n in range(40):  # one deferred statement each, 100 kB apiece
                session.defer("INSERT INTO queued (n, payload) VALUES (%s, %s)", [(n, "x" * 100_000)])
            rows = await session.fetch("SELECT count(*) AS n, sum(length(payload)) AS size FROM queued")
            await session.commit()
            return rows
        finally:
            await conn.close()

    assert run(scenario(), timeout=60) == [{"n": 40, "size": 4_000_000}]
