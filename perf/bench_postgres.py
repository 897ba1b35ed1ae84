"""PostgreSQL benchmark: single inserts, bulk import, and list-page latency at 1,000,000 rows.

    python perf/bench_postgres.py              # the full run (about 1,000,000 transactions)
    python perf/bench_postgres.py --quick      # a small run (seconds), used by the test suite

Everything goes through the real use cases (CreateTransaction, ImportStatement,
ListTransactions) on the PostgreSQL adapter, with row-level security on, as the API will.
Results print as a Markdown table and are written to perf/results/postgres[-quick].json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from valorize_adapters.postgres import EmbeddedPostgres, PostgresBackend
from valorize_adapters.postgres.repositories import _SELECT_TX
from valorize_adapters.postgres.session import Session
from valorize_core import NewAccount, NewCategory, NewTransaction, SignupRequest, TransactionQuery, Valorize
from valorize_core.model.money import Money
from valorize_core.model.statements import CsvMapping, parse_csv
from valorize_core.model.transactions import Categorization, Split, Transaction
from valorize_core.use_cases.actions.import_statement import StatementUpload

PAYEES = ["PADARIA REAL", "UBER *TRIP", "SUPERMERCADO ZAFFARI", "NETFLIX.COM", "POSTO IPIRANGA", "FARMACIA SAO JOAO",
          "IFOOD", "AMAZON MKTPLACE", "RESTAURANTE SABOR", "CINEMARK", "ACADEMIA FIT", "LIVRARIA CULTURA"]  # fmt: skip
CATEGORIES = ["Food", "Transport", "Groceries", "Subscriptions", "Fuel", "Health", "Delivery", "Shopping",
              "Restaurants", "Leisure", "Fitness", "Books"]  # fmt: skip


@dataclass
class Tenant:
    id: UUID
    accounts: list[UUID]
    categories: list[UUID]
    token: str = ""


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50_ms": pick(0.50) * 1000, "p95_ms": pick(0.95) * 1000, "p99_ms": pick(0.99) * 1000}


async def make_tenant(vz: Valorize, n: int) -> Tenant:
    signup = await vz.signup(SignupRequest(f"Tenant {n}", f"bench-{n}-{time.time_ns()}@example.com", "Owner"))
    t = signup.tenant.id
    accounts = [
        (await vz.create_account(NewAccount(t, name, kind, "BRL", "1000.00"))).id
        for name, kind in (("Checking", "checking"), ("Savings", "savings"), ("Card", "credit_card"), ("Cash", "cash"))
    ]
    cats = [(await vz.create_category(NewCategory(t, name, "expense"))).id for name in CATEGORIES]
    return Tenant(t, accounts, cats, signup.token_secret)


def fake_rows(tenant: Tenant, n: int, rng: random.Random, start: date) -> list[Transaction]:
    now = datetime.now(UTC)
    out = []
    for _ in range(n):
        amount = Money(-rng.randint(100, 50_000), "BRL")
        k = rng.randrange(len(PAYEES))
        category = tenant.categories[k] if rng.random() < 0.8 else None
        out.append(
            Transaction(
                id=_ids.new_id(), tenant_id=tenant.id, account_id=rng.choice(tenant.accounts),
                booked_on=start + timedelta(days=rng.randrange(730)), description=f"{PAYEES[k]} {rng.randrange(10**4)}",
                payee=PAYEES[k].title(), amount=amount, splits=(Split(category, amount),), created_at=now,
                updated_at=now, categorization=Categorization.manual() if category else Categorization.none(),
            )
        )  # fmt: skip
    return out


async def seed(backend: PostgresBackend, tenant: Tenant, rows: int, rng: random.Random, batch: int) -> float:
    """Bulk-insert ``rows`` transactions (balances moved in the same units); return rows/s."""
    started = time.perf_counter()
    done = 0
    while done < rows:
        chunk = fake_rows(tenant, min(batch, rows - done), rng, date(2024, 1, 1))
        async with backend.ports.uow(tenant.id) as uow:
            await uow.transactions.add_many(chunk)
            for account in tenant.accounts:
                delta = sum(t.amount.minor for t in chunk if t.account_id == account)
                await uow.accounts.apply_balance_delta(account, delta)
            await uow.commit()
        done += len(chunk)
    return rows / (time.perf_counter() - started)


async def single_inserts(vz: Valorize, tenant: Tenant, n: int, concurrency: int) -> dict[str, float]:
    sem = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one(i: int) -> None:
        async with sem:
            t0 = time.perf_counter()
            await vz.create_transaction(
                NewTransaction(tenant.id, tenant.accounts[i % 4], date(2026, 5, 1), f"{PAYEES[i % 12]} {i}", "-12.34")
            )
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return {"per_second": n / (time.perf_counter() - started), **percentiles(latencies)}


async def import_statement(vz: Valorize, tenant: Tenant, rows: int) -> dict[str, float]:
    rng = random.Random(3)
    lines = ["date,text,amount"] + [
        f"2026-0{1 + i % 9}-{1 + i % 28:02d},{rng.choice(PAYEES)} {i},-{rng.randint(1, 999)}.{rng.randint(0, 99):02d}"
        for i in range(rows)
    ]
    text = "\n".join(lines) + "\n"
    started = time.perf_counter()
    parsed = parse_csv(text, CsvMapping("date", "text", amount_column="amount"), "BRL")
    record = await vz.import_statement(StatementUpload(tenant.id, tenant.accounts[0], "bench.csv", parsed))
    elapsed = time.perf_counter() - started
    assert record.imported == rows, record
    again = time.perf_counter()
    record = await vz.import_statement(StatementUpload(tenant.id, tenant.accounts[0], "bench.csv", parsed))
    assert record.duplicates == rows
    return {"rows_per_second": rows / elapsed, "reimport_dedup_seconds": time.perf_counter() - again}


async def timed(vz: Valorize, query: TransactionQuery, repeat: int, allow_empty: bool = False) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        page = await vz.list_transactions(query)
        samples.append(time.perf_counter() - t0)
        assert page.items or allow_empty
    return percentiles(samples)


async def cursor_at_depth(vz: Valorize, query: TransactionQuery, depth: int) -> str | None:
    cursor = None
    for _ in range(depth // query.limit):
        page = await vz.list_transactions(_with(query, cursor))
        cursor = page.next_cursor
        if cursor is None:
            break
    return cursor


def _with(query: TransactionQuery, cursor: str | None) -> TransactionQuery:
    from dataclasses import replace

    return replace(query, cursor=cursor)


async def offset_page(backend: PostgresBackend, tenant: Tenant, offset: int, repeat: int) -> dict[str, float]:
    """For contrast only: the same page (same columns, splits included) by OFFSET, which the API never uses."""
    samples = []
    statement = _SELECT_TX + (
        " WHERE t.tenant_id = %s AND t.account_id = %s ORDER BY t.booked_on DESC, t.id DESC OFFSET %s LIMIT 51"
    )
    async with backend.pool.connection() as conn:
        s = Session(conn, tenant.id)
        for _ in range(repeat):
            t0 = time.perf_counter()
            rows = await s.fetch(statement, (tenant.id, tenant.accounts[0], offset))
            samples.append(time.perf_counter() - t0)
            assert rows
        await s.rollback()
    return percentiles(samples)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    server = None
    url = args.database_url
    if not url:
        server = EmbeddedPostgres(tempfile.mkdtemp(prefix="vz-bench-"), delete_on_stop=True)
        url = server.start()
    rng = random.Random(42)
    results: dict[str, Any] = {
        "transactions": args.transactions,
        "machine": platform.platform(),
        "python": sys.version.split()[0],
    }
    try:
        backend = await PostgresBackend.open(url, max_size=max(8, args.concurrency))
        vz = backend.app
        tenants = [await make_tenant(vz, n) for n in range(args.tenants)]
        big, rest = tenants[0], tenants[1:]
        big_rows = int(args.transactions * 0.4)
        print(f"seeding {args.transactions:,} transactions over {args.tenants} tenants ...", file=sys.stderr)
        rates = [await seed(backend, big, big_rows, rng, args.batch)]
        per_other = (args.transactions - big_rows) // max(1, len(rest))
        for tenant in rest:
            rates.append(await seed(backend, tenant, per_other, rng, args.batch))
        results["bulk_insert_rows_per_second"] = statistics.mean(rates)
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute("ANALYZE")
        print("single inserts ...", file=sys.stderr)
        results["single_insert_sequential"] = await single_inserts(vz, rest[0], args.singles, 1)
        results["single_insert_concurrent"] = await single_inserts(vz, rest[0], args.singles, args.concurrency)
        results["concurrency"] = args.concurrency
        print("import ...", file=sys.stderr)
        results["import_statement"] = await import_statement(vz, rest[1], args.import_rows)
        print("list pages ...", file=sys.stderr)
        by_account = TransactionQuery(big.id, account_id=big.accounts[0], limit=50)
        deep = min(args.depth, big_rows // 4 - 100)
        deep_cursor = await cursor_at_depth(vz, by_account, deep)
        results["big_tenant_rows"] = big_rows
        results["deep_page_offset"] = deep
        results["list"] = {
            "first_page_all_accounts": await timed(vz, TransactionQuery(big.id, limit=50), args.repeat),
            "first_page_one_account": await timed(vz, by_account, args.repeat),
            "deep_page_one_account_keyset": await timed(vz, _with(by_account, deep_cursor), args.repeat),
            "deep_page_one_account_offset_sql": await offset_page(backend, big, deep, args.repeat),
            "category_filter": await timed(
                vz, TransactionQuery(big.id, category_id=big.categories[2], limit=50), args.repeat
            ),
            "text_search": await timed(vz, TransactionQuery(big.id, text="netflix", limit=50), args.repeat),
            "text_search_rare_word_largest_tenant": await timed(
                vz, TransactionQuery(big.id, text="cultura 1234", limit=50), max(3, args.repeat // 10), allow_empty=True
            ),
            "text_search_rare_word_small_tenant": await timed(
                vz, TransactionQuery(rest[-1].id, text="cultura 1234", limit=50), args.repeat, allow_empty=True
            ),
            "small_tenant_first_page": await timed(vz, TransactionQuery(rest[-1].id, limit=50), args.repeat),
        }
        await backend.close()
    finally:
        if server is not None:
            server.stop()
    return results


def table(r: dict[str, Any]) -> str:
    seq, imp = r["single_insert_sequential"], r["import_statement"]
    lines = [
        f"Transactions seeded: {r['transactions']:,} (largest tenant {r['big_tenant_rows']:,}); {r['machine']}",
        "",
        "| measure | result |",
        "|---|---|",
        f"| bulk insert (add_many, 5,000-row units, RLS on) | {r['bulk_insert_rows_per_second']:,.0f} rows/s |",
        f"| CreateTransaction, sequential | {seq['per_second']:,.0f}/s "
        f"(P50 {seq['p50_ms']:.1f} ms, P95 {seq['p95_ms']:.1f} ms) |",
        f"| CreateTransaction, {r['concurrency']} concurrent | {r['single_insert_concurrent']['per_second']:,.0f}/s "
        f"(P95 {r['single_insert_concurrent']['p95_ms']:.1f} ms) |",
        f"| ImportStatement (CSV parse, dedup, categorize, insert) | {imp['rows_per_second']:,.0f} rows/s;"
        f" re-import of the same file {imp['reimport_dedup_seconds']:.2f} s, 0 added |",
    ]
    for name, p in r["list"].items():
        label = name.replace("_", " ")
        if "deep" in name:
            label += f" (row {r['deep_page_offset']:,})"
        lines.append(f"| list page: {label} | P50 {p['p50_ms']:.2f} ms, P95 {p['p95_ms']:.2f} ms |")
    return "\n".join(lines)


_ids: Any = None

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small run for smoke tests")
    parser.add_argument("--database-url", default=None, help="use this server instead of an embedded one")
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--singles", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--import-rows", type=int, default=5_000)
    parser.add_argument("--depth", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--output", type=Path, default=None, help="where to write the JSON results")
    parsed = parser.parse_args()
    if parsed.quick:
        parsed.transactions, parsed.tenants, parsed.singles = 4_000, 3, 100
        parsed.import_rows, parsed.depth, parsed.repeat, parsed.batch = 300, 400, 10, 1_000
    from valorize_adapters.system import TimeOrderedIds

    _ids = TimeOrderedIds()
    out = asyncio.run(main(parsed))
    name = "postgres-quick.json" if parsed.quick else "postgres.json"
    output = parsed.output or Path(__file__).parent / "results" / name
    output.write_text(json.dumps(out, indent=2) + "\n")
    print(table(out))
