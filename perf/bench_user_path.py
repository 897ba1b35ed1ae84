"""Categorization speed on the user's path, in memory and on PostgreSQL.

    python perf/bench_user_path.py [--quick] [--backend memory|postgres|both] [--output FILE] [--gc-threshold N]

Everything goes through the public use cases, as the API calls them:

* **learning**: a person records categorized transactions (``create_transaction`` with a
  ``category_id``, one unit each — what ``POST /api/transactions`` does), then corrects the
  category of uncategorized ones: half one at a time (``correct_category``,
  ``POST /api/transactions/{id}/category``), half in batches of 250 (``correct_categories``,
  ``POST /api/transactions/corrections``). Each teaches the payee memory and the neighbour
  index. Corrections per second.
* **import**: ``import_statement`` of a parsed statement (dedup, rules, memory, neighbours,
  insert, balance, one commit) into the tenant that learned. Rows per second.
* **suggestions**: ``suggest_categories`` (``GET /api/transactions/{id}/suggestions``) for
  imported rows, one query each; then ``suggest_categories_many``
  (``POST /api/transactions/suggestions``) for the same rows, 200 per query. Rows per second.

The garbage collector is tuned as the roles tune it once the backend is open (``collector.py``;
``--gc-threshold``, default ``VALORIZE_GC_THRESHOLD``'s; 0: Python's own), and each phase also
reports its passes and their time. Each measure is timed three ways in one run: wall clock, the
CPU of this process (the use cases and the adapter) and, on PostgreSQL, the CPU of the server's
processes (its backends) — on a shared machine the wall clock swings with the load, the CPU
seconds much less; ``rows per CPU second`` counts both processes' CPU. The server's CPU is split
into its client backends (the statements the phase ran) and its background processes (autovacuum
and analyze workers, the checkpointer, the writers: work the phase did not ask for, often owed to
an earlier phase).

The data: payees across 16 categories, printed the ways banks print them (prefixes, card and
reference numbers, cities), so memory, neighbours and abstentions all occur. Results: a
Markdown table and ``perf/results/user_path.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from valorize_adapters.memory import InMemoryBackend
from valorize_adapters.postgres import EmbeddedPostgres, PostgresBackend
from valorize_core import NewAccount, NewCategory, NewTransaction, SignupRequest, TransactionQuery, Valorize
from valorize_core.model.money import Money
from valorize_core.model.statements.rows import ParsedStatement, StatementRow
from valorize_core.use_cases.actions.correct_category import CategoryCorrection, CategoryCorrections
from valorize_core.use_cases.actions.create_transaction import SplitInput
from valorize_core.use_cases.actions.import_statement import StatementUpload
from valorize_core.use_cases.queries.suggest_categories import SuggestionQuery, SuggestionsQuery
from valorize_entrypoints.collector import PASSES, count_passes, tune_collector
from valorize_entrypoints.settings import Settings

CATEGORIES: dict[str, list[str]] = {
    "Groceries": ["SUPERMERCADO ZAFFARI", "CARREFOUR", "PAO DE ACUCAR", "ATACADAO", "HORTIFRUTI", "WHOLE FOODS"],
    "Restaurants": ["RESTAURANTE SABOR", "OUTBACK", "PIZZARIA BELLA", "SUSHI LOKO", "CHURRASCARIA GAUCHA"],
    "Transport": ["UBER *TRIP", "99 TAXI", "METRO SP", "CABIFY"],
    "Fuel": ["POSTO IPIRANGA", "SHELL SELECT", "POSTO PETROBRAS"],
    "Health": ["FARMACIA SAO JOAO", "DROGASIL", "RAIA DROGARIA", "LAB FLEURY"],
    "Subscriptions": ["NETFLIX.COM", "SPOTIFY", "AMAZON PRIME", "DISNEY PLUS"],
    "Delivery": ["IFOOD", "RAPPI", "UBER EATS"],
    "Shopping": ["AMAZON MKTPLACE", "MERCADO LIVRE", "MAGAZINE LUIZA", "RENNER"],
    "Leisure": ["CINEMARK", "INGRESSO.COM", "TEATRO MUNICIPAL"],
    "Fitness": ["ACADEMIA FIT", "SMART FIT", "BODYTECH"],
    "Books": ["LIVRARIA CULTURA", "SARAIVA", "AMAZON KINDLE"],
    "Utilities": ["ENEL ENERGIA", "SABESP", "COMGAS", "VIVO FIBRA"],
    "Coffee": ["STARBUCKS", "CAFE DO PONTO", "FRAN S CAFE"],
    "Pets": ["PETZ", "COBASI", "VET CLINICA"],
    "Travel": ["LATAM AIR", "GOL LINHAS", "BOOKING.COM", "AIRBNB"],
    "Education": ["ALURA", "UDEMY", "ESCOLA ABC"],
}
FORMATS = ["{P}", "COMPRA CARTAO {card} {P} {city}", "PIX ENVIADO {P}", "DEBITO {P} {ref}", "{P} {city} BR",
           "PAG*{P}", "{P} PARC {n}/10"]  # fmt: skip
CITIES = ["SAO PAULO", "RIO DE JANEIRO", "CURITIBA", "PORTO ALEGRE", "RECIFE", "BELO HORIZONTE"]


def bank_text(payee: str, rng: random.Random) -> str:
    """What a bank prints for ``payee``."""
    return rng.choice(FORMATS).format(
        P=payee,
        card=rng.randrange(1000, 9999),
        city=rng.choice(CITIES),
        ref=rng.randrange(10**6, 10**7),
        n=rng.randrange(1, 10),
    )


def rows(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """``n`` (text, category) pairs; a tenth are payees seen nowhere else (numbered stores)."""
    names = list(CATEGORIES)
    out = []
    for _ in range(n):
        category = rng.choice(names)
        payee = rng.choice(CATEGORIES[category])
        if rng.random() < 0.1:
            payee = f"{payee.split()[0]} {rng.randrange(10**4)}"
        out.append((bank_text(payee, rng), category))
    return out


async def tenant(vz: Valorize) -> tuple[UUID, UUID, dict[str, UUID]]:
    signup = await vz.signup(SignupRequest("Bench", f"bench-{time.time_ns()}@example.com", "Owner"))
    t = signup.tenant.id
    account = (await vz.create_account(NewAccount(t, "Checking", "checking", "BRL", "100000.00"))).id
    categories = {name: (await vz.create_category(NewCategory(t, name, "expense"))).id for name in CATEGORIES}
    return t, account, categories


def _ticks(pid: int) -> int:
    """CPU clock ticks of process ``pid`` and of its children it has waited for (Linux)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:  # gone meanwhile
        return 0
    return sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime


