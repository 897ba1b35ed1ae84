"""Adversarial checks of the session's batch (review "rev6s"): a round trip cancelled while its
batch is sent or its results read, server errors in the middle of a batch, a connection
terminated between and during round trips, big batches on a small pool, and ``Session.hold``'s
lock: the connection comes back usable (or is closed), nothing is half-written, no lock leaks."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import psycopg
import pytest

from valorize_adapters.postgres.session import Session
from valorize_core.model.errors import Conflict, Contention, Unavailable
from valorize_core.testing.loop import run

IDLE = psycopg.pq.TransactionStatus.IDLE
_HELD = "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted"


async def _connect(url: str) -> psycopg.AsyncConnection[Any]:
    return await psycopg.AsyncConnection.connect(url, autocommit=True)


async def _usable(conn: psycopg.AsyncConnection[Any]) -> bool:
    """Whether the connection, idle and out of pipeline mode, runs a statement and a batch."""
    if conn.closed:
        return False
    assert conn.info.transaction_status == IDLE, conn.info.transaction_status
    assert conn.pgconn.pipeline_status == psycopg.pq.PipelineStatus.OFF
    session = Session(conn, uuid.uuid4())
    rows = await asyncio.wait_for(session.fetch_together(("SELECT 1 AS n", ()), ("SELECT 2 AS n", ())), 10)
    await session.commit()
    return rows == [[{"n": 1}], [{"n": 2}]]


@pytest.mark.parametrize("read_only", [False, True])
def test_a_round_trip_cancelled_while_its_results_are_read(database_url: str, read_only: bool) -> None:
    async def scenario() -> tuple[bool, list[Any]]:
        conn, watcher = await _connect(database_url), await _connect(database_url)
        try:
            session = Session(conn, uuid.uuid4(), read_only=read_only)
            if not read_only:
                session.hold("pg_advisory_xact_lock(%s)", (4242,))
            task = asyncio.ensure_future(
                session.fetch_together(("SELECT 1 AS n", ()), ("SELECT pg_sleep(5)::text AS n", ()))
            )
            await asyncio.sleep(0.3)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, 10)
            if not conn.closed:
                await asyncio.wait_for(session.end(), 10)
            locks = await (await watcher.execute(_HELD)).fetchall()
            return await _usable(conn), locks
        finally:
            await conn.close()
            await watcher.close()

    usable, locks = run(scenario(), timeout=60)
    assert usable
    assert locks == [(0,)]


def test_a_round_trip_cancelled_while_a_big_batch_is_sent(database_url: str) -> None:
    async def scenario() -> tuple[bool, list[Any]]:
        conn, watcher = await _connect(database_url), await _connect(database_url)
        try:
            await watcher.execute("CREATE TABLE IF NOT EXISTS attack_big (n int, payload text)")
            await watcher.execute("TRUNCATE attack_big")
            session = Session(conn, uuid.uuid4())
            for n in range(60):
                session.defer("INSERT INTO attack_big (n, payload) VALUES (%s, %s)", [(n, "x" * 200_000)])
            task = asyncio.ensure_future(session.fetch("SELECT count(*) AS n FROM attack_big"))
            await asyncio.sleep(0)  # the batch is being queued and sent
            for _ in range(3):
                await asyncio.sleep(0.001)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, 20)
            if not conn.closed:
                await asyncio.wait_for(session.end(), 10)
            rows = await (await watcher.execute("SELECT count(*) FROM attack_big")).fetchall()
            return (await _usable(conn)) if not conn.closed else True, rows
        finally:
            await conn.close()
            await watcher.close()

    usable, rows = run(scenario(), timeout=60)
    assert usable
    assert rows == [(0,)]


def test_a_constraint_violation_in_the_middle_of_a_batch(database_url: str) -> None:
    async def scenario() -> tuple[list[Any], bool]:
        conn, watcher = await _connect(database_url), await _connect(database_url)
        try:
            await watcher.execute("CREATE TABLE IF NOT EXISTS attack_unique (n int PRIMARY KEY)")
            await watcher.execute("TRUNCATE attack_unique")
            session = Session(conn, uuid.uuid4())
            for n in (1, 2, 2, 3, 4):
                session.defer("INSERT INTO attack_unique (n) VALUES (%s)", [(n,)])
            with pytest.raises(Exception):  # noqa: B017, PT011 - the domain's Conflict or psycopg's error
                await session.fetch("SELECT count(*) AS n FROM attack_unique")
            await session.end()
            rows = await (await watcher.execute("SELECT count(*) FROM attack_unique")).fetchall()
            # the same statements, prepared (run more than psycopg's threshold), then an abort again
            for _ in range(6):
                session.defer("INSERT INTO attack_unique (n) VALUES (%s)", [(10,)])
                await session.fetch("SELECT count(*) AS n FROM attack_unique")
                await session.rollback()
            session.defer("INSERT INTO attack_unique (n) VALUES (%s)", [(1,)])
            session.defer("INSERT INTO attack_unique (n) VALUES (%s)", [(1,)])
            with pytest.raises(Exception):  # noqa: B017, PT011
                await session.fetch("SELECT count(*) AS n FROM attack_unique")
            await session.end()
            return rows, await _usable(conn)
        finally:
            await conn.close()
            await watcher.close()

    rows, usable = run(scenario(), timeout=60)
    assert rows == [(0,)]
    assert usable


@pytest.mark.parametrize("read_only", [False, True])
def test_a_statement_timeout_in_a_batch(database_url: str, read_only: bool) -> None:
    async def scenario() -> bool:
        conn = await _connect(database_url)
        try:
            await conn.execute("SET statement_timeout = '100ms'")
            session = Session(conn, uuid.uuid4(), read_only=read_only)
            for _ in range(7):  # prepared from the fifth run on
                await session.fetch_together(("SELECT 1 AS n", ()), ("SELECT 2 AS m", ()))
                await session.end()
            with pytest.raises(Unavailable):  # the statement timeout, as the domain sees it
                await session.fetch_together(
                    ("SELECT 1 AS n", ()), ("SELECT pg_sleep(1)::text AS n", ()), ("SELECT 2 AS m", ())
                )
            await session.end()
            for _ in range(3):
                assert await session.fetch_together(("SELECT 1 AS n", ()), ("SELECT 2 AS m", ())) == [
                    [{"n": 1}],
                    [{"m": 2}],
                ]
                await session.end()
            return await _usable(conn)
        finally:
            await conn.close()

    assert run(scenario(), timeout=60)


def test_a_connection_terminated_during_a_round_trip(database_url: str) -> None:
    async def scenario() -> type[BaseException]:
        conn, killer = await _connect(database_url), await _connect(database_url)
        try:
            pid = conn.info.backend_pid
            session = Session(conn, uuid.uuid4())
            task = asyncio.ensure_future(
                session.fetch_together(("SELECT 1 AS n", ()), ("SELECT pg_sleep(5)::text AS n", ()))
            )
            await asyncio.sleep(0.3)
            await killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
            try:
                await asyncio.wait_for(task, 10)
            except BaseException as exc:
                error = type(exc)
            else:
                raise AssertionError("the round trip did not fail")
            with pytest.raises(psycopg.OperationalError):
                await asyncio.wait_for(session.end(), 10)
            return error
        finally:
            await conn.close()
            await killer.close()

    assert issubclass(run(scenario(), timeout=60), Unavailable)  # a dropped connection, as the domain sees it


def test_many_units_with_big_batches_on_a_pool_of_two(database_url: str) -> None:
    from psycopg_pool import AsyncConnectionPool

    async def scenario() -> list[Any]:
        pool = AsyncConnectionPool(database_url, min_size=2, max_size=2, open=False, kwargs={"autocommit": True})
        await pool.open(wait=True)
        try:
            async with pool.connection() as conn:
                await conn.execute("CREATE TABLE IF NOT EXISTS attack_pool (unit int, n int, payload text)")
                await conn.execute("TRUNCATE attack_pool")

            async def unit(k: int) -> None:
                async with pool.connection(timeout=30) as conn:
                    session = Session(conn, uuid.uuid4())
                    try:
                        for n in range(2000):
                            session.defer(
                                "INSERT INTO attack_pool (unit, n, payload) VALUES (%s, %s, %s)",
                                [(k, n, "y" * (n % 7) * 100)],
                            )
                        if k % 3 == 0:
                            session.defer("INSERT INTO attack_pool (unit, n) VALUES (%s, 1 / 0)", [(k,)])
                        await session.fetch("SELECT 1 AS n")
                        session.defer(
                            "INSERT INTO attack_pool (unit, n, payload) VALUES (%s, %s, %s)", [(k, -1, "z" * 1_000_000)]
                        )
                        await session.commit()
                    except psycopg.errors.DivisionByZero:
                        await session.rollback()

            await asyncio.wait_for(asyncio.gather(*(unit(k) for k in range(12))), 120)
            async with pool.connection() as conn:
                return await (
                    await conn.execute("SELECT unit, count(*) FROM attack_pool GROUP BY unit ORDER BY unit")
                ).fetchall()
        finally:
            await pool.close()

    rows = run(scenario(), timeout=180)
    assert rows == [(k, 2001) for k in range(12) if k % 3 != 0]


def test_an_error_early_in_a_batch_larger_than_the_socket_is_the_one_raised(database_url: str) -> None:
    """A batch larger than the socket takes at once is sent in several writes, and the server's
    answers are read meanwhile: the error of its 3rd statement is read while the rest is still
    being sent. That error reaches the caller (a Conflict, a 409), not the "pipeline aborted" of
    the statements the server then skipped (not the caller's fault: a 500)."""

    async def scenario() -> tuple[BaseException, list[Any], bool]:
        conn, watcher = await _connect(database_url), await _connect(database_url)
        try:
            await watcher.execute("CREATE TABLE IF NOT EXISTS attack_early (n int PRIMARY KEY, payload text)")
            await watcher.execute("TRUNCATE attack_early")
            session = Session(conn, uuid.uuid4())
            for n in (1, 2, 2, *range(3, 60)):  # the 3rd insert collides; 200 kB apiece
                session.defer("INSERT INTO attack_early (n, payload) VALUES (%s, %s)", [(n, "x" * 200_000)])
            try:
                await asyncio.wait_for(session.fetch("SELECT count(*) AS n FROM attack_early"), 30)
            except Exception as exc:
                error: BaseException = exc
            else:
                raise AssertionError("the batch did not fail")
            await session.end()
            rows = await (await watcher.execute("SELECT count(*) FROM attack_early")).fetchall()
            return error, rows, await _usable(conn)
        finally:
            await conn.close()
            await watcher.close()

    error, rows, usable = run(scenario(), timeout=60)
    assert isinstance(error, Conflict), repr(error)
    assert rows == [(0,)]
    assert usable


def test_a_unit_cancelled_while_its_opening_waits_for_a_held_lock(database_url: str) -> None:
    """``Session.hold`` at the opening: the settings' statement waits for the lock. The request
    cancelled meanwhile (a client gone): the wait is cancelled on the server, the unit rolls
    back, nothing of it is left holding or waiting, and its connection runs the next unit."""

    async def scenario() -> tuple[list[Any], list[Any], bool]:
        holder, waiter, watcher = [await _connect(database_url) for _ in range(3)]
        try:
            tenant = uuid.uuid4()
            first = Session(holder, tenant)
            first.hold("pg_advisory_xact_lock(%s, hashtext(%s))", (7, "tree"))
            await first.begin()
            second = Session(waiter, tenant)
            second.hold("pg_advisory_xact_lock_shared(%s, hashtext(%s))", (7, "tree"))
            second.defer("SELECT 1", [()])
            task = asyncio.ensure_future(second.fetch("SELECT 2 AS n"))
            for _ in range(100):
                await asyncio.sleep(0.02)
                waiting = await (await watcher.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")).fetchall()
                if waiting == [(1,)]:
                    break
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, 10)
            if not waiter.closed:
                await asyncio.wait_for(second.end(), 10)
            await first.commit()
            locks = await (await watcher.execute(_HELD)).fetchall()
            ungranted = await (await watcher.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")).fetchall()
            return locks, ungranted, await _usable(waiter)
        finally:
            for conn in (holder, waiter, watcher):
                await conn.close()

    locks, ungranted, usable = run(scenario(), timeout=60)
    assert locks == [(0,)]
    assert ungranted == [(0,)]
    assert usable


def test_a_round_trip_cancelled_twice(database_url: str) -> None:
    """Cancelled again while psycopg cancels the query on the server: the connection is closed
    (its state unknown), never left in pipeline mode for the pool to hand out."""

    async def scenario() -> tuple[bool, bool]:
        conn = await _connect(database_url)
        try:
            session = Session(conn, uuid.uuid4())
            await session.fetch("SELECT 1 AS n")
            task = asyncio.ensure_future(
                session.fetch_together(("SELECT 1 AS n", ()), ("SELECT pg_sleep(5)::text AS n", ()))
            )
            await asyncio.sleep(0.3)
            task.cancel()
            await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, 10)
            if conn.closed:
                return True, True
            await asyncio.wait_for(session.end(), 10)
            return False, await _usable(conn)
        finally:
            await conn.close()

    _, usable = run(scenario(), timeout=60)
    assert usable


def test_a_deadlock_in_the_middle_of_batches(database_url: str) -> None:
    """Two units locking two rows in opposite orders, each lock in the middle of a batch: the
    server aborts one (a Contention, retried by the actions), which rolls back whole; both
    connections run the next unit, with prepared statements still coherent."""

    async def scenario() -> tuple[list[type[BaseException]], list[Any], bool, bool]:
        a, b, watcher = [await _connect(database_url) for _ in range(3)]
        try:
            await watcher.execute("CREATE TABLE IF NOT EXISTS attack_dead (n int PRIMARY KEY, v int)")
            await watcher.execute("TRUNCATE attack_dead")
            await watcher.execute("INSERT INTO attack_dead VALUES (1, 0), (2, 0)")
            await watcher.execute("CREATE TABLE IF NOT EXISTS attack_dead_log (n int)")
            await watcher.execute("TRUNCATE attack_dead_log")
            lock: Any = "SELECT v AS v FROM attack_dead WHERE n = %s FOR UPDATE"
            errors: list[type[BaseException]] = []

            async def unit(conn: psycopg.AsyncConnection[Any], first: int, second: int) -> None:
                session = Session(conn, uuid.uuid4())
                try:
                    for _ in range(6):  # the statements prepared (psycopg: from the fifth run)
                        session.defer("INSERT INTO attack_dead_log (n) VALUES (%s)", [(first,)])
                        await session.fetch_together((lock, (first,)), ("SELECT 1 AS one", ()))
                        await session.rollback()
                    session.defer("INSERT INTO attack_dead_log (n) VALUES (%s)", [(first,)])
                    await session.fetch_together((lock, (first,)), ("SELECT pg_sleep(0.3)::text AS s", ()))
                    session.defer("INSERT INTO attack_dead_log (n) VALUES (%s)", [(first,)])
                    await session.fetch_together(("SELECT 1 AS one", ()), (lock, (second,)), ("SELECT 2 AS two", ()))
                    session.defer("UPDATE attack_dead SET v = v + 1 WHERE n IN (1, 2)", [()])
                    await session.commit()
                except Exception as exc:
                    errors.append(type(exc))
                    await session.end()

            await asyncio.wait_for(asyncio.gather(unit(a, 1, 2), unit(b, 2, 1)), 30)
            rows = await (
                await watcher.execute("SELECT (SELECT sum(v) FROM attack_dead), count(*) FROM attack_dead_log")
            ).fetchall()
            return errors, rows, await _usable(a), await _usable(b)
        finally:
            for conn in (a, b, watcher):
                await conn.close()

    errors, rows, usable_a, usable_b = run(scenario(), timeout=60)
    assert errors == [Contention]
    assert rows == [(2, 2)]  # the survivor's two inserts and its update; nothing of the other
    assert usable_a
    assert usable_b


def test_a_connection_terminated_between_round_trips(database_url: str) -> None:
    async def scenario() -> tuple[type[BaseException], bool]:
        conn, killer = await _connect(database_url), await _connect(database_url)
        try:
            session = Session(conn, uuid.uuid4())
            await session.fetch_together(("SELECT 1 AS n", ()), ("SELECT 2 AS n", ()))
            await killer.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
            await asyncio.sleep(0.2)
            session.defer("SELECT 1", [()])
            try:
                await asyncio.wait_for(session.fetch_together(("SELECT 1 AS n", ()), ("SELECT 2 AS n", ())), 10)
            except Exception as exc:
                error: type[BaseException] = type(exc)
            else:
                raise AssertionError("the round trip did not fail")
            return error, conn.closed
        finally:
            await conn.close()
            await killer.close()

    error, closed = run(scenario(), timeout=60)
    assert issubclass(error, Unavailable)
    assert closed  # the pool's check discards it


async def _failing_planner_block(session: Session, read: Any, setting: Any) -> None:
    async with session.planner_settings():
        await session.execute("SET LOCAL enable_seqscan = off")
        await session.fetch_together((read, (3,)), ("SELECT 1 / 0 AS n", ()), (setting, ()))


def test_planner_settings_in_a_read_only_session_failing_after_its_reads_are_prepared(database_url: str) -> None:
    """A read-only session's reads prepared (run more than psycopg's threshold, each in its own
    implicit transaction); a ``planner_settings`` block whose round trip fails: the setting ends
    with the block, and every read runs again, implicit and in a block."""
    read: Any = "SELECT count(*) AS n FROM generate_series(1, %s)"
    setting: Any = "SHOW enable_seqscan"

    async def scenario() -> list[Any]:
        conn = await _connect(database_url)
        try:
            session = Session(conn, uuid.uuid4(), read_only=True)
            for _ in range(7):
                await session.fetch_together((read, (3,)), (setting, ()))
            with pytest.raises(psycopg.errors.DivisionByZero):
                await _failing_planner_block(session, read, setting)
            seen = []
            for _ in range(3):
                seen.append(await session.fetch_together((read, (4,)), (setting, ())))
                async with session.planner_settings():
                    await session.execute("SET LOCAL enable_seqscan = off")
                    seen.append(await session.fetch_together((read, (5,)), (setting, ())))
            await session.end()
            assert await _usable(conn)
            return seen
        finally:
            await conn.close()

    seen = run(scenario(), timeout=60)
    assert seen == [[[{"n": 4}], [{"enable_seqscan": "on"}]], [[{"n": 5}], [{"enable_seqscan": "off"}]]] * 3


def test_planner_settings_in_a_unit_failing_after_its_reads_are_prepared(database_url: str) -> None:
    """The same in a unit of work (a savepoint always rolled back): the unit goes on after the
    block's failure, its writes commit, its prepared reads run."""
    read: Any = "SELECT count(*) AS n FROM generate_series(1, %s)"
    setting: Any = "SHOW enable_seqscan"

    async def scenario() -> tuple[list[Any], list[Any]]:
        conn, watcher = await _connect(database_url), await _connect(database_url)
        try:
            await watcher.execute("CREATE TABLE IF NOT EXISTS attack_planner (n int)")
            await watcher.execute("TRUNCATE attack_planner")
            session = Session(conn, uuid.uuid4())
            for _ in range(7):
                await session.fetch_together((read, (3,)), (setting, ()))
            session.defer("INSERT INTO attack_planner (n) VALUES (%s)", [(1,)])
            with pytest.raises(psycopg.errors.DivisionByZero):
                await _failing_planner_block(session, read, setting)
            seen = [await session.fetch_together((read, (4,)), (setting, ())) for _ in range(3)]
            session.defer("INSERT INTO attack_planner (n) VALUES (%s)", [(2,)])
            await session.commit()
            rows = await (await watcher.execute("SELECT n FROM attack_planner ORDER BY n")).fetchall()
            assert await _usable(conn)
            return seen, rows
        finally:
            await conn.close()
            await watcher.close()

    seen, rows = run(scenario(), timeout=60)
    assert seen == [[[{"n": 4}], [{"enable_seqscan": "on"}]]] * 3
    assert rows == [(1,), (2,)]


def test_a_read_only_session_cancelled_after_its_reads_are_prepared(database_url: str) -> None:
    read: Any = "SELECT count(*) AS n FROM generate_series(1, %s)"

    async def scenario() -> list[Any]:
        conn = await _connect(database_url)
        try:
            session = Session(conn, uuid.uuid4(), read_only=True)
            for _ in range(4):
                await session.fetch_together((read, (3,)), ("SELECT pg_sleep(%s)::text AS s", (0,)))
            # the fifth run prepares both: cancelled while the second sleeps
            task = asyncio.ensure_future(session.fetch_together((read, (3,)), ("SELECT pg_sleep(%s)::text AS s", (5,))))
            await asyncio.sleep(0.3)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, 10)
            return [
                await session.fetch_together((read, (n,)), ("SELECT pg_sleep(%s)::text AS s", (0,))) for n in range(3)
            ]
        finally:
            await conn.close()

    assert run(scenario(), timeout=60) == [[[{"n": n}], [{"s": ""}]] for n in range(3)]


