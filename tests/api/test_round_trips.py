"""What a request costs PostgreSQL, counted on the wire (libpq's trace of every pooled connection
lent while it runs): round trips (the client waits for ``ReadyForQuery``), statements and
transactions. Deterministic, unlike timings, so a regression fails here."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from http_support import Api
from litestar.testing import TestClient

from valorize_adapters.postgres.session import Session
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings

_numbers = itertools.count()


def _trips(unit: Any, width: int = 70) -> list[list[str]]:
    """The statements of each round trip (``width`` characters of each, for the failure message)."""
    trips: list[list[str]] = [[]]
    named = dict(unit.prepared)
    for line in unit.lines:
        side, _, message, *rest = line.split("\t")
        if side == "F" and message == "Parse":
            named[rest[0].split('"')[1]] = rest[0].split('"')[3]
        elif side == "F" and message == "Bind":
            trips[-1].append(named[rest[0].split('"')[3]][:width])
        elif side == "B" and message == "ReadyForQuery":
            trips.append([])
    return [t for t in trips if t]


@dataclass
class Lease:
    """One connection lent by the pool, and what went over it; ``prepared``: the connection's
    prepared statements when it was lent (name → text), which the trace names but not shows."""

    lines: list[str]
    prepared: dict[str, str]

    def count(self, side: str, message: str) -> int:
        return sum(1 for line in self.lines if line.split("\t")[0] == side and line.split("\t")[2] == message)

    @property
    def round_trips(self) -> int:
        """Waits for ``ReadyForQuery`` after something was executed. Not counted: psycopg's
        one-time preparation of a statement on a connection (on its 5th run outside a pipeline
        it sends the ``Parse`` alone first), which each connection pays once per statement."""
        trips, executed = 0, False
        for line in self.lines:
            side, _, message, *_ = line.split("\t")
            executed = executed or (side == "F" and message in ("Execute", "Query"))
            if side == "B" and message == "ReadyForQuery":
                trips, executed = trips + executed, False
        return trips

    @property
    def statements(self) -> int:
        return self.count("F", "Execute") + self.count("F", "Query")

    def executed(self) -> list[str]:
        """The text of every statement executed, in order (a Bind names its statement)."""
        named = dict(self.prepared)
        out = []
        for line in self.lines:
            side, _, message, *rest = line.split("\t")
            if side != "F":
                continue
            if message == "Parse":
                name, text = rest[0].split('"')[1], rest[0].split('"')[3]
                named[name] = text
            elif message == "Bind":
                out.append(named[rest[0].split('"')[3]])
            elif message == "Query":
                out.append(rest[0])
        return out

    def sent(self, text: str) -> int:
        """How many statements executed contain ``text``."""
        return sum(1 for statement in self.executed() if text in statement)


@dataclass
class Wire:
    leases: list[Lease] = field(default_factory=list)

    def requests(self) -> list[Lease]:
        """The leases but the relay's deferred mark of published events (a timer's, which may
        fall inside the window or not)."""
        return [lease for lease in self.leases if not lease.sent("UPDATE outbox SET published_at")]


@contextmanager
def traced(client: TestClient[Any], directory: Path) -> Iterator[Wire]:
    """Trace every connection the runtime's pool lends inside the block."""
    runtime = client.app.state.runtime
    pool = runtime.backend.pool
    client.blocking_portal.call(runtime.relay.flush)  # earlier requests' marks, not ours
    wire = Wire()
    files: dict[int, tuple[int, Path]] = {}
    names: dict[int, dict[str, str]] = {}
    getconn, putconn = pool.getconn, pool.putconn

    async def traced_getconn(timeout: float | None = None) -> psycopg.AsyncConnection[Any]:  # noqa: ASYNC109
        conn = await getconn(timeout)
        path = directory / f"lease-{next(_numbers)}.trace"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        conn.pgconn.trace(fd)
        conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE)
        files[id(conn)] = (fd, path)
        names[id(conn)] = {
            name.decode(): key[0].decode()
            for key, name in conn._prepared._names.items()  # psycopg's own record, for the test's reading only
        }
        return conn

    async def traced_putconn(conn: psycopg.AsyncConnection[Any]) -> None:
        if (found := files.pop(id(conn), None)) is not None:
            conn.pgconn.untrace()  # flushes the trace
            os.close(found[0])
            wire.leases.append(Lease(found[1].read_text().splitlines(), names.pop(id(conn))))
        await putconn(conn)

    pool.getconn, pool.putconn = traced_getconn, traced_putconn
    try:
        yield wire
    finally:
        pool.getconn, pool.putconn = getconn, putconn


@pytest.fixture
def pg_client(database_url: str) -> Iterator[TestClient[Any]]:
    container = Container()
    container.settings.override(Settings(backend="postgres", database_url=database_url, db_pool_max=4))
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield client