BACKGROUND = ("checkpointer", "background writer", "walwriter", "autovacuum", "logical replication",
              "archiver", "startup", "walsender", "walreceiver", "parallel worker")  # fmt: skip


def _children(postmaster: int) -> dict[int, tuple[bool, int]]:
    """Each live process the postmaster started: whether it serves a client (``postgres: user db
    ...`` in its command line, not a background process such as an autovacuum worker), and its ticks."""
    out = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                if ppid != postmaster:
                    continue
                with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                    title = f.read().decode(errors="replace")
            except (OSError, ValueError, IndexError):
                continue
            client = not any(title.startswith(f"postgres: {kind}") for kind in BACKGROUND)
            out[int(entry.name)] = (client, _ticks(int(entry.name)))
    return out


def _server_cpu(postmaster: int | None) -> tuple[float, dict[int, int]]:
    """CPU seconds of the PostgreSQL server — the postmaster and every process it started
    (processes that exited, autovacuum workers mostly, are in the postmaster's children times) —
    and the ticks of each live client backend."""
    if postmaster is None:
        return 0.0, {}
    children = _children(postmaster)
    ticks = _ticks(postmaster) + sum(t for _, t in children.values())
    return ticks / os.sysconf("SC_CLK_TCK"), {pid: t for pid, (client, t) in children.items() if client}


