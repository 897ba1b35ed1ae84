"""What a worker keeps after each import: tracemalloc snapshots diffed between two points.

    python perf/worker_heap.py [--imports 12] [--rows 2000] [--top 15]

One process: the API app with the worker's routes on PostgreSQL (a database of its own on the
embedded server), tasks delivered in this process by the local dispatcher exactly as the worker
role runs them (``InProcessDelivery``: the same ``TaskRunner``). Each import is a CSV of
``--rows`` rows with descriptions no other row has (the soak's shape, the worst case for the
per-process caches; ``--prefill`` fills the payee caches to their bounds first, as ~70,000 rows
would). After the first third of the imports (warm-up) and at the end, a full collection and a
snapshot (allocations traced from the start, so what a cache evicts counts as freed); the table
lists what grew most between the two, by the line that allocated it, and each per-process
cache's entries.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import random
import tempfile
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from litestar.testing import TestClient

from valorize_adapters.postgres import EmbeddedPostgres, migrate
from valorize_adapters.postgres.task_queue import LocalDispatcher
from valorize_core.model.payee_words import words
from valorize_core.model.payees import payee_key
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.delivery import InProcessDelivery
from valorize_entrypoints.process_caches import PROCESS_CACHES
from valorize_entrypoints.settings import Settings

MAPPING = {"date_column": "date", "description_column": "description", "amount_column": "amount",
           "date_format": "%Y-%m-%d", "decimal_style": "point", "delimiter": ","}  # fmt: skip
PAYEES = ["PADARIA REAL", "SUPERMERCADO ZAFFARI", "UBER TRIP", "FARMACIA PANVEL", "POSTO IPIRANGA", "NETFLIX"]


def _csv(rows: int) -> bytes:
    lines = ["date,description,amount"] + [
        f"2026-{random.randint(1, 11):02d}-{random.randint(1, 28):02d},{random.choice(PAYEES)} {uuid.uuid4().hex[:8]},"
        f"-{random.randint(100, 99999) / 100:.2f}"
        for _ in range(rows)
    ]
    return "\n".join(lines).encode()


@contextlib.contextmanager
def importing_worker(name: str, gc_threshold: int | None = None) -> Iterator[Callable[[bytes], None]]:
    """Embedded PostgreSQL and the API app with the worker's routes in this process, one tenant
    with an account: yields ``one_import(csv)``, which uploads a statement and runs its tasks
    through the local dispatcher as the worker role does (``gc_threshold``: the setting's, unless
    given)."""
    pg = EmbeddedPostgres(tempfile.mkdtemp(prefix=f"vz-{name}-"), delete_on_stop=True)
    url = pg.start()
    try:
        asyncio.run(migrate(url))
        container = Container()
        container.settings.override(Settings(backend="postgres", database_url=url, run_migrations=False,
                                             worker_secret=name, retention_interval=0,
                                             gc_threshold=Settings().gc_threshold if gc_threshold is None
                                             else gc_threshold))  # fmt: skip
        with TestClient(create_app(container, include_worker=True), timeout=600) as client:
            body = {"tenant_name": name.title(), "email": f"{uuid.uuid4().hex}@example.com", "name": "W"}
            auth = {"Authorization": f"Bearer {client.post('/api/signup', json=body).json()['token']}"}
            account = {"name": "Checking", "kind": "checking", "currency": "BRL", "opening_balance": "100000.00"}
            account_id = client.post("/api/accounts", json=account, headers=auth).json()["id"]
            runtime: Any = client.app.state.runtime

            async def drain() -> None:
                delivery = InProcessDelivery(runtime.runner, runtime.dead_letters)
                dispatcher = LocalDispatcher(runtime.backend.pool, runtime.task_queue, delivery)
                while await dispatcher.run_once():
                    pass

            def one_import(statement: bytes) -> None:
                form = {"account_id": account_id, "mapping": json.dumps(MAPPING)}
                files = {"file": (f"{name}.csv", statement, "text/csv")}
                answer = client.post("/api/imports", data=form, files=files, headers=auth)
                assert answer.status_code == 202, answer.text
                client.blocking_portal.call(drain)

            one_import.client, one_import.auth, one_import.account = client, auth, account_id  # type: ignore[attr-defined]
            yield one_import
    finally:
        pg.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--imports", type=int, default=12)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--prefill", action="store_true", help="fill the payee caches to their bounds first")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with importing_worker("heap") as one_import:
        tracemalloc.start(8)  # from the start: an entry evicted later must count as freed
        if args.prefill:  # the caches' state after 70,000 other descriptions: full
            for _ in range(70_000):
                described = f"{random.choice(PAYEES)} {uuid.uuid4().hex[:8]}"
                payee_key(described)
                words(described)
        warm = max(1, args.imports // 3)
        snapshots = []
        for n in range(args.imports):
            one_import(_csv(args.rows))
            if n + 1 in (warm, args.imports):
                gc.collect()
                snapshots.append((tracemalloc.take_snapshot(), PROCESS_CACHES.sizes()))
    (first, caches_then), (last, caches_end) = snapshots
    filters = [tracemalloc.Filter(False, tracemalloc.__file__)]
    diff = last.filter_traces(filters).compare_to(first.filter_traces(filters), "traceback")
    grown = sum(d.size_diff for d in diff)
    imports = args.imports - warm
    per_import = grown / imports / 1e3
    print(f"heap growth over {imports} imports after warm-up: {grown / 1e6:+.2f} MB ({per_import:+.0f} kB per import)")
    for stat in diff[: args.top]:
        inner = stat.traceback[-1]  # the allocating line; then the innermost lines of ours that led there
        ours = [f"{f.filename.rsplit('/src/', 1)[-1]}:{f.lineno}" for f in stat.traceback if "/src/" in f.filename]
        where = " < ".join([f"{inner.filename.rsplit('/', 1)[-1]}:{inner.lineno}", *reversed(ours[-3:])])
        print(f"{stat.size_diff / 1e3:+10.0f} kB {stat.count_diff:+8d} blocks  {where}")
    print("caches (entries, bound) then → end:")
    for name, (held, bound) in caches_end.items():
        print(f"  {name}: {caches_then.get(name, (0, 0))[0]} → {held} of {bound}")


if __name__ == "__main__":
    main()
