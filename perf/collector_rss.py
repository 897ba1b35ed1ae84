"""Resident memory of a serving process under load, with Python's collector or the tuned one.

    python perf/collector_rss.py --gc-threshold 50000 [--rounds 30] [--rows 500] [--writes 200]

One process as ``worker_heap.py`` builds it (the API app with the worker's routes, embedded
PostgreSQL, tasks run by the local dispatcher as the worker role runs them), started with
``VALORIZE_GC_THRESHOLD`` = ``--gc-threshold`` (0: Python's collector as it is). Each round is an
import of ``--rows`` new rows (its tasks run) and ``--writes`` ``POST /api/transactions`` with
``GET`` pages between them; after each round, the process's resident set (``/proc/self/statm``) and
the collector's passes so far. A higher threshold must not let memory grow without bound: cycles
made by requests are still collected, only in fewer, larger passes.
"""

from __future__ import annotations

import argparse
import logging
import os
import time

from worker_heap import _csv, importing_worker

from valorize_entrypoints.collector import PASSES


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gc-threshold", type=int, required=True)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--writes", type=int, default=200)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with importing_worker("rss", args.gc_threshold) as one_import:
        client = one_import.client  # type: ignore[attr-defined]
        auth, account = one_import.auth, one_import.account  # type: ignore[attr-defined]
        started, counts, paused = time.process_time(), PASSES.counts[:], sum(PASSES.seconds)  # after startup
        series = []
        for n in range(args.rounds):
            one_import(_csv(args.rows))
            for i in range(args.writes):
                body = {"account_id": account, "booked_on": "2026-03-01", "description": f"Padaria {i % 50}",
                        "amount": "-1.25"}  # fmt: skip
                assert client.post("/api/transactions", json=body, headers=auth).status_code == 201
                if i % 10 == 0:
                    assert client.get("/api/transactions", params={"limit": 50}, headers=auth).status_code == 200
            series.append(rss_mb())
            passes = [now - then for now, then in zip(PASSES.counts, counts, strict=True)]
            print(f"round {n + 1}: RSS {series[-1]:.1f} MB, passes {passes} ({sum(PASSES.seconds) - paused:.2f} s)")
        cpu = time.process_time() - started
    rss = f"RSS after round 1 {series[0]:.1f} MB, max {max(series):.1f} MB, last {series[-1]:.1f} MB"
    spent = f"passes {passes}, {sum(PASSES.seconds) - paused:.2f} s of {cpu:.1f} s CPU"
    print(f"threshold {args.gc_threshold or 700}: {rss}; {spent}")


if __name__ == "__main__":
    main()