class Meter:
    """Wall clock, this process's CPU and the server's CPU of each measured phase, the latter split
    into the client backends (the statements the phase ran) and the rest (autovacuum and analyze
    workers, checkpointer, writers: work the phase did not ask for, often owed to an earlier one)."""

    def __init__(self, postmaster: int | None) -> None:
        self.postmaster = postmaster
        self.phases: dict[str, dict[str, float]] = {}

    @asynccontextmanager
    async def phase(self, key: str, count: int) -> AsyncIterator[None]:
        passes, paused, cpu = PASSES.counts[:], PASSES.seconds[:], PASSES.cpu_seconds
        wall, app = time.perf_counter(), time.process_time()
        db, clients = _server_cpu(self.postmaster)
        yield
        wall = time.perf_counter() - wall
        app = time.process_time() - app
        db_end, clients_end = _server_cpu(self.postmaster)
        db = db_end - db
        # A client backend that exited during the phase counts as background (the pool keeps them).
        client = sum(t - clients.get(pid, 0) for pid, t in clients_end.items()) / os.sysconf("SC_CLK_TCK")
        self.phases[key] = {
            "per_s": count / wall,
            "app_cpu_ms_per_row": 1000 * app / count,
            "db_cpu_ms_per_row": 1000 * db / count,
            "db_client_cpu_ms_per_row": 1000 * client / count,
            "db_background_cpu_ms_per_row": 1000 * max(db - client, 0.0) / count,  # ticks read a moment apart
            "per_cpu_s": count / max(app + db, 1e-9),
            "gc_passes": sum(PASSES.counts) - sum(passes),
            "gc_full_passes": PASSES.counts[2] - passes[2],
            "gc_ms_per_row": 1000 * (sum(PASSES.seconds) - sum(paused)) / count,
            "gc_cpu_ms_per_row": 1000 * (PASSES.cpu_seconds - cpu) / count,
        }


async def measure(vz: Valorize, args: argparse.Namespace, postmaster: int | None = None) -> dict[str, Any]:
    meter = Meter(postmaster)
    rng = random.Random(23)
    t, account, categories = await tenant(vz)
    start = date(2026, 1, 1)
    learned = rows(rng, args.learn)
    async with meter.phase("learn_create_per_s", len(learned)):
        for i, (text, category) in enumerate(learned):
            await vz.create_transaction(
                NewTransaction(
                    t,
                    account,
                    start + timedelta(days=i % 200),
                    text,
                    f"-{rng.randint(100, 9999) / 100:.2f}",
                    category_id=categories[category],
                )
            )
    # Corrections: uncategorized rows (recorded first, not timed) get their category.
    wrong = rows(rng, args.corrections)
    pending = []
    for i, (text, category) in enumerate(wrong):
        tx = await vz.create_transaction(
            NewTransaction(
                t, account, start + timedelta(days=i % 200), f"ZZ {i} {text}", "-1.00", splits=(SplitInput("-1.00"),)
            )
        )
        pending.append((tx.id, categories[category]))
    half = len(pending) // 2
    async with meter.phase("learn_correct_per_s", half):
        for tx_id, category_id in pending[:half]:
            await vz.correct_category(CategoryCorrection(t, tx_id, category_id))
    batched = pending[half:]
    async with meter.phase("learn_correct_batch_per_s", len(batched)):
        for start_at in range(0, len(batched), 250):
            await vz.correct_categories(CategoryCorrections(t, tuple(batched[start_at : start_at + 250])))
    statement = [
        StatementRow(
            line=i + 2,
            booked_on=start + timedelta(days=200 + i % 100),
            description=text,
            amount=Money(-rng.randint(100, 99999), "BRL"),
        )
        for i, (text, _) in enumerate(rows(rng, args.rows))
    ]
    async with meter.phase("import_rows_per_s", args.rows):
        upload = StatementUpload(t, account, "bench.csv", ParsedStatement(tuple(statement), ()))
        record = await vz.import_statement(upload)
    assert record.imported == args.rows, record
    ids: list[UUID] = []
    cursor = None
    while True:
        page = await vz.list_transactions(TransactionQuery(t, import_id=record.id, limit=500, cursor=cursor))
        ids.extend(tx.id for tx in page.items)
        cursor = page.next_cursor
        if not cursor:
            break
    ids = ids[: args.suggest]
    async with meter.phase("suggest_rows_per_s", len(ids)):
        for tx_id in ids:
            await vz.suggest_categories(SuggestionQuery(t, tx_id))
    async with meter.phase("suggest_batch_rows_per_s", len(ids)):
        for start_at in range(0, len(ids), 200):
            await vz.suggest_categories_many(SuggestionsQuery(t, tuple(ids[start_at : start_at + 200])))
    return {key: values["per_s"] for key, values in meter.phases.items()} | {"cpu": meter.phases}


