"""A worker's resident memory and pymalloc's arenas after each import of new descriptions.

    python perf/worker_arenas.py [--imports 30] [--rows 4000] [--prefill 70000] [--output FILE]

One process runs the worker's import tasks as the role does (as ``worker_heap.py``: the API app
with the worker's routes on embedded PostgreSQL, tasks delivered in-process by the local
dispatcher), without tracemalloc (it would add its own memory). Each import is a CSV of
``--rows`` rows whose descriptions no other row has (the soak's shape). ``--prefill`` lines go
through ``payee_key`` and ``payee_words`` first, as that many earlier rows would have: the
caches start full, whatever their bound. After each import, a full collection, then the
process's RSS, the arenas pymalloc holds (``sys._debugmallocstats``: 1 MiB each) and the
caches' entries. Run it on two checkouts at once (``PYTHONPATH``) to compare them under the
same load.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import random
import re
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from valorize_adapters.postgres import EmbeddedPostgres, migrate
from valorize_adapters.postgres.task_queue import LocalDispatcher
from valorize_core.model import payee_words, payees
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.delivery import InProcessDelivery
from valorize_entrypoints.process_caches import PROCESS_CACHES
from valorize_entrypoints.settings import Settings

MAPPING = {"date_column": "date", "description_column": "description", "amount_column": "amount",
           "date_format": "%Y-%m-%d", "decimal_style": "point", "delimiter": ","}  # fmt: skip
PAYEES = ["PADARIA REAL", "SUPERMERCADO ZAFFARI", "UBER TRIP", "FARMACIA PANVEL", "POSTO IPIRANGA", "NETFLIX"]


def new_line() -> str:
    return f"{random.choice(PAYEES)} {uuid.uuid4().hex[:8]}"


def csv(rows: int) -> bytes:
    body = [f"2026-{random.randint(1, 11):02d}-{random.randint(1, 28):02d},{new_line()},"
            f"-{random.randint(100, 99999) / 100:.2f}" for _ in range(rows)]  # fmt: skip
    return "\n".join(["date,description,amount", *body]).encode()


def arenas() -> int:
    """The arenas pymalloc holds now (it prints its statistics on the C-level stderr)."""
    with tempfile.TemporaryFile() as out:
        saved = os.dup(2)
        os.dup2(out.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        found = re.search(rb"# arenas allocated current\s*=\s*([\d,]+)", out.read())
    return int(found.group(1).replace(b",", b"")) if found else -1


def rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--imports", type=int, default=30)
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--prefill", type=int, default=70_000)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--bound", type=int, default=None,
                        help="rebuild the payee caches with this bound (0: none), as payee_caches.py does")  # fmt: skip
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    if args.bound is not None:
        from payee_caches import rebind

        rebind(args.bound)
    pg = EmbeddedPostgres(tempfile.mkdtemp(prefix="vz-arenas-"), delete_on_stop=True)
    url = pg.start()
    samples: list[dict[str, Any]] = []
    try:
        asyncio.run(migrate(url))
        container = Container()
        container.settings.override(Settings(backend="postgres", database_url=url, run_migrations=False,
                                             worker_secret="arenas", retention_interval=0))  # fmt: skip
        with TestClient(create_app(container, include_worker=True), timeout=600) as client:
            body = {"tenant_name": "Arenas", "email": f"{uuid.uuid4().hex}@example.com", "name": "A"}
            auth = {"Authorization": f"Bearer {client.post('/api/signup', json=body).json()['token']}"}
            account = {"name": "Checking", "kind": "checking", "currency": "BRL", "opening_balance": "100000.00"}
            account_id = client.post("/api/accounts", json=account, headers=auth).json()["id"]
            runtime: Any = client.app.state.runtime

            async def drain() -> None:
                delivery = InProcessDelivery(runtime.runner, runtime.dead_letters)
                dispatcher = LocalDispatcher(runtime.backend.pool, runtime.task_queue, delivery)
                while await dispatcher.run_once():
                    pass

            for _ in range(args.prefill):
                line = new_line()
                payees.payee_key(line)
                payee_words.words(line)
            for n in range(1, args.imports + 1):
                form = {"account_id": account_id, "mapping": json.dumps(MAPPING)}
                files = {"file": ("arenas.csv", csv(args.rows), "text/csv")}
                answer = client.post("/api/imports", data=form, files=files, headers=auth)
                assert answer.status_code == 202, answer.text
                client.blocking_portal.call(drain)
                gc.collect()
                sample = {"import": n, "rss_mb": round(rss_mb(), 1), "arenas": arenas(),
                          "blocks": sys.getallocatedblocks(),
                          **{f"cache_{k}": v[0] for k, v in PROCESS_CACHES.sizes().items()}}  # fmt: skip
                samples.append(sample)
                print(json.dumps(sample), flush=True)
    finally:
        pg.stop()
    if args.output:
        args.output.write_text(json.dumps({"settings": vars(args) | {"output": None}, "samples": samples}, indent=1))
    third = samples[len(samples) // 3]
    last = samples[-1]
    spread = last["import"] - third["import"]
    print(f"after import {third['import']} → {last['import']}: RSS {third['rss_mb']} → {last['rss_mb']} MB "
          f"({(last['rss_mb'] - third['rss_mb']) / spread * 1e3 / args.rows:+.3f} kB per row), "
          f"arenas {third['arenas']} → {last['arenas']}")  # fmt: skip


if __name__ == "__main__":
    main()