def test_a_commit_whose_batch_fails_while_queued_leaves_no_transaction_open(database_url: str) -> None:
    """A value refused on the client (a NUL in a text) while the commit's batch is queued: what
    was queued before it runs, then the batch ends, ``COMMIT`` never sent and no server error
    (the transaction still open, not failed). The commit raises and the transaction is over,
    rolled back: the next unit on the connection (several sessions share a leased connection:
    the relay, the backlog, retention) must not commit the first one's writes with its own."""

    async def scenario() -> tuple[psycopg.pq.TransactionStatus, list[Any]]:
        conn, watcher = await _connect(database_url), await _connect(database_url)
        try:
            await watcher.execute("CREATE TABLE IF NOT EXISTS attack_nul (n int, label text)")
            await watcher.execute("TRUNCATE attack_nul")
            first = Session(conn, uuid.uuid4())
            await first.fetch("SELECT 1 AS n")
            first.defer("INSERT INTO attack_nul (n, label) VALUES (%s, %s)", [(1, "fine")])
            first.defer("INSERT INTO attack_nul (n, label) VALUES (%s, %s)", [(2, "nul\x00here")])
            with pytest.raises(psycopg.DataError):
                await first.commit()
            await first.end()
            status = conn.info.transaction_status
            second = Session(conn, uuid.uuid4())
            second.defer("INSERT INTO attack_nul (n, label) VALUES (%s, %s)", [(3, "next unit")])
            await second.commit()
            rows = await (await watcher.execute("SELECT n FROM attack_nul ORDER BY n")).fetchall()
            return status, rows
        finally:
            await conn.close()
            await watcher.close()

    status, rows = run(scenario(), timeout=60)
    assert rows == [(3,)]  # nothing of the failed commit
    assert status == IDLE


