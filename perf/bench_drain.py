"""The paper's third experiment: drain 51,580 tasks, counting lost and duplicated effects.

    python perf/bench_drain.py [--tasks 51580] [--concurrency 16] [--quick]

Embedded PostgreSQL, the local durable dispatcher (this process, core 1) delivering over HTTP
to a worker (uvicorn, one process, core 0), exactly as Cloud Tasks pushes to the worker. Each
task is a ``generate_report`` whose effect is one ``report.ready`` event carrying the task's
own report id, so lost = tasks − distinct report ids and duplicated = events − distinct ids.
Results: a Markdown table and perf/results/drain.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

from valorize_adapters.postgres import EmbeddedPostgres, PostgresBackend, migrate
from valorize_adapters.postgres.session import Session
from valorize_adapters.postgres.task_queue import LocalDispatcher, PgTaskQueue
from valorize_core import SignupRequest
from valorize_core.ports.task_queue import Task
from valorize_core.testing.net import free_port
from valorize_entrypoints.testing import start_worker_process
from valorize_entrypoints.worker import HttpDelivery


async def drain(url: str, port: int, tasks: int, concurrency: int) -> dict[str, float]:
    backend = await PostgresBackend.open(url, max_size=concurrency + 4)
    try:
        tenant = (await backend.app.signup(SignupRequest("Drain", "drain@example.com", "D"))).tenant.id
        queue = PgTaskQueue(backend.pool)
        started = time.perf_counter()
        for _ in range(tasks):
            payload = {"kind": "cash_flow", "start": "2026-01-01", "end": "2026-01-31", "report_id": str(uuid.uuid4())}
            await queue.enqueue(Task(uuid.uuid4(), "generate_report", tenant, payload))
        enqueue_seconds = time.perf_counter() - started
        delivery = HttpDelivery(f"http://127.0.0.1:{port}", "bench", timeout=30)
        dispatcher = LocalDispatcher(backend.pool, queue, delivery, concurrency=concurrency)
        started = time.perf_counter()
        while await dispatcher.run_once():
            pass
        drain_seconds = time.perf_counter() - started
        await delivery.close()
        async with backend.pool.connection() as conn:
            s = Session(conn, tenant)
            rows = await s.fetch(
                "SELECT count(*) AS events, count(DISTINCT payload->>'report_id') AS reports FROM outbox"
                " WHERE tenant_id = %s AND name = 'report.ready'",
                (tenant,),
            )
            await s.rollback()
        events, distinct = int(rows[0]["events"]), int(rows[0]["reports"])
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
            worker.wait(10)
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
