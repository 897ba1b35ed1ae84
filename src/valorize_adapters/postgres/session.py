"""A tenant-bound database session: one connection, one transaction at a time, as few round
trips as the statements' results allow.

Four things keep a unit of work's round trips down (docs/postgres.md, "Round trips"):

* ``BEGIN`` and the tenant setting are not sent on their own: they go in front of the unit's
  first statement, in the same pipeline;
* writes whose result nobody reads (:meth:`Session.defer`: inserts) wait and go with the next
  statement that must be answered, or with ``COMMIT``;
* reads may be gathered (``asyncio.gather``): the ones issued in the same turn of the event
  loop go together, in one pipeline, wherever the unit is;
* a read-only session (a query's unit) sends no ``BEGIN`` and no ``COMMIT``: each round trip
  runs in the implicit transaction its pipeline's ``Sync`` ends, the tenant's settings (local to
  that transaction, read-only too) first, so nothing outlives it on the pooled connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import re
from collections.abc import AsyncIterator, Callable, Generator, Sequence
from contextlib import asynccontextmanager
from typing import Any, LiteralString, TypeVar
from uuid import UUID

import psycopg
from psycopg import generators, sql
from psycopg.rows import RowFactory, dict_row

from valorize_adapters.postgres import tracing as sql_tracing
from valorize_adapters.postgres.errors import domain_error
from valorize_adapters.postgres.tracing import statement_span

__all__ = ["Session"]

_logger = logging.getLogger(__name__)

Row = dict[str, Any]
T = TypeVar("T")
Query = LiteralString | sql.Composed
Params = Sequence[Any] | dict[str, Any]

_SCOPE = re.compile("[a-z_]*")
_SETTINGS: LiteralString = "SELECT set_config('valorize.tenant_id', %s, true), set_config('valorize.scope', %s, true)"
# A read-only session's settings, in front of every round trip: local to the implicit
# transaction that round trip's Sync ends, which they make read-only (the server refuses writes).
_READ_ONLY_SETTINGS: LiteralString = (
    "SELECT set_config('valorize.tenant_id', %s, true), set_config('valorize.scope', %s, true),"
    " set_config('transaction_read_only', 'on', true)"
)
_COMMIT: LiteralString = "COMMIT"
_OPEN = (psycopg.pq.TransactionStatus.INTRANS, psycopg.pq.TransactionStatus.INERROR)


class _Want(enum.Enum):
    """What a statement's caller needs back."""

    NOTHING = 0
    ROWS = 1
    COUNT = 2
    MANY = 3  # nothing, and the parameters are a sequence of rows (``executemany``)
    INLINE = 4  # nothing, and the write may run inside the next statement (:meth:`Session.fetch_carrying`)
    LOCK = 5  # nothing: an advisory lock's call, which may join the settings' statement (:meth:`Session.hold`)


class _Made:
    """What a statement's caller needs back: its rows, each made by a psycopg row factory
    (:meth:`Session.fetch_made`) instead of a dict."""

    __slots__ = ("factory",)

    def __init__(self, factory: RowFactory[Any]) -> None:
        self.factory = factory


_Statement = tuple[Query, Params, "_Want | _Made"]


class _Merged:
    """Deferred writes of one kind merged into one statement (:meth:`Session.defer_merged`)."""

    __slots__ = ("items", "kind", "render")

    def __init__(self, kind: str, render: Callable[[list[Any]], tuple[LiteralString, Params]]) -> None:
        self.kind = kind
        self.render = render
        self.items: list[Any] = []

    def statement(self) -> _Statement:
        query, params = self.render(self.items)
        return query, params, _Want.NOTHING


def _prepare(query: Query) -> bool | None:
    """``BEGIN …`` and ``COMMIT`` are never prepared (nothing to plan); the rest as psycopg
    decides (from their fifth run)."""
    return False if isinstance(query, str) and query.startswith(("BEGIN", "COMMIT")) else None


def _leading_text(query: Query) -> str:
    """The statement's text up to its first value: a composed one's leading SQL, as written (a
    Literal or an Identifier follows), without the spaces before it."""
    if isinstance(query, sql.Composed):
        first = next(iter(query), None)
        return first.as_string().lstrip() if isinstance(first, sql.SQL) else ""
    return query.lstrip() if isinstance(query, str) else ""