def test_units_cancelled_at_random_points_on_a_pool_of_two(database_url: str) -> None:
    """Twenty units on a pool of two, as a unit of work runs them (a pooled connection, the
    session ended on the way out), each cancelled at its own moment — before, during or after
    its round trips (clients gone). Then every connection the pool hands out is idle, out of
    pipeline mode and usable, no advisory lock is held, and only whole units are written."""
    from valorize_adapters.postgres.pool import open_pool

    async def scenario() -> tuple[list[Any], list[Any], list[bool]]:
        pool = await open_pool(database_url, min_size=2, max_size=2, role=None, wait=30)
        try:
            async with pool.connection() as conn:
                await conn.execute("CREATE TABLE IF NOT EXISTS attack_random (unit int, n int)")
                await conn.execute("TRUNCATE attack_random")

            async def unit(k: int) -> None:
                async with pool.connection() as conn:
                    session = Session(conn, uuid.uuid4(), read_only=k % 4 == 3)
                    try:
                        if k % 4 == 3:
                            for _ in range(3):
                                await session.fetch_together(
                                    ("SELECT pg_sleep(0.01)::text AS s", ()), ("SELECT 1 AS n", ())
                                )
                            return
                        session.hold("pg_advisory_xact_lock_shared(%s)", (99,))
                        for n in range(50):
                            session.defer("INSERT INTO attack_random (unit, n) VALUES (%s, %s)", [(k, n)])
                        await session.fetch_together(("SELECT pg_sleep(0.02)::text AS s", ()), ("SELECT 1 AS n", ()))
                        session.defer("INSERT INTO attack_random (unit, n) VALUES (%s, %s)", [(k, 50)])
                        await session.fetch("SELECT pg_sleep(0.02)::text AS s")
                        await session.commit()
                    finally:
                        if not conn.closed:
                            await session.end()

            tasks = [asyncio.ensure_future(unit(k)) for k in range(20)]
            for k, task in enumerate(tasks):
                await asyncio.sleep(0.007 * (k % 5))
                if k % 2 == 0:
                    task.cancel()
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
            usable = []
            for _ in range(4):
                async with pool.connection() as conn:
                    usable.append(await _usable(conn))
            async with pool.connection() as conn:
                counts = await (
                    await conn.execute("SELECT DISTINCT count(*) FROM attack_random GROUP BY unit")
                ).fetchall()
                locks = await (await conn.execute(_HELD)).fetchall()
            return counts, locks, usable
        finally:
            await pool.close()

    counts, locks, usable = run(scenario(), timeout=120)
    assert set(counts) <= {(51,)}  # whole units only
    assert locks == [(0,)]
    assert all(usable)


def test_a_read_only_sessions_settings_end_with_each_round_trip(database_url: str) -> None:
    async def scenario() -> list[Any]:
        conn = await _connect(database_url)
        try:
            session = Session(conn, uuid.uuid4(), read_only=True)
            await session.fetch_together(("SELECT 1 AS n", ()), ("SELECT 2 AS n", ()))
            with pytest.raises(psycopg.errors.DivisionByZero):
                await session.fetch_together(("SELECT 1 AS n", ()), ("SELECT 1 / 0 AS n", ()))
            await session.end()
            cur = await conn.execute(
                "SELECT coalesce(current_setting('valorize.tenant_id', true), ''),"
                " current_setting('transaction_read_only')"
            )
            return [await cur.fetchall(), conn.info.transaction_status]
        finally:
            await conn.close()

    assert run(scenario(), timeout=60) == [[("", "off")], IDLE]