def _postmaster(data_dir: str) -> int | None:
    try:
        with open(os.path.join(data_dir, "postmaster.pid")) as f:
            return int(f.readline())
    except (OSError, ValueError):
        return None


async def main(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"learn": args.learn, "corrections": args.corrections, "rows": args.rows,
                               "load_average": os.getloadavg()}  # fmt: skip
    results["gc_threshold"] = args.gc_threshold
    count_passes()
    if args.backend in ("memory", "both"):
        memory = InMemoryBackend()
        tune_collector(args.gc_threshold)  # as a role does once its startup is built
        results["memory"] = await measure(memory.app, args)
    if args.backend in ("postgres", "both"):
        data_dir = tempfile.mkdtemp(prefix="vz-bench-")
        server = EmbeddedPostgres(data_dir, delete_on_stop=True)
        url = server.start()
        try:
            backend = await PostgresBackend.open(url, max_size=4)
            tune_collector(args.gc_threshold)
            try:
                results["postgres"] = await measure(backend.app, args, _postmaster(data_dir))
            finally:
                await backend.close()
        finally:
            server.stop()
    return results


def table(r: dict[str, Any]) -> str:
    """Wall-clock rates, then (each backend) CPU milliseconds per row of this process and of the
    database server (split: client backends / background processes), and rows per CPU second of both."""
    head = "| measure | memory /s | postgres /s"
    head += " | memory CPU ms/row | postgres CPU ms/row app + db | db: clients / background | postgres rows/CPU s |"
    lines = [head, "|---|---|---|---|---|---|---|"]
    keys = ("learn_create_per_s", "learn_correct_per_s", "learn_correct_batch_per_s", "import_rows_per_s",
            "suggest_rows_per_s", "suggest_batch_rows_per_s")  # fmt: skip
    for key in keys:
        cells = [f"{r[b][key]:,.0f}" if key in r.get(b, {}) else "—" for b in ("memory", "postgres")]
        mem = r.get("memory", {}).get("cpu", {}).get(key)
        pg = r.get("postgres", {}).get("cpu", {}).get(key)
        cells.append(f"{mem['app_cpu_ms_per_row']:.2f}" if mem else "—")
        cells.append(f"{pg['app_cpu_ms_per_row']:.2f} + {pg['db_cpu_ms_per_row']:.2f}" if pg else "—")
        split = f"{pg['db_client_cpu_ms_per_row']:.2f} / {pg['db_background_cpu_ms_per_row']:.2f}" if pg else "—"
        cells.append(split)
        cells.append(f"{pg['per_cpu_s']:,.0f}" if pg else "—")
        lines.append(f"| {key} | {' | '.join(cells)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backend", choices=("memory", "postgres", "both"), default="both")
    parser.add_argument("--output", type=Path, default=None, help="default: results/user_path.json (not with --quick)")
    parser.add_argument(
        "--gc-threshold",
        type=int,
        default=Settings().gc_threshold,
        help="the collector's generation-0 threshold, as VALORIZE_GC_THRESHOLD (0: Python's, 700)",
    )
    parsed = parser.parse_args()
    parsed.learn, parsed.corrections, parsed.rows, parsed.suggest = (
        (60, 20, 200, 50) if parsed.quick else (2000, 500, 5000, 2000)
    )
    result = asyncio.run(main(parsed))
    print(table(result))
    print(f"collector (threshold {parsed.gc_threshold or 700}): passes (full), wall and CPU ms per row of each phase")
    for where in ("memory", "postgres"):
        for key, phase in result.get(where, {}).get("cpu", {}).items():
            passes, full, ms, cpu = (
                phase[k] for k in ("gc_passes", "gc_full_passes", "gc_ms_per_row", "gc_cpu_ms_per_row")
            )
            print(f"  {where} {key}: {passes} ({full}), {ms:.3f} ms/row, CPU {cpu:.3f} ms/row")
    output = parsed.output or (None if parsed.quick else Path(__file__).parent / "results" / "user_path.json")
    if output is not None:
        output.write_text(json.dumps(result, indent=2) + "\n")
    sys.exit(0)
