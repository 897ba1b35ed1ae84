"""Cloud Tasks with the real google-cloud-tasks client, the emulator pushing to a real worker."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from valorize_adapters.cloudtasks import CloudTasksQueue, cloud_tasks_client
from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.session import Session
from valorize_core import BudgetInput, NewAccount, NewCategory, NewTransaction, SignupRequest
from valorize_core.model.errors import ValidationError
from valorize_core.ports.task_queue import Task
from valorize_core.testing.loop import run
from valorize_core.testing.net import free_port
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings
from valorize_entrypoints.testing import serving
from valorize_entrypoints.worker import SECRET_HEADER, create_worker_app

pytestmark = pytest.mark.slow
QUEUE = "projects/valorize/locations/local/queues/tasks"


def _wait_for(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            assert time.monotonic() < deadline, f"nothing listens on {port}"
            time.sleep(0.1)


@pytest.fixture
def emulator() -> Iterator[str]:
    port = free_port()
    binary = Path(sys.executable).with_name("gcloud-tasks-emulator")
    proc = subprocess.Popen(
        [str(binary), "start", "-p", str(port), "-d", QUEUE, "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for(port)
        yield f"127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait(10)


@pytest.fixture
def worker_url(database_url: str) -> Iterator[str]:
    container = Container()
    container.settings.override(Settings(backend="postgres", database_url=database_url, worker_secret="s3cret"))
    with serving(create_worker_app(container)) as base:
        yield base


def test_the_emulator_pushes_every_task_to_the_worker_with_one_effect_each(
    emulator: str, worker_url: str, database_url: str
) -> None:
    async def go() -> tuple[int, int]:
        backend = await PostgresBackend.open(database_url, run_migrations=False)
        try:
            vz = backend.app
            t = (await vz.signup(SignupRequest("CT", f"{uuid.uuid4().hex}@example.com", "C"))).tenant.id
            food = await vz.create_category(NewCategory(t, "Food", "expense"))
            account = await vz.create_account(NewAccount(t, "A", "cash", "BRL"))
            await vz.set_budget(BudgetInput(t, food.id, "10.00", "BRL", starts_on=date(2026, 3, 1)))
            await vz.create_transaction(
                NewTransaction(t, account.id, date(2026, 3, 2), "X", "-9.00", category_id=food.id)
            )
            client = cloud_tasks_client(emulator)
            queue = CloudTasksQueue(client, QUEUE, worker_url, headers={SECRET_HEADER: "s3cret"})
            tasks = [
                Task(uuid.uuid4(), "evaluate_budgets", t, {"day": "2026-03-10"}, correlation_id="req-ct-1")
                for _ in range(60)
            ]
            for task in tasks + tasks[:15]:  # the emulator delivers duplicate names; Cloud Tasks would refuse them
                await queue.enqueue(task)
            with pytest.raises(ValidationError):
                await queue.enqueue(Task(uuid.uuid4(), "evaluate_budgets", t, {"blob": "x" * 200_000}))

            async def count(query: str) -> int:
                async with backend.pool.connection() as conn:
                    s = Session(conn, t)
                    rows = await s.fetch(query, (t,))  # type: ignore[arg-type]
                    await s.rollback()
                    return int(rows[0]["n"])

            deadline = time.monotonic() + 60
            while await count("SELECT count(*) AS n FROM processed_tasks WHERE tenant_id = %s") < len(tasks):
                assert time.monotonic() < deadline, "the emulator did not deliver every task"
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)  # let the duplicates arrive too
            processed = await count("SELECT count(*) AS n FROM processed_tasks WHERE tenant_id = %s")
            announced = await count(
                "SELECT count(*) AS n FROM outbox WHERE tenant_id = %s AND name = 'budget.threshold_crossed'"
                " AND correlation_id = 'req-ct-1'"  # the request id came through Cloud Tasks' headers
            )
            return processed, announced
        finally:
            await backend.close()

    processed, announced = run(go(), timeout=120)
    assert processed == 60
    assert announced == 1