def test_a_write_is_one_transaction_of_three_round_trips(pg_client: TestClient[Any], tmp_path: Path) -> None:
    api = Api(pg_client)
    account = api.account()
    groceries = api.category("Groceries")
    assert api.tx(account, "2026-03-01", "PADARIA REAL", "-5.00").status_code == 201  # the token is cached now

    with traced(pg_client, tmp_path) as categorized:
        response = api.tx(account, "2026-03-02", "PADARIA REAL 2", "-7.00")
    with traced(pg_client, tmp_path) as manual:
        chosen = api.tx(account, "2026-03-03", "MERCADO", "-9.00", category_id=groceries)

    assert response.status_code == 201, response.text
    assert chosen.status_code == 201, chosen.text
    for wire in (categorized, manual):
        (unit,) = wire.requests()  # one connection, one transaction: the follow-up tasks too
        assert unit.sent("BEGIN") == 1
        assert unit.sent("COMMIT") == 1
        assert unit.sent("INSERT INTO task_queue") == 1
        assert unit.sent("INSERT INTO outbox") == 1
        assert unit.sent("FROM categories") == 1  # read once, though checked and used twice
        assert unit.sent("FROM rules") == 1
        assert unit.round_trips <= 3, "\n".join(" | ".join(t) for t in _trips(unit))
        # The row, its split and the balance in one statement; the outbox and the tasks in one.
        assert unit.sent("INSERT INTO splits") == unit.sent("UPDATE accounts SET balance_minor") == 1
        (moved,) = [s for s in unit.executed() if "UPDATE accounts SET balance_minor" in s]
        assert "INSERT INTO transactions" in moved, moved
        assert "INSERT INTO splits" in moved, moved
        (stored,) = [s for s in unit.executed() if "INSERT INTO outbox" in s]
        assert "INSERT INTO task_queue" in stored, stored
        # The account is locked with the opening reads, after the tree's shared lock; its
        # balance (known under the lock) moves in front of the unit's next statement, in no
        # round trip of its own: with the commit (categorized), or with the payee memory's read.
        opening, *later = _trips(unit, width=10_000)
        locked = [n for n, s in enumerate(opening) if "FROM accounts" in s and "FOR UPDATE" in s]
        tree = [n for n, s in enumerate(opening) if "pg_advisory_xact_lock_shared" in s]
        assert len(locked) == len(tree) == 1, opening
        assert tree[0] < locked[0], opening
        assert "set_config('valorize.tenant_id'" in opening[tree[0]], opening  # taken by the settings' statement
        assert unit.sent("FROM accounts") == 1
        (moving,) = [t for t in later if any("UPDATE accounts SET balance_minor" in s for s in t)]
        expected = "COMMIT" if wire is categorized else "FROM payee_memory"
        assert any(expected in s for s in moving[1:]), moving
    # Statements per write (each costs the API building, binding and reading it): BEGIN, the
    # settings with the tree's shared lock (one statement: 12 and 17 when the lock had its own),
    # account, categories, rules, the line's word statistics;
    # the neighbours (counted and searched in one statement) with the payee memory; the rows
    # with the balance; the outbox with the tasks, COMMIT. A person's category: no search; the
    # payee memory with the payee's rule suggestions, then the learned words (one statement), the
    # memory entry, the example, its vector, and whether the tenant's vectors now enter the graph.
    assert categorized.requests()[0].statements == 11, categorized.requests()[0].executed()
    assert manual.requests()[0].statements == 16, "\n".join(s[:160] for s in manual.requests()[0].executed())
    # The categorizer's path: the opening reads (the account locked); the neighbour search with
    # the payee memory of the learned key (which the word statistics of the first trip decide);
    # the rows with the balance, the outbox with the tasks and COMMIT (4 before the balance moved
    # with the commit).
    assert categorized.requests()[0].round_trips == 3, "\n".join(
        " | ".join(t) for t in _trips(categorized.requests()[0])
    )
    (search,) = [t for t in _trips(categorized.requests()[0]) if any("m.item_id" in s for s in t)]  # the counted search
    assert any("FROM payee_memory" in s for s in search), search
    # A person's category: no neighbour search; the payee memory of the learned key is read,
    # and the learned words, the memory entry and the example go with the commit.
    assert manual.requests()[0].round_trips == 3
    body = api.get(f"/api/accounts/{account}").json()
    assert body["balance"]["amount"] == "979.00"
    # The tasks statement went with each commit, and wrote nothing: the tenant has no budget and
    # no webhook endpoint, so no follow-up could do something. With a budget (its own evaluation
    # queued when set), a write adds one evaluation for its day, in the same statement.
    assert _task_names(pg_client, api.tenant_id) == []
    budget = {"category_id": groceries, "limit": "100.00", "currency": "BRL", "starts_on": "2026-03-01"}
    assert api.post("/api/budgets", budget).status_code == 201
    assert _task_names(pg_client, api.tenant_id) == ["evaluate_budgets"]
    with traced(pg_client, tmp_path) as budgeted:
        assert api.tx(account, "2026-03-04", "MERCADO", "-2.00", category_id=groceries).status_code == 201
    assert budgeted.requests()[0].sent("INSERT INTO task_queue") == 1
    assert _task_names(pg_client, api.tenant_id) == ["evaluate_budgets", "evaluate_budgets"]