def _sets_locally(query: Query) -> bool:
    """Whether a statement is a ``SET LOCAL`` (a setting that ends with its transaction)."""
    return _leading_text(query)[:10].upper() == "SET LOCAL "


async def _forget_prepared(conn: psycopg.AsyncConnection[Any]) -> None:
    """Have psycopg forget the connection's prepared statements and the server deallocate them
    (``DEALLOCATE ALL``; no round trip when none is prepared), as psycopg does after a
    ``ROLLBACK``. After a failed round trip psycopg may count a read as prepared whose ``Parse``
    the server skipped with the rest of the aborted pipeline: every later run of it would ask for
    a statement that does not exist. psycopg 3.3 internals: its prepared-statement manager's
    ``clear`` and ``maintain_gen`` (guarded by tests/contract/test_session_batches.py)."""
    async with conn.lock:
        if conn._prepared.clear():
            await conn.wait(conn._prepared.maintain_gen(conn))


def _reads_only(query: Query) -> bool:
    """Whether a statement only reads (a ``SELECT``, locking or not): a unit that ran nothing
    else ends with ``COMMIT``, which keeps the connection's prepared statements."""
    return _leading_text(query)[:6].upper() == "SELECT"


class _Batch(psycopg.AsyncPipeline):
    """psycopg's pipeline, driven by the session itself for one round trip at a time (one per
    session, reused): psycopg's ``connection.pipeline()`` took the connection's lock four times,
    made a pipeline and ran its waiting coroutine on entering, per round trip (perf/README.md,
    "roundtrip").

    Its step after each statement only queues: the statement goes into libpq's output buffer
    and nothing is sent. psycopg's own step sends each statement on its own (a ``send`` system
    call per statement, which may wake the backend each time; py-spy put a third of a write's
    API CPU in ``send``, perf/README.md); the batch goes in one ``send`` with its ``Sync``,
    when :meth:`sending` is set: what is left is queued, then psycopg's own step sends the
    buffer (waiting for the socket, reading results meanwhile). psycopg 3.3 internals: the
    pipeline's ``_communicate_gen``, ``command_queue``, ``level``, ``_enqueue_sync``,
    ``_fetch_gen`` and ``_exit`` (guarded by tests/contract/test_session_batches.py)."""

    sending = False

    def _communicate_gen(self) -> Generator[Any, Any, None]:
        queue = self.command_queue
        while queue:
            queue.popleft()()
        if self.sending:
            yield from super()._communicate_gen()

    def end_gen(self) -> Generator[Any, Any, None]:
        """The batch's end: its ``Sync``, sent with the statements, then every result read (the
        rest after an error too, so the pipeline can be left). psycopg's own end
        (``_exit_gen``) also sends a ``Flush`` after the ``Sync`` when the answers are not in
        yet — a message and a ``send`` more per round trip, for nothing: the ``Sync`` has the
        server send everything."""
        self._enqueue_sync()
        try:
            yield from self._communicate_gen()
        finally:
            # What the step's last write left in libpq's buffer (a batch larger than the
            # socket takes at once), sent: psycopg's end sends it with its Flush.
            yield from generators.send(self.pgconn)
            yield from self._fetch_gen(flush=False)


class _Unread(psycopg.AsyncCursor[Any]):
    """The cursor of a batch's statements whose result nobody reads (``BEGIN``, the settings,
    deferred writes, ``COMMIT``), shared by them: their results are checked for errors, as every
    result is, but not kept, so no loaders and no row maker are set up for them. psycopg 3.3
    internals: the cursor's ``_set_results`` (guarded by tests/contract/test_session_batches.py)."""

    def _set_results(self, results: list[Any]) -> None:
        pass


def _run_until_waiting(gen: Generator[Any, Any, None]) -> Any | None:
    """Run a psycopg statement generator (``cursor._execute_gen``) until it finishes (``None``)
    or asks to wait for the socket (what it waits for). In a batch whose step only queues
    (:func:`_queue_only`) it finishes at once: the statement is in libpq's buffer. Driving it
    here, rather than by ``cursor.execute``, spares each statement the connection's lock and
    psycopg's waiting coroutine (perf/README.md, "writecpu")."""
    try:
        return next(gen)
    except StopIteration:
        return None


