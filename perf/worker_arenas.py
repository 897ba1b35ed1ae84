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

from worker_heap import PAYEES, importing_worker

from valorize_core.model import payee_words, payees
from valorize_entrypoints.process_caches import PROCESS_CACHES


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
    samples: list[dict[str, Any]] = []
    with importing_worker("arenas") as one_import:
        for _ in range(args.prefill):
            line = new_line()
            payees.payee_key(line)
            payee_words.words(line)
        for n in range(1, args.imports + 1):
            one_import(csv(args.rows))
            gc.collect()
            sample = {"import": n, "rss_mb": round(rss_mb(), 1), "arenas": arenas(),
                          "blocks": sys.getallocatedblocks(),
                          **{f"cache_{k}": v[0] for k, v in PROCESS_CACHES.sizes().items()}}  # fmt: skip
            samples.append(sample)
            print(json.dumps(sample), flush=True)
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
