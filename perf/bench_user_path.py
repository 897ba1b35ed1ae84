"""Categorization speed on the user's path, in memory and on PostgreSQL.

    python perf/bench_user_path.py [--quick] [--backend memory|postgres|both] [--output FILE]

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

The data: payees across 16 categories, printed the ways banks print them (prefixes, card and
reference numbers, cities), so memory, neighbours and abstentions all occur. Results: a
Markdown table and ``perf/results/user_path.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
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


async def measure(vz: Valorize, args: argparse.Namespace) -> dict[str, float]:
    rng = random.Random(23)
    t, account, categories = await tenant(vz)
    start = date(2026, 1, 1)
    learned = rows(rng, args.learn)
    began = time.perf_counter()
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
    created = len(learned) / (time.perf_counter() - began)
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
    began = time.perf_counter()
    for tx_id, category_id in pending[:half]:
        await vz.correct_category(CategoryCorrection(t, tx_id, category_id))
    corrected = half / (time.perf_counter() - began)
    batched = pending[half:]
    began = time.perf_counter()
    for start_at in range(0, len(batched), 250):
        await vz.correct_categories(CategoryCorrections(t, tuple(batched[start_at : start_at + 250])))
    corrected_batch = len(batched) / (time.perf_counter() - began)
    statement = [
        StatementRow(
            line=i + 2,
            booked_on=start + timedelta(days=200 + i % 100),
            description=text,
            amount=Money(-rng.randint(100, 99999), "BRL"),
        )
        for i, (text, _) in enumerate(rows(rng, args.rows))
    ]
    began = time.perf_counter()
    record = await vz.import_statement(StatementUpload(t, account, "bench.csv", ParsedStatement(tuple(statement), ())))
    imported = args.rows / (time.perf_counter() - began)
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
    began = time.perf_counter()
    for tx_id in ids:
        await vz.suggest_categories(SuggestionQuery(t, tx_id))
    suggested = len(ids) / (time.perf_counter() - began)
    began = time.perf_counter()
    for start_at in range(0, len(ids), 200):
        await vz.suggest_categories_many(SuggestionsQuery(t, tuple(ids[start_at : start_at + 200])))
    suggested_batch = len(ids) / (time.perf_counter() - began)
    return {
        "learn_create_per_s": created,
        "learn_correct_per_s": corrected,
        "learn_correct_batch_per_s": corrected_batch,
        "import_rows_per_s": imported,
        "suggest_rows_per_s": suggested,
        "suggest_batch_rows_per_s": suggested_batch,
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"learn": args.learn, "corrections": args.corrections, "rows": args.rows}
    if args.backend in ("memory", "both"):
        results["memory"] = await measure(InMemoryBackend().app, args)
    if args.backend in ("postgres", "both"):
        server = EmbeddedPostgres(tempfile.mkdtemp(prefix="vz-bench-"), delete_on_stop=True)
        url = server.start()
        try:
            backend = await PostgresBackend.open(url, max_size=4)
            try:
                results["postgres"] = await measure(backend.app, args)
            finally:
                await backend.close()
        finally:
            server.stop()
    return results


def table(r: dict[str, Any]) -> str:
    lines = ["| measure | memory | postgres |", "|---|---|---|"]
    keys = ("learn_create_per_s", "learn_correct_per_s", "learn_correct_batch_per_s", "import_rows_per_s",
            "suggest_rows_per_s", "suggest_batch_rows_per_s")  # fmt: skip
    for key in keys:
        cells = [f"{r[b][key]:,.0f}" if key in r.get(b, {}) else "—" for b in ("memory", "postgres")]
        lines.append(f"| {key} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backend", choices=("memory", "postgres", "both"), default="both")
    parser.add_argument("--output", type=Path, default=None, help="default: results/user_path.json (not with --quick)")
    parsed = parser.parse_args()
    parsed.learn, parsed.corrections, parsed.rows, parsed.suggest = (
        (60, 20, 200, 50) if parsed.quick else (2000, 500, 5000, 2000)
    )
    result = asyncio.run(main(parsed))
    print(table(result))
    output = parsed.output or (None if parsed.quick else Path(__file__).parent / "results" / "user_path.json")
    if output is not None:
        output.write_text(json.dumps(result, indent=2) + "\n")
    sys.exit(0)
