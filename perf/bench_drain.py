"""The paper's third experiment: drain 51,580 tasks, counting lost and duplicated effects.

    python perf/bench_drain.py [--tasks 51580] [--concurrency 16] [--quick] [--idle]

Embedded PostgreSQL, the local durable dispatcher (this process, core 1) delivering over HTTP
to a worker (uvicorn, one process, core 0), exactly as Cloud Tasks pushes to the worker. Each
task is a ``notify`` whose effect is one stored notification and one ``notification.created``
event, so lost = tasks − distinct notification ids and duplicated = events − distinct ids.
Results: a Markdown table and perf/results/drain.json.

``--idle``: the tasks are instead those a categorized write wrote for a tenant with no budget and
no webhook endpoint before follow-ups became conditional — an ``evaluate_budgets`` and two
``fan_out_webhooks`` (one event each) per write — which find nothing to do; the box's CPU per task
is reported by process (the worker, this dispatcher, PostgreSQL's client backends): what a write
no longer costs the box for each task the local queue now leaves unwritten.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from valorize_adapters.postgres import EmbeddedPostgres, PostgresBackend, migrate
from valorize_adapters.postgres.task_queue import LocalDispatcher, PgTaskQueue
from valorize_core import SignupRequest
from valorize_core.model.events import TransactionCategorized, TransactionCreated
from valorize_core.ports.task_queue import Task
from valorize_core.runtime.relay import follow_ups
from valorize_core.testing.net import free_port
from valorize_entrypoints.testing import countable_effects, countable_task, start_worker_process
from valorize_entrypoints.worker import HttpDelivery


def idle_tasks(tenant: uuid.UUID, count: int) -> list[Task]:
    """``count`` tasks as a categorized write wrote them for a tenant with nothing for them to do
    (each event's own, unconditional): per write, its evaluation and its two events' fan-outs."""
    tasks: list[Task] = []
    while len(tasks) < count:
        now = datetime.now(UTC)
        created = TransactionCreated(
            event_id=uuid.uuid4(), tenant_id=tenant, occurred_at=now, transaction_id=str(uuid.uuid4()),
            account_id=str(uuid.uuid4()), amount_minor=-125, currency="BRL", booked_on="2026-03-01",
            category_id=str(uuid.uuid4()), description="Padaria",
        )  # fmt: skip
        categorized = TransactionCategorized(
            event_id=uuid.uuid4(), tenant_id=tenant, occurred_at=now, transaction_id=created.transaction_id,
            category_id=str(created.category_id), source="rule", confidence="1.0", explanation="rule",
        )  # fmt: skip
        for event in (created, categorized):
            tasks.extend(replace(t, precondition=None) for t in follow_ups([event]) if t.name != "notify")
    return tasks[:count]


def _cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds so far of each process."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


async def _backends(url: str) -> list[int]:
    """PostgreSQL's client backends (the worker's and the dispatcher's), seen as the superuser."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        query = "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        cur = await conn.execute(query)
        return [r[0] for r in await cur.fetchall()]


async def _processed(backend: PostgresBackend, tenant: uuid.UUID) -> int:
    """How many distinct task ids the tenant's processed tasks hold."""
    from valorize_adapters.postgres.session import Session

    async with backend.pool.connection() as conn:
        session = Session(conn, tenant)
        try:
            row = await session.fetch_one("SELECT count(DISTINCT task_id) AS n FROM processed_tasks", ())
        finally:
            await session.rollback()
    return int(row["n"]) if row else 0


async def drain(
    url: str, port: int, tasks: int, concurrency: int, worker_pid: int = 0, idle: bool = False
) -> dict[str, float | bool]:
    backend = await PostgresBackend.open(url, max_size=concurrency + 4)
    try:
        tenant = (await backend.app.signup(SignupRequest("Drain", "drain@example.com", "D"))).tenant.id
        queue = PgTaskQueue(backend.pool)
        started = time.perf_counter()
        for task in idle_tasks(tenant, tasks) if idle else (countable_task(tenant) for _ in range(tasks)):
            await queue.enqueue(task)
        enqueue_seconds = time.perf_counter() - started
        delivery = HttpDelivery(f"http://127.0.0.1:{port}", "bench", timeout=30)
        dispatcher = LocalDispatcher(backend.pool, queue, delivery, concurrency=concurrency)
        before_pg, before_worker, before_own = _cpu(await _backends(url)), _cpu([worker_pid]), time.process_time()
        started = time.perf_counter()
        while await dispatcher.drain():  # pipelined: deliveries never wait for a batch
            pass
        drain_seconds = time.perf_counter() - started
        own = time.process_time() - before_own
        after_pg, after_worker = _cpu(await _backends(url)), _cpu([worker_pid])
        pg = sum(v - before_pg.get(pid, 0.0) for pid, v in after_pg.items())
        worker = sum(v - before_worker.get(pid, 0.0) for pid, v in after_worker.items())
        await delivery.close()
        if idle:  # no effect to count but the record of each task: lost = tasks - processed ids
            events = distinct = await _processed(backend, tenant)
        else:
            events, distinct = await countable_effects(backend.pool, tenant)
        return {
            "tasks": tasks, "concurrency": concurrency, "enqueue_seconds": enqueue_seconds,
            "drain_seconds": drain_seconds, "tasks_per_second": tasks / drain_seconds,
            "lost": tasks - distinct, "duplicated": events - distinct, "left_in_queue": await queue.pending(),
            "idle": idle, "worker_cpu_ms_per_task": worker / tasks * 1000,
            "dispatcher_cpu_ms_per_task": own / tasks * 1000, "postgres_cpu_ms_per_task": pg / tasks * 1000,
        }  # fmt: skip
    finally:
        await backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=51_580)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--idle", action="store_true", help="a write's follow-ups that find nothing to do")
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
            pid = worker.proc.pid if worker.proc else 0
            result = asyncio.run(drain(url, port, args.tasks, args.concurrency, pid, args.idle))
        finally:
            worker.kill()
    finally:
        pg.stop()
    name = ("drain-idle" if args.idle else "drain") + ("-quick" if args.quick else "")
    output = args.output or Path(__file__).parent / "results" / f"{name}.json"
    output.write_text(json.dumps(result, indent=2) + "\n")
    print("| tasks | drained in | tasks/s | lost | duplicated | left in queue |")
    print("|---|---|---|---|---|---|")
    print(f"| {result['tasks']:,} | {result['drain_seconds']:.1f} s | {result['tasks_per_second']:,.0f} "
          f"| {result['lost']:.0f} | {result['duplicated']:.0f} | {result['left_in_queue']:.0f} |")  # fmt: skip
    cpu = {key: result[f"{key}_cpu_ms_per_task"] for key in ("worker", "dispatcher", "postgres")}
    print("CPU per task (ms): " + ", ".join(f"{key} {value:.3f}" for key, value in cpu.items()))


if __name__ == "__main__":
    main()
