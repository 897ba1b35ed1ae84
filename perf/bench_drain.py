"""The paper's third experiment: drain 51,580 tasks, counting lost and duplicated effects.

    python perf/bench_drain.py [--tasks 51580] [--concurrency 16] [--quick]

Embedded PostgreSQL, the local durable dispatcher (this process, core 1) delivering over HTTP
to a worker (uvicorn, one process, core 0), exactly as Cloud Tasks pushes to the worker. Each
task is a ``notify`` whose effect is one stored notification and one ``notification.created``
event, so lost = tasks − distinct notification ids and duplicated = events − distinct ids.
Results: a Markdown table and perf/results/drain.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

from valorize_adapters.postgres import EmbeddedPostgres, PostgresBackend, migrate
from valorize_adapters.postgres.task_queue import LocalDispatcher, PgTaskQueue
from valorize_core import SignupRequest
from valorize_core.testing.net import free_port
from valorize_entrypoints.testing import countable_effects, countable_task, start_worker_process
from valorize_entrypoints.worker import HttpDelivery


async def drain(url: str, port: int, tasks: int, concurrency: int) -> dict[str, float]:
    backend = await PostgresBackend.open(url, max_size=concurrency + 4)
    try:
        tenant = (await backend.app.signup(SignupRequest("Drain", "drain@example.com", "D"))).tenant.id
        queue = PgTaskQueue(backend.pool)
        started = time.perf_counter()
        for _ in range(tasks):
            await queue.enqueue(countable_task(tenant))
        enqueue_seconds = time.perf_counter() - started
        delivery = HttpDelivery(f"http://127.0.0.1:{port}", "bench", timeout=30)
        dispatcher = LocalDispatcher(backend.pool, queue, delivery, concurrency=concurrency)
        started = time.perf_counter()
        while await dispatcher.drain():  # pipelined: deliveries never wait for a batch
            pass
        drain_seconds = time.perf_counter() - started
        await delivery.close()
        events, distinct = await countable_effects(backend.pool, tenant)
        return {
            "tasks": tasks, "concurrency": concurrency, "enqueue_seconds": enqueue_seconds,
            "drain_seconds": drain_seconds, "tasks_per_second": tasks / drain_seconds,
            "lost": tasks - distinct, "duplicated": events - distinct, "left_in_queue": await queue.pending(),
        }  # fmt: skip
    finally:
        await backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=51_580)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.tasks = 300
    pg = EmbeddedPostgres(tempfile.mkdtemp(prefix="vz-drain-"), delete_on_stop=True)
    url = pg.start()
    try:
        asyncio.run(migrate(url))  # once, before the worker starts
        port = free_port()
        worker = start_worker_process(port, url, "bench", cpu=0)
        try:
            os.sched_setaffinity(0, {1})
            result = asyncio.run(drain(url, port, args.tasks, args.concurrency))
        finally:
            worker.kill()
    finally:
        pg.stop()
    output = args.output or Path(__file__).parent / "results" / ("drain-quick.json" if args.quick else "drain.json")
    output.write_text(json.dumps(result, indent=2) + "\n")
    print("| tasks | drained in | tasks/s | lost | duplicated | left in queue |")
    print("|---|---|---|---|---|---|")
    print(f"| {result['tasks']:,} | {result['drain_seconds']:.1f} s | {result['tasks_per_second']:,.0f} "
          f"| {result['lost']:.0f} | {result['duplicated']:.0f} | {result['left_in_queue']:.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
