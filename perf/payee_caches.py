"""What the payee caches buy: their hit rates and the worker's CPU per imported row, by bound.

    python perf/payee_caches.py [--rows 4000] [--imports 4] [--bounds 0,4096,65536] [--rounds 2]

One process runs the worker's import tasks as the role does (the API app with the worker's
routes on embedded PostgreSQL, tasks delivered in-process by the local dispatcher, as in
``worker_heap.py``). Two kinds of CSV import, each into a tenant of its own:

- ``new``: every description new (``PAYEE 1a2b3c4d``) — the soak's shape, the caches' worst case;
- ``statement``: a month's bank statement — ~60 payees a tenant pays again and again, printed
  with the bank's prefixes, card numbers, dates and NSU references (most raw lines repeat,
  some differ only by a date or a reference).

For each bound of the ``payee_key`` and ``payee_words`` caches (``0``: no cache) the two caches
are rebuilt empty with that bound (the same function, re-wrapped for this process only) and
``--imports`` imports of each kind run; it reports each cache's calls and hits per row and the
process's CPU per row (``time.process_time``: this process only, PostgreSQL's CPU is not in
it). Bounds run in turn, ``--rounds`` times, so that a change of the machine's load hits every
bound alike.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

from litestar.testing import TestClient

from valorize_adapters.postgres import EmbeddedPostgres, migrate
from valorize_adapters.postgres.task_queue import LocalDispatcher
from valorize_core.model import payee_words, payees
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.delivery import InProcessDelivery
from valorize_entrypoints.settings import Settings

MAPPING = {"date_column": "date", "description_column": "description", "amount_column": "amount",
           "date_format": "%Y-%m-%d", "decimal_style": "point", "delimiter": ","}  # fmt: skip
PAYEES = ["PADARIA REAL", "SUPERMERCADO ZAFFARI", "UBER TRIP", "FARMACIA PANVEL", "POSTO IPIRANGA", "NETFLIX"]
SHOPS = ["PADARIA", "MERCADO", "FARMACIA", "POSTO", "RESTAURANTE", "LOJA", "CAFE", "PIZZARIA"]
PLACES = ["REAL", "CENTRAL", "BOM PRECO", "SAO JOAO", "AVENIDA", "DO PORTO", "NOVA", "IPIRANGA"]
CACHED = {"payee_key": (payees, "payee_key"), "payee_words": (payee_words, "words")}


def new_lines(rows: int) -> list[str]:
    return [f"{random.choice(PAYEES)} {uuid.uuid4().hex[:8]}" for _ in range(rows)]


def statement_lines(rows: int, month: int) -> list[str]:
    shops = [f"{a} {b}" for a in SHOPS for b in PLACES][:60]
    out = []
    for _ in range(rows):
        shop, roll = random.choice(shops), random.random()
        if roll < 0.4:
            out.append(f"COMPRA CARTAO 1234 {shop} SAO PAULO BR {random.randint(1, 28):02d}/{month:02d}")
        elif roll < 0.6:
            out.append(f"PIX ENVIADO {shop}")
        elif roll < 0.8:
            out.append(shop)
        else:
            out.append(f"PAG BOLETO {shop} NSU {random.randint(10**5, 10**6)}")
    return out


def csv(lines: list[str], month: int) -> bytes:
    body = [f"2026-{month:02d}-{random.randint(1, 28):02d},{d},-{random.randint(100, 99999) / 100:.2f}" for d in lines]
    return "\n".join(["date,description,amount", *body]).encode()


def rebind(bound: int) -> dict[str, Any]:
    """Fresh, empty ``payee_key`` and ``payee_words`` caches of ``bound`` entries, in every
    module that imported the functions (``0``: the plain functions, no cache)."""
    made: dict[str, Any] = {}
    for name, (module, attribute) in CACHED.items():
        current = getattr(module, attribute)
        plain = getattr(current, "__wrapped__", current)
        fresh = functools.lru_cache(maxsize=bound)(plain) if bound else plain
        for each in list(sys.modules.values()):  # under any name (``words as payee_words``)
            if getattr(each, "__name__", "").startswith("valorize"):
                for other, value in list(vars(each).items()):
                    if value is current:
                        setattr(each, other, fresh)
        made[name] = fresh
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=4000, help="rows of a new-descriptions import")
    parser.add_argument("--statement-rows", type=int, default=300, help="rows of a month's statement")
    parser.add_argument("--imports", type=int, default=4)
    parser.add_argument("--bounds", default="0,4096,65536")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    bounds = [int(b) for b in args.bounds.split(",")]
    logging.disable(logging.WARNING)
    pg = EmbeddedPostgres(tempfile.mkdtemp(prefix="vz-caches-"), delete_on_stop=True)
    url = pg.start()
    results: dict[tuple[int, str], list[dict[str, float]]] = {}
    try:
        asyncio.run(migrate(url))
        container = Container()
        container.settings.override(Settings(backend="postgres", database_url=url, run_migrations=False,
                                             worker_secret="caches", retention_interval=0))  # fmt: skip
        with TestClient(create_app(container, include_worker=True), timeout=600) as client:
            runtime: Any = client.app.state.runtime

            def tenant() -> tuple[dict[str, str], str]:
                body = {"tenant_name": "Caches", "email": f"{uuid.uuid4().hex}@example.com", "name": "C"}
                auth = {"Authorization": f"Bearer {client.post('/api/signup', json=body).json()['token']}"}
                account = {"name": "Checking", "kind": "checking", "currency": "BRL", "opening_balance": "100000.00"}
                return auth, client.post("/api/accounts", json=account, headers=auth).json()["id"]

            async def drain() -> None:
                delivery = InProcessDelivery(runtime.runner, runtime.dead_letters)
                dispatcher = LocalDispatcher(runtime.backend.pool, runtime.task_queue, delivery)
                while await dispatcher.run_once():
                    pass

            def one_import(who: tuple[dict[str, str], str], content: bytes, caches: dict[str, Any]) -> dict[str, float]:
                auth, account_id = who
                before = {n: f.cache_info() for n, f in caches.items() if hasattr(f, "cache_info")}
                started = time.process_time()
                form = {"account_id": account_id, "mapping": json.dumps(MAPPING)}
                answer = client.post("/api/imports", data=form, files={"file": ("c.csv", content, "text/csv")},
                                     headers=auth)  # fmt: skip
                assert answer.status_code == 202, answer.text
                client.blocking_portal.call(drain)
                out = {"cpu": time.process_time() - started}
                for name, info in before.items():
                    after = caches[name].cache_info()
                    out[f"{name}_hits"] = after.hits - info.hits
                    out[f"{name}_calls"] = after.hits + after.misses - info.hits - info.misses
                return out

            kinds: dict[str, Callable[[int], bytes]] = {
                "new": lambda month: csv(new_lines(args.rows), month),
                "statement": lambda month: csv(statement_lines(args.statement_rows, month), month),
            }
            for _ in range(args.rounds):
                for bound in bounds:
                    caches = rebind(bound)
                    for kind, make in kinds.items():
                        who = tenant()
                        for month in range(1, args.imports + 1):
                            rows = args.rows if kind == "new" else args.statement_rows
                            found = one_import(who, make(month), caches)
                            results.setdefault((bound, kind), []).append({k: v / rows for k, v in found.items()})
    finally:
        pg.stop()
    print("| bound | import | CPU per row (µs, median) | `payee_key` calls / hits per row | `payee_words` ditto |")
    print("|---:|---|---:|---|---|")
    for (bound, kind), runs in sorted(results.items()):
        cpu = statistics.median(r["cpu"] for r in runs) * 1e6
        cells = []
        for name in CACHED:
            calls = sum(r.get(f"{name}_calls", 0.0) for r in runs) / len(runs)
            hits = sum(r.get(f"{name}_hits", 0.0) for r in runs) / len(runs)
            cells.append(f"{calls:.2f} / {hits / calls:.0%}" if calls else "uncached")
        print(f"| {bound:,} | {kind} | {cpu:.0f} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