def _task_names(client: TestClient[Any], tenant: str) -> list[str]:
    """The tenant's queued tasks, read with row security on."""

    async def read() -> list[str]:
        async with client.app.state.runtime.backend.pool.connection() as conn:
            session = Session(conn, UUID(tenant))
            try:
                return [r["name"] for r in await session.fetch("SELECT name FROM task_queue ORDER BY name", ())]
            finally:
                await session.rollback()

    return list(client.blocking_portal.call(read))


def test_an_idempotent_write_adds_three_round_trips(pg_client: TestClient[Any], tmp_path: Path) -> None:
    api = Api(pg_client)
    account = api.account()
    assert api.tx(account, "2026-03-01", "PADARIA REAL", "-5.00").status_code == 201
    headers = {"Idempotency-Key": "k-1"}
    body = {"account_id": account, "booked_on": "2026-03-02", "description": "MERCADO", "amount": "-7.00"}

    with traced(pg_client, tmp_path) as wire:
        first = api.post("/api/transactions", body, headers=headers)
    with traced(pg_client, tmp_path) as again:
        replay = api.post("/api/transactions", body, headers=headers)

    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    claim, unit, complete = wire.requests()
    assert claim.sent("INSERT INTO idempotency_keys") == 1
    assert claim.round_trips == 2  # BEGIN, the expired key's removal, the claim; COMMIT
    assert unit.sent("INSERT INTO transactions") == 1
    # The write marks its key applied in its own commit: in COMMIT's round trip, none added (the
    # same write without a key: test_a_write_is_three_round_trips_and_one_transaction).
    assert unit.sent("idempotency_mark_applied") == 1  # its own claim's mark (MARK_APPLIED)
    (last,) = [t for t in _trips(unit, width=200) if "COMMIT" in t]
    assert any("idempotency_mark_applied" in s for s in last), last
    assert unit.round_trips == 3, _trips(unit)
    assert complete.sent("UPDATE idempotency_keys") == 1
    assert complete.round_trips == 1
    (replayed,) = again.requests()  # the stored response: no unit of work
    assert replayed.sent("INSERT INTO transactions") == 0


def test_a_list_miss_is_one_round_trip_with_no_transaction_of_its_own(
    pg_client: TestClient[Any], tmp_path: Path
) -> None:
    """A query's read-only unit: the tenant's settings and the page in one pipeline, in the
    implicit transaction its ``Sync`` ends — no ``BEGIN``, no ``COMMIT`` (it was 2 round trips)."""
    api = Api(pg_client)
    account = api.account()
    assert api.tx(account, "2026-03-01", "PADARIA REAL", "-5.00").status_code == 201  # the token is cached now

    with traced(pg_client, tmp_path) as wire:
        page = api.get(f"/api/transactions?limit=50&account_id={account}")  # never read before: a miss

    assert page.status_code == 200, page.text
    assert [t["description"] for t in page.json()["items"]] == ["PADARIA REAL"]
    (unit,) = wire.requests()
    assert unit.sent("BEGIN") == 0
    assert unit.sent("COMMIT") == 0
    assert unit.sent("ROLLBACK") == 0
    assert unit.sent("set_config('valorize.tenant_id'") == 1
    assert unit.round_trips == 1, "\n".join(" | ".join(t) for t in _trips(unit))


def test_a_token_lookup_is_one_round_trip(pg_client: TestClient[Any], tmp_path: Path) -> None:
    """The directory's lookups are read-only sessions too: the token's row in one round trip."""
    api = Api(pg_client)
    with traced(pg_client, tmp_path) as wire:
        refused = pg_client.get("/api/accounts", headers={"Authorization": "Bearer vz_no-such-token"})

    assert refused.status_code == 401
    (lookup,) = wire.requests()
    assert lookup.sent("FROM api_tokens") == 1
    assert lookup.sent("COMMIT") == lookup.sent("BEGIN") == 0
    assert lookup.round_trips == 1, "\n".join(" | ".join(t) for t in _trips(lookup))
    assert api.get("/api/accounts").status_code == 200