def _resumed(waiting: Any, gen: Generator[Any, Any, None]) -> Generator[Any, Any, None]:
    """``gen``, which asked to wait for ``waiting``, as a generator psycopg's ``wait`` can finish."""
    while True:
        ready = yield waiting
        try:
            waiting = gen.send(ready)
        except StopIteration:
            return


class Session:
    """Runs statements for one tenant, setting ``valorize.tenant_id`` at the start of each
    transaction so row-level security sees the same tenant as the explicit filters.

    One coroutine at a time uses a session, except that reads may be gathered; its round trips
    take turns (a read gathered while another round trip is on the wire waits for it, with the
    reads gathered with it).
    """

    def __init__(
        self,
        conn: psycopg.AsyncConnection[Any],
        tenant_id: UUID | None,
        scope: str = "",
        *,
        snapshot: bool = False,
        read_only: bool = False,
    ) -> None:
        """``snapshot``: a read-only transaction whose statements all see one snapshot
        (``REPEATABLE READ``), for reads that must be consistent across statements (audits).

        ``read_only``: no explicit transaction (no ``BEGIN``, no ``COMMIT``: a round trip less,
        and the prepared statements kept): each round trip sends the tenant's settings
        (``is_local``, and ``transaction_read_only``) in front of its reads, in one pipeline
        whose ``Sync`` ends the implicit transaction they all run in. Writes are refused, here
        and by the server. Only :meth:`planner_settings` opens a transaction (``BEGIN READ ONLY``)."""
        if not _SCOPE.fullmatch(scope):
            raise ValueError(f"a session scope is a lower-case word, not {scope!r}")
        self.conn = conn
        self.tenant_id = tenant_id
        tenant = "" if tenant_id is None else str(UUID(str(tenant_id)))
        self._begin: LiteralString = (
            "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
            if snapshot
            else "BEGIN READ ONLY"
            if read_only
            else "BEGIN"
        )
        self._read_only = read_only
        self._implicit = read_only  # reads run without BEGIN, each round trip in its own transaction
        self._planning = False  # in planner_settings: a read-only session may SET LOCAL
        self._turn = asyncio.Lock()  # one round trip at a time (uncontended: no turn of the loop)
        self._settings = (tenant, scope)
        self._begun = False  # BEGIN sent (or on its way) in this transaction
        self._deferred: list[_Statement | _Merged] = []
        self._wrote = False  # something but a SELECT ran (or waits) in this transaction
        self._gathered: list[tuple[list[tuple[Query, Params]], asyncio.Future[list[list[Row]]]]] | None = None
        self._batch: _Batch | None = None  # its pipeline, made on its first batch
        self._unread: _Unread | None = None  # its cursor for the results nobody reads
        # The task the session was opened in: its own reads are never concurrent with another
        # (it waits for the reads it gathers), so only other tasks' reads wait to be gathered.
        try:
            self._owner: asyncio.Task[Any] | None = asyncio.current_task()
        except RuntimeError:  # made outside a running loop: every read may be gathered
            self._owner = None

    @property
    def wrote(self) -> bool:
        """Whether the open transaction wrote (or has writes waiting): something but a ``SELECT``."""
        return self._wrote

    # -- sending -----------------------------------------------------------------------------
    async def _send(self, statements: Sequence[_Statement]) -> list[Any]:
        """Send ``statements`` — after ``BEGIN`` and the settings when the transaction has not
        begun, and after the deferred writes — in one round trip, when the session's round trip
        on the wire (if any) is over; the result each of ``statements`` wants, in order."""
        async with self._turn:
            return await self._send_in_turn(statements)

    async def _send_in_turn(self, statements: Sequence[_Statement]) -> list[Any]:
        """:meth:`_send`, the session's turn taken. A round trip of its own that fails leaves no
        transaction to roll back, so the prepared statements are forgotten here instead."""
        try:
            return await self._round_trip(statements)
        except BaseException:
            if self._implicit and not self.conn.closed:
                with contextlib.suppress(psycopg.Error):  # a broken connection: the pool's to check
                    await _forget_prepared(self.conn)
            raise

    async def _round_trip(self, statements: Sequence[_Statement]) -> list[Any]:
        batch: list[_Statement] = []
        deferred, self._deferred = self._deferred, []
        if not self._begun:
            if not self.conn.autocommit:
                # Only a flag on the client: the connection is idle between transactions.
                await self.conn.set_autocommit(True)
            if self._implicit:  # never one statement alone: the settings share the reads' Sync
                batch.append((_READ_ONLY_SETTINGS, self._settings, _Want.NOTHING))
            else:
                # The locks held first (nothing queued before them) are taken by the settings'
                # statement, in the order held: no statement of their own, no lock before them.
                settings, params = _SETTINGS, self._settings
                while deferred and not isinstance(lock := deferred[0], _Merged) and lock[2] is _Want.LOCK:
                    settings, params = settings + ", " + lock[0], (*params, *lock[1])  # type: ignore[operator]
                    del deferred[0]
                batch += [(self._begin, (), _Want.NOTHING), (settings, params, _Want.NOTHING)]
                self._begun = True
        batch += [
            d.statement()
            if isinstance(d, _Merged)
            else ("SELECT " + d[0], d[1], _Want.NOTHING)  # type: ignore[operator]
            if d[2] is _Want.LOCK
            else d
            for d in deferred
        ]
        batch += statements
        mine = len(batch) - len(statements)  # where the caller's statements start
        # A span per statement when the process traces (off: one attribute read per round trip).
        spans = [statement_span(q) for q, _, _ in batch] if sql_tracing.tracer is not None else []
        try:
            if len(batch) == 1:
                return [await self._one(*batch[0])]
            cursors = await self._pipelined(batch)
            return [
                await self._result(cur, want) for cur, (_, _, want) in zip(cursors[mine:], batch[mine:], strict=True)
            ]
        except psycopg.Error as exc:
            raise (domain_error(exc) or exc) from exc
        finally:
            for span in spans:
                if span is not None:
                    span.end()

    async def _pipelined(self, batch: list[_Statement]) -> list[psycopg.AsyncCursor[Any]]:
        """Run ``batch`` in one pipeline: each statement queued in libpq's buffer, then all sent
        with one ``Sync`` in one write, and every result read; the cursor holding each result.

        What psycopg's ``connection.pipeline()`` block does, with its lock taken once and no
        ``Flush`` after the ``Sync`` (:meth:`_Batch.end_gen`): an error while queuing still sends
        and ends what was queued (the error raised, the second one logged), and the connection
        leaves pipeline mode whatever happens."""
        conn = self.conn
        cursors: list[psycopg.AsyncCursor[Any]] = []
        async with conn.lock:
            conn._check_connection_ok()
            pipeline = self._batch = self._batch or _Batch(conn)
            # The statements nobody reads share one cursor with no row factory: a cursor of their
            # own and dict rows made their results ready for reading (perf/README.md, "writecpu").
            unread = self._unread = self._unread or _Unread(conn)
            conn.pgconn.enter_pipeline_mode()
            conn._pipeline = pipeline
            pipeline.level, pipeline.sending = 1, False
            error: BaseException | None = None
            try:
                for query, params, want in batch:
                    if want is _Want.NOTHING or want is _Want.INLINE or want is _Want.MANY:
                        cur: psycopg.AsyncCursor[Any] = unread
                    else:
                        made: Any = want.factory if isinstance(want, _Made) else dict_row
                        cur = conn.cursor(row_factory=made)
                    cursors.append(cur)
                    # Queued at once: no lock or wait of its own (the connection's lock is held).
                    if want is _Want.NOTHING and not params and _prepare(query) is False:
                        # BEGIN and COMMIT as psycopg sends its own: the same message, no cursor
                        # work (no query to convert, no parameters, no prepared-statement count).
                        gen: Generator[Any, Any, Any] = conn._exec_command(query)
                    elif want is _Want.MANY:
                        gen = cur._executemany_gen_pipeline(query, params, returning=False)
                    else:
                        gen = cur._execute_gen(query, params, prepare=_prepare(query))
                    if (waiting := _run_until_waiting(gen)) is not None:
                        await conn.wait(_resumed(waiting, gen))
            except BaseException as exc:
                error = exc
                raise
            finally:
                pipeline.sending = True
                try:
                    await conn.wait(pipeline.end_gen())  # the Sync, sent with the batch; every result read
                except Exception as second:
                    if error is None:
                        raise
                    _logger.warning("error ignored ending %r: %s", pipeline, second)
                finally:
                    conn._pipeline = None
                    if pipeline.command_queue or pipeline.result_queue:  # a broken round trip's leftovers
                        self._batch = None
                    pipeline._exit(error)  # out of pipeline mode
        return cursors

    async def _one(self, query: Query, params: Params, want: _Want | _Made) -> Any:
        async with self.conn.cursor(row_factory=want.factory if isinstance(want, _Made) else dict_row) as cur:
            if want is _Want.MANY:
                await cur.executemany(query, params)
            else:
                await cur.execute(query, params, prepare=_prepare(query))
            return await self._result(cur, want)

    @staticmethod
    async def _result(cur: psycopg.AsyncCursor[Any], want: _Want | _Made) -> Any:
        if want is _Want.ROWS or isinstance(want, _Made):
            # Whether it returned rows, from the result itself: ``cur.description`` would
            # build a Column object per column first (a tenth of a list page's CPU).
            result = cur.pgresult
            return await cur.fetchall() if result is not None and result.nfields else []
        return cur.rowcount if want is _Want.COUNT else None

    async def begin(self) -> None:
        """Have the transaction open on the server, with its settings and every deferred write
        sent (a round trip only when something is waiting). A read-only session opens one
        (``BEGIN READ ONLY``) from here on."""
        self._implicit = False
        if not self._begun or self._deferred:
            await self._send([])

    # -- statements --------------------------------------------------------------------------
    async def fetch(self, query: Query, params: Params = ()) -> list[Row]:
        """All rows of a query, as dicts.

        A read asked from another task than the session's (``asyncio.gather`` makes one per
        read) waits one turn of the event loop: the reads gathered with it join it, and all go
        in one round trip (with ``BEGIN`` when the transaction opens).
        """
        return (await self._ask([(query, params)]))[0]

    async def fetch_made(self, query: Query, params: Params, row_factory: RowFactory[T]) -> list[T]:
        """All rows of a read, each made by ``row_factory`` (a psycopg row factory: no dict per
        row on the way). Sent at once in a round trip of its own (with ``BEGIN``, the settings
        and the deferred writes when they wait), never gathered with other tasks' reads."""
        self._wrote = self._wrote or not _reads_only(query)
        return (await self._send([(query, params, _Made(row_factory))]))[0]  # type: ignore[no-any-return]

    async def fetch_together(self, *statements: tuple[Query, Params]) -> list[list[Row]]:
        """The rows of each statement, all sent in one pipelined round trip and run in turn (with
        the reads gathered with them, as :meth:`fetch`)."""
        return await self._ask(list(statements))

    async def _ask(self, statements: list[tuple[Query, Params]]) -> list[list[Row]]:
        """The rows of ``statements``, sent together with every read issued in the same turn of
        the event loop: the first to ask collects the others and sends them all at once, at the
        opening of the unit as in its middle (a categorized write sends its payee memory read
        with the neighbour search)."""
        self._wrote = self._wrote or not all(_reads_only(q) for q, _ in statements)
        if self._gathered is not None:  # another read is collecting a batch: join it
            future: asyncio.Future[list[list[Row]]] = asyncio.get_running_loop().create_future()
            self._gathered.append((statements, future))
            return await future
        if asyncio.current_task() is self._owner:  # nothing can join: no turn of the loop to wait
            results: list[list[Row]] = await self._send([(q, p, _Want.ROWS) for q, p in statements])
            return results
        joined: list[tuple[list[tuple[Query, Params]], asyncio.Future[list[list[Row]]]]] = []
        self._gathered = joined
        try:
            await asyncio.sleep(0)
            # Another round trip on the wire (a wave gathered before): the reads asked while it
            # runs join this one, which goes next. Free (the common case): no turn of the loop.
            async with self._turn:
                self._gathered = None
                batch = [*statements, *(statement for asked, _ in joined for statement in asked)]
                results = await self._send_in_turn([(q, p, _Want.ROWS) for q, p in batch])
        except BaseException as exc:  # the joined reads fail with it (cancelled: cancelled too)
            self._gathered = None
            for _, future in joined:
                if future.done():  # its reader was cancelled
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(exc)
            raise
        at = len(statements)
        for asked, future in joined:
            if not future.done():  # its reader was cancelled
                future.set_result(results[at : at + len(asked)])
            at += len(asked)
        return results[: len(statements)]

    async def fetch_in_turn(
        self, first: LiteralString, first_params: Params, then: LiteralString, then_params: Params
    ) -> list[Row]:
        """Run ``first`` and then ``then`` in one pipelined round trip; ``then``'s rows.

        The server runs them one after the other, each with its own snapshot: when ``first``
        takes locks (and waits for them), ``then`` sees what the lock holders committed.
        """
        self._wrote = self._wrote or not (_reads_only(first) and _reads_only(then))
        _, rows = await self._send([(first, first_params, _Want.NOTHING), (then, then_params, _Want.ROWS)])
        return rows  # type: ignore[no-any-return]

    async def fetch_one(self, query: Query, params: Params = ()) -> Row | None:
        """The first row, or ``None``."""
        rows = await self.fetch(query, params)
        return rows[0] if rows else None

    async def execute(self, query: Query, params: Params = ()) -> int:
        """Run a statement; return the number of rows it touched. A read-only session runs only
        ``SET LOCAL`` inside :meth:`planner_settings`."""
        if not (self._read_only and self._planning and _sets_locally(query)):
            self._refuse_in_read_only()
            # Neither a ``SELECT`` run for its effect (an advisory lock), as a locking read, nor a
            # ``SET LOCAL`` (a planner setting, gone with the transaction) writes anything.
            self._wrote = self._wrote or not (_reads_only(query) or _sets_locally(query))
        return (await self._send([(query, params, _Want.COUNT)]))[0]  # type: ignore[no-any-return]

    async def execute_many(self, query: LiteralString, rows: Sequence[Sequence[Any]]) -> None:
        """Run a statement for many parameter rows in one pipelined round trip."""
        self._refuse_in_read_only()
        if rows:
            self._wrote = True
            await self._send([(query, rows, _Want.MANY)])

    def hold(self, call: LiteralString, params: Sequence[Any]) -> None:
        """Take a transaction-level advisory lock, ``call`` (``pg_advisory_xact_lock…(…)``), in
        front of the next statement sent, in the same round trip: queued as :meth:`defer`'s
        writes are, in order with them. When it opens the transaction (nothing queued before
        it), the statement that sets the tenant's settings calls it too: a statement fewer, and
        no lock taken before it either way. The statements sent after it run once it is granted."""
        self._deferred.append((call, tuple(params), _Want.LOCK))

    def defer(self, query: LiteralString, rows: Sequence[Params], *, inline: bool = False) -> None:
        """Queue a write whose result nobody reads, for each parameter row: it goes with the
        next statement or the commit, in the same round trip. Its error (a constraint) is
        raised there, and the unit of work rolls back as it would have at once.

        ``inline``: a single row's plain ``INSERT`` (no ``RETURNING``) that may run as a
        data-modifying ``WITH`` of the statement that carries it (:meth:`fetch_carrying`)."""
        self._refuse_in_read_only()
        if rows:
            self._wrote = True
            want = _Want.MANY if len(rows) > 1 else _Want.INLINE if inline else _Want.NOTHING
            self._deferred.append((query, rows if want is _Want.MANY else rows[0], want))

    async def fetch_carrying(self, query: LiteralString, params: Sequence[Any]) -> list[Row]:
        """The rows of ``query``, run with the last deferred ``inline`` writes as data-modifying
        ``WITH`` clauses of the same statement (a statement each fewer to bind, run and answer).

        They run in ``query``'s snapshot, beside it: ``query`` must not read or write what they
        write (their constraints are checked at the statement's end, as they would have been).
        Only the writes queued last are carried, so every write still runs in the order queued.
        """
        query, params = self._carrying(query, params)
        self._wrote = self._wrote or not _reads_only(query)
        return (await self._send([(query, params, _Want.ROWS)]))[0]  # type: ignore[no-any-return]

    def defer_carrying(self, query: LiteralString, params: Sequence[Any]) -> None:
        """Queue ``query`` (a write whose result nobody reads) as :meth:`defer` does, carrying
        the last deferred ``inline`` writes as :meth:`fetch_carrying` does: one statement, sent
        with the next statement or the commit."""
        self._refuse_in_read_only()
        query, params = self._carrying(query, params)
        self._wrote = True
        self._deferred.append((query, params, _Want.NOTHING))

    def _carrying(self, query: LiteralString, params: Sequence[Any]) -> tuple[LiteralString, Sequence[Any]]:
        """``query`` with the last deferred ``inline`` writes taken off the queue and put in
        front of it as data-modifying ``WITH`` clauses (in the order queued), and its parameters."""
        carried: list[_Statement] = []
        while (
            self._deferred
            and not isinstance(last := self._deferred[-1], _Merged)
            and last[2] is _Want.INLINE
            and not query.lstrip().startswith("WITH")
        ):
            carried.insert(0, last)
            self._deferred.pop()
        if not carried:
            return query, params
        clauses = ", ".join(f"w{n} AS ({q})" for n, (q, _, _) in enumerate(carried))
        # The queued statements are literal strings.
        return "WITH " + clauses + " " + query, [value for _, row, _ in carried for value in row] + list(params)

    def defer_merged(self, kind: str, render: Callable[[list[Any]], tuple[LiteralString, Params]], item: Any) -> None:
        """Queue ``item`` for a deferred write merged with the other items of its ``kind`` into
        one statement, ``render(items)``, sent as :meth:`defer`'s are. Writes of different kinds
        must commute (other tables, no triggers between them): an item joins the last merged
        write of its kind unless a plain deferred write was queued after it, which it never
        passes (so their order holds)."""
        self._refuse_in_read_only()
        self._wrote = True
        for queued in reversed(self._deferred):
            if not isinstance(queued, _Merged):
                break
            if queued.kind == kind:
                queued.items.append(item)
                return
        merged = _Merged(kind, render)
        merged.items.append(item)
        self._deferred.append(merged)

    def _refuse_in_read_only(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only session does not write")

    @asynccontextmanager
    async def planner_settings(self) -> AsyncIterator[None]:
        """A scope for reads that need ``SET LOCAL`` settings, which cannot leak into the unit's
        other statements.

        In a unit of work, a savepoint that is always rolled back (the tenant setting stays in
        the outer transaction). In a read-only session between round trips, a transaction of the
        block's own (``BEGIN READ ONLY`` and the settings, sent with its first statement) that
        ends with it: ``COMMIT`` ends the settings and keeps the prepared statements; then each
        round trip runs in its own implicit transaction again. Only ``SET LOCAL`` is let through
        :meth:`execute` there; writes stay refused.
        """
        if self._implicit:
            self._implicit, self._planning = False, True
            try:
                yield
            finally:
                self._planning = False
                try:
                    await self.end()  # COMMIT; ROLLBACK after an error
                finally:
                    self._implicit = True
            return
        await self.begin()
        self._planning = True
        try:
            async with self.conn.transaction(force_rollback=True):
                yield
        finally:
            self._planning = False

    # -- the end of a transaction ------------------------------------------------------------
    async def commit(self) -> None:
        """Commit, with the deferred writes in the same round trip; deferred constraints (the
        splits trigger) are checked here. Nothing sent, nothing waiting: no round trip."""
        if not self._begun and not self._deferred:
            self._wrote = False
            return
        try:
            await self._send([(_COMMIT, (), _Want.NOTHING)])
        finally:
            self._begun = self._wrote = False
            self._deferred = []
            # Failed (INERROR), or ended before its COMMIT was sent (a value refused on the
            # client while the batch was queued: what was queued before it ran): rolled back, so
            # no later unit on the connection commits what this one wrote.
            if self.conn.info.transaction_status in _OPEN:
                await self.conn.rollback()

    async def rollback(self) -> None:
        """Roll back whatever is open (deferred writes are dropped unsent)."""
        self._deferred = []
        self._begun = self._wrote = False
        await self.conn.rollback()

    async def end(self) -> None:
        """Leave the transaction without committing its writes: a transaction that only read
        ends with ``COMMIT`` (the same outcome), because after a ``ROLLBACK`` psycopg forgets
        the connection's prepared statements and has them deallocated; one that wrote, or
        failed, rolls back."""
        status = self.conn.info.transaction_status
        if not self._begun and not self._deferred and status == psycopg.pq.TransactionStatus.IDLE:
            self._wrote = False  # nothing open (a read-only session's round trips each ended)
            return
        if self._wrote or self._deferred or status != psycopg.pq.TransactionStatus.INTRANS:
            await self.rollback()
        else:
            await self.commit()
