"""What each statement of a ``POST /api/transactions`` costs PostgreSQL, alone, on one backend.

    python perf/bench_write_statements.py [--units 400]

Embedded PostgreSQL, one pooled connection (so one backend, whose CPU is read from
``/proc/<pid>/stat``), a tenant with one account and eight categories. Each row of the table is
a unit of work — ``BEGIN``, the tenant setting, ``SELECT 1``, the statement, ``COMMIT`` in one
round trip — run ``--units`` times in each of four alternating rounds; its cost beyond the bare
unit is the statement's. The last rows are a write's own statements: the transaction's row,
split and balance with its two events, as separate statements and their outbox rows as arrays
(before issue 24's merges) and carried in one statement with the outbox rows as one JSON
parameter (after). Clock ticks are 10 ms: a row's figure is exact to ~0.01 ms at 400 units.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pgvector import Vector
from psycopg.types.json import Jsonb

from valorize_adapters.postgres import EmbeddedPostgres, PostgresBackend, migrate
from valorize_adapters.postgres import unit_of_work as units
from valorize_adapters.postgres.repositories import _INSERT_SPLIT, _INSERT_TX
from valorize_adapters.postgres.rows import split_params, transaction_params
from valorize_adapters.postgres.vector_index import _COUNTED_EXACT
from valorize_core.model.accounts import Account, AccountKind
from valorize_core.model.categories import Category, CategoryKind
from valorize_core.model.events import AccountBalanceChanged, DomainEvent, TransactionCreated
from valorize_core.model.money import Money
from valorize_core.model.transactions import Split, Transaction
from valorize_core.use_cases.actions.signup import Signup, SignupRequest

_ARRAY_OUTBOX = (
    "INSERT INTO outbox (tenant_id, id, name, occurred_at, payload, correlation_id)"
    " SELECT e.tenant_id, e.id, e.name, e.occurred_at, e.payload, e.correlation_id"
    " FROM unnest(%s::uuid[], %s::uuid[], %s::text[], %s::timestamptz[], %s::jsonb[], %s::text[])"
    " WITH ORDINALITY AS e(tenant_id, id, name, occurred_at, payload, correlation_id, position)"
    " ORDER BY e.position"
)
_BALANCE = "UPDATE accounts SET balance_minor = balance_minor + %s WHERE tenant_id = %s AND id = %s RETURNING *"


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _measure(url: str, units_per_round: int) -> list[tuple[str, float]]:
    backend = await PostgresBackend.open(url, min_size=1, max_size=1)
    ports = backend.ports
    t = (await Signup(ports)(SignupRequest("Bench", f"{uuid.uuid4().hex}@example.com", "B"))).tenant.id
    now = datetime.now(UTC)
    money = Money(0, "BRL")
    account = Account(uuid.uuid4(), t, "Checking", AccountKind.CHECKING, money, money, date(2026, 1, 1), now)
    async with ports.uow(t) as uow:
        await uow.accounts.add(account)
        for n in range(8):
            await uow.categories.add(Category(uuid.uuid4(), t, f"Category {n}", CategoryKind.EXPENSE, None))
        await uow.commit()
    async with backend.pool.connection() as conn:
        found = await (await conn.execute("SELECT pg_backend_pid()")).fetchone()
    assert found is not None
    pid = int(found[0])

    def reading(query: str, params: Any) -> Callable[[], Awaitable[None]]:
        async def unit() -> None:
            async with ports.uow(t) as uow:
                extra = [(query, params)] if query else []
                await uow.session.fetch_together(("SELECT 1 AS one", ()), *extra)  # type: ignore[attr-defined]
                await uow.session.commit()  # type: ignore[attr-defined]

        return unit

    def writing(merged: bool) -> Callable[[], Awaitable[None]]:
        async def unit() -> None:
            tx = Transaction(id=uuid.uuid4(), tenant_id=t, account_id=account.id, booked_on=date(2026, 2, 1),
                             description="PADARIA", payee="Padaria", amount=Money(-100, "BRL"),
                             splits=(Split(None, Money(-100, "BRL")),), created_at=now, updated_at=now)  # fmt: skip
            events: list[DomainEvent] = [
                TransactionCreated(event_id=uuid.uuid4(), tenant_id=t, occurred_at=now, transaction_id=str(tx.id),
                                   account_id=str(account.id), amount_minor=-100, currency="BRL",
                                   booked_on="2026-02-01", category_id=None, description="PADARIA"),
                AccountBalanceChanged(event_id=uuid.uuid4(), tenant_id=t, occurred_at=now,
                                      account_id=str(account.id), balance_minor=-100, currency="BRL"),
            ]  # fmt: skip
            async with ports.uow(t) as uow:
                session = uow.session  # type: ignore[attr-defined]
                session.defer(_INSERT_TX, [transaction_params(tx)], inline=merged)
                session.defer(_INSERT_SPLIT, split_params(tx), inline=merged)
                records = [e.to_record() for e in events]
                if merged:
                    await session.fetch_carrying(_BALANCE, (-100, t, account.id))
                    session.defer(units._INSERT_OUTBOX, [(units._json_text(records),)])
                else:
                    await session.fetch(_BALANCE, (-100, t, account.id))
                    session.defer(_ARRAY_OUTBOX, [(
                        [e.tenant_id for e in events], [e.event_id for e in events], [r["name"] for r in records],
                        [e.occurred_at for e in events], [Jsonb(r["payload"]) for r in records],
                        [e.correlation_id for e in events],
                    )])  # fmt: skip
                await session.commit()

        return unit

    query_vector = Vector([0.1] * 256)
    rows: dict[str, Callable[[], Awaitable[None]]] = {
        "a bare unit: BEGIN, setting, SELECT 1, COMMIT": reading("", ()),
        "+ the account": reading("SELECT * FROM accounts WHERE tenant_id = %s AND id = %s", (t, account.id)),
        "+ the tree's shared lock": reading(
            "SELECT pg_advisory_xact_lock_shared(%s, hashtext(%s)) AS held", (0x4354, str(t))
        ),
        "+ the categories (8)": reading("SELECT * FROM categories WHERE tenant_id = %s ORDER BY lower(name), id", (t,)),
        "+ the rules (none)": reading("SELECT * FROM rules WHERE tenant_id = %s ORDER BY position, id", (t,)),
        "+ the word statistics": reading(
            "SELECT word, category_id, weight FROM payee_words WHERE tenant_id = %s AND word = ANY(%s)"
            " ORDER BY word, category_id",
            (t, ["padaria", "real"]),
        ),
        "+ the counted neighbour search (no examples)": reading(
            _COUNTED_EXACT, {"t": t, "d": 256, "over": 20_001, "q": query_vector, "k": 10, "limit": 20_000}
        ),
        "+ the payee memory": reading(
            "SELECT * FROM payee_memory WHERE tenant_id = %s AND payee_key = %s", (t, "padaria")
        ),
        "a write: row, split, balance, 2 events as separate statements, arrays": writing(False),
        "a write: row, split, balance carried in one, 2 events as JSON": writing(True),
    }
    for unit in rows.values():  # warm: every statement prepared
        for _ in range(20):
            await unit()
    spent = dict.fromkeys(rows, 0.0)
    for _ in range(4):
        for name, unit in rows.items():
            before = _cpu(pid)
            for _ in range(units_per_round):
                await unit()
            spent[name] += _cpu(pid) - before
    await backend.close()
    return [(name, cpu / (4 * units_per_round) * 1000) for name, cpu in spent.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        server = EmbeddedPostgres(Path(data), delete_on_stop=True)
        url = server.start()
        try:
            asyncio.run(migrate(url))
            results = asyncio.run(_measure(url, args.units))
        finally:
            server.stop()
    bare = results[0][1]
    print("| unit of work | PostgreSQL CPU | beyond a bare unit |\n|---|---|---|")
    for name, ms in results:
        print(f"| {name} | {ms:.3f} ms | {ms - bare:+.3f} ms |")


if __name__ == "__main__":
    main()
