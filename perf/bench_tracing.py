"""What tracing costs a read, off and on: CPU per ``GET /api/transactions``, in one run.

    python perf/bench_tracing.py [--reads 2000] [--passes 3] [--baseline SRC] [--output FILE]

Each variant is a child process (the tracer is process-wide) serving the memory backend with the
in-process read cache (``valorize dev --memory``'s wiring, built by the container) through
Litestar's ``TestClient``; it reads one tenant's page of 50 transactions ``--reads`` times and
reports CPU seconds per read (``time.process_time``, every thread: the test client's own HTTP
work included, the same in every variant). Variants: ``off`` and ``memory`` (every span recorded
in memory) of this tree, and, with ``--baseline SRC`` (a ``src`` folder of another commit, e.g.
from ``git archive``), ``off`` of that code. The variants take turns, ``--passes`` times; the
table gives each one's median over its passes. Results: a Markdown table and
perf/results/tracing.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any


def child(tracing: str, reads: int) -> None:
    from litestar.testing import TestClient

    from valorize_entrypoints.api import create_app
    from valorize_entrypoints.container import Container
    from valorize_entrypoints.settings import Settings

    logging.disable(logging.WARNING)
    container = Container()
    container.settings.override(Settings(backend="memory", tracing=tracing))
    with TestClient(create_app(container)) as client:
        body = {"tenant_name": "Bench", "email": f"{uuid.uuid4().hex}@example.com", "name": "B"}
        headers = {"Authorization": f"Bearer {client.post('/api/signup', json=body).json()['token']}"}
        account = {"name": "Checking", "kind": "checking", "currency": "BRL", "opening_balance": "1000.00"}
        account_id = client.post("/api/accounts", json=account, headers=headers).json()["id"]
        for n in range(50):
            tx = {"account_id": account_id, "booked_on": "2026-03-02", "description": f"MERCADO {n}", "amount": "-9.00"}
            assert client.post("/api/transactions", json=tx, headers=headers).status_code == 201
        for _ in range(100):  # warm-up
            client.get("/api/transactions", headers=headers)
        started = time.process_time()
        for _ in range(reads):
            assert client.get("/api/transactions", headers=headers).status_code == 200
        print(json.dumps({"cpu_per_read": (time.process_time() - started) / reads}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--baseline", help="a src folder of the code to compare with (tracing off)")
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "tracing.json"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.reads)
        return
    here = str(Path(__file__).resolve().parent.parent / "src")
    variants = {"off": (here, "off"), "memory": (here, "memory")}
    if args.baseline:
        variants = {"baseline off": (args.baseline, "off"), **variants}
    results: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.passes):
        for name, (src, tracing) in variants.items():
            env = {**os.environ, "PYTHONPATH": src, "PYTHONWARNINGS": "ignore"}
            out = subprocess.run([sys.executable, __file__, "--child", tracing, "--reads", str(args.reads)],
                                 env=env, check=True, capture_output=True, text=True).stdout  # fmt: skip
            results[name].append(json.loads(out.strip().splitlines()[-1])["cpu_per_read"])
    medians = {name: statistics.median(values) for name, values in results.items()}
    reference = medians.get("baseline off", medians["off"])
    print("| variant | CPU µs per read (median) | passes (µs) | vs reference |")
    print("|---|---:|---|---:|")
    for name, value in medians.items():
        passes = ", ".join(f"{v * 1e6:.0f}" for v in results[name])
        print(f"| {name} | {value * 1e6:.0f} | {passes} | {value / reference:.3f} |")
    report: dict[str, Any] = {"reads": args.reads, "passes": args.passes, "cpu_per_read": results}
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
