"""The worker endpoint, and the local dispatcher delivering to it over HTTP."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import pytest
from http_support import Api
from litestar.testing import TestClient
from test_imports import CSV, MAPPING

from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.session import Session
from valorize_adapters.postgres.task_queue import LocalDispatcher, PgTaskQueue
from valorize_core import SignupRequest
from valorize_core.model.errors import Unavailable
from valorize_core.model.events import BudgetThresholdCrossed
from valorize_core.ports.task_queue import Task
from valorize_core.testing.loop import run
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings
from valorize_entrypoints.testing import serving
from valorize_entrypoints.worker import SECRET_HEADER, HttpDelivery


def deliver(client: TestClient[Any], name: str, task_id: uuid.UUID, body: Any, secret: str = "s3cret") -> Any:
    headers = {SECRET_HEADER: secret, "x-cloudtasks-taskname": task_id.hex, "content-type": "application/json"}
    return client.post(f"/tasks/{name}", content=json.dumps(body), headers=headers)


def test_worker_runs_a_task_once_and_explains_rejections(worker_client: TestClient[Any]) -> None:
    api = Api(worker_client)
    food = api.category("Food")
    account = api.account()
    body = {"category_id": food, "limit": "10.00", "currency": "BRL", "starts_on": "2026-03-01"}
    assert api.post("/api/budgets", body).status_code == 201
    assert api.tx(account, "2026-03-02", "MERCADO", "-9.00", category_id=food).status_code == 201
    task_id = uuid.uuid4()
    job = {"tenant_id": api.tenant_id, "payload": {"day": "2026-03-10"}}
    assert deliver(worker_client, "evaluate_budgets", task_id, job, secret="wrong").status_code == 401
    first = deliver(worker_client, "evaluate_budgets", task_id, job)
    again = deliver(worker_client, "evaluate_budgets", task_id, job)
    assert (first.status_code, first.json()["outcome"]) == (200, "done")
    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    runtime = worker_client.app.state.runtime
    crossed = [e for e in runtime.backend.store.outbox if isinstance(e, BudgetThresholdCrossed)]
    assert [e.threshold for e in crossed] == [80]
    unknown = deliver(worker_client, "mine_bitcoin", uuid.uuid4(), job)
    assert unknown.json()["outcome"] == "rejected"
    assert [t.name for t, _, _ in runtime.task_queue.dead.values()] == ["mine_bitcoin"]
    malformed = worker_client.post(
        "/tasks/evaluate_budgets", content=b"{}", headers={SECRET_HEADER: "s3cret", "x-cloudtasks-taskname": "x"}
    )
    assert malformed.json()["outcome"] == "rejected"


@pytest.mark.slow
def test_local_dispatch_drains_through_the_worker_exactly_once(database_url: str) -> None:
    """A worker server on its own, and a dispatcher elsewhere: they share only the database."""
    container = Container()
    container.settings.override(Settings(backend="postgres", database_url=database_url, worker_secret="s3cret"))

    async def go(base: str) -> tuple[int, int, list[str]]:
        backend = await PostgresBackend.open(database_url, run_migrations=False)
        try:
            tenant = (await backend.app.signup(SignupRequest("W", f"{uuid.uuid4().hex}@example.com", "W"))).tenant.id
            queue = PgTaskQueue(backend.pool)
            ids = [uuid.uuid4() for _ in range(120)]
            for task_id in ids:
                await queue.enqueue(Task(task_id, "evaluate_budgets", tenant, {"day": "2026-03-10"}))
            await queue.enqueue(Task(ids[0], "evaluate_budgets", tenant, {"day": "2026-03-10"}))  # duplicate
            bad = Task(uuid.uuid4(), "evaluate_budgets", tenant, {"day": "not a day"})
            await queue.enqueue(bad)
            delivery = HttpDelivery(base, "s3cret")
            dispatcher = LocalDispatcher(backend.pool, queue, delivery, concurrency=8)
            for _ in range(200):
                if not await queue.pending():
                    break
                await dispatcher.run_once()
            await delivery.close()
            async with backend.pool.connection() as conn:
                session = Session(conn, tenant)
                done = await session.fetch("SELECT count(*) AS n FROM processed_tasks WHERE tenant_id = %s", (tenant,))
                await session.rollback()
            dead = [d.reason for d in await queue.dead_letters() if d.task.id == bad.id]
            return len(ids), int(done[0]["n"]), dead
        finally:
            await backend.close()

    with serving(create_app(container, include_worker=True)) as base:
        total, processed, dead = run(go(base))
    assert processed == total  # every task's effect once: none lost, none doubled
    assert len(dead) == 1
    assert "date" in dead[0]


def test_the_request_id_travels_into_the_task_its_log_and_its_events(worker_client: TestClient[Any]) -> None:
    api = Api(worker_client)
    account = api.account()
    form = {"account_id": account, "mapping": json.dumps(MAPPING)}
    files = {"file": ("extrato.csv", CSV.encode(), "text/csv")}
    headers = {**api.headers, "x-request-id": "req-import-42"}
    assert worker_client.post("/api/imports", data=form, files=files, headers=headers).status_code == 202
    runtime = worker_client.app.state.runtime
    task = runtime.task_queue.take()
    assert (task.name, task.correlation_id) == ("import_statement", "req-import-42")
    lines: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = lines.append  # type: ignore[method-assign]
    logging.getLogger("valorize.worker").addHandler(handler)
    try:
        headers = {SECRET_HEADER: "s3cret", "x-cloudtasks-taskname": task.id.hex, "x-request-id": task.correlation_id}
        body = json.dumps({"tenant_id": str(task.tenant_id), "payload": task.payload})
        assert worker_client.post(f"/tasks/{task.name}", content=body, headers=headers).json()["outcome"] == "done"
    finally:
        logging.getLogger("valorize.worker").removeHandler(handler)
    logged = [r.fields for r in lines if r.getMessage() == "task"]  # type: ignore[attr-defined]
    assert logged[0]["request_id"] == "req-import-42"
    assert logged[0]["outcome"] == "done"
    completed = [e for e in runtime.backend.store.outbox if e.name == "import.completed"]
    assert [(e.status, e.correlation_id) for e in completed] == [("completed", "req-import-42")]
    follow_ups = runtime.task_queue.pending()
    assert follow_ups
    assert {t.correlation_id for t in follow_ups} == {"req-import-42"}


def test_a_transient_failure_is_one_warning_line_and_a_bug_a_traceback(
    worker_client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store restarting or a webhook receiver that is down is expected now and then: the task is
    retried (503) and logged as one warning with the reason; anything else keeps its traceback."""
    runtime = worker_client.app.state.runtime
    lines: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = lines.append  # type: ignore[method-assign]
    logging.getLogger("valorize.worker").addHandler(handler)
    job = {"tenant_id": str(uuid.uuid4()), "payload": {}}
    try:
        for failure in (Unavailable("the database does not answer"), RuntimeError("a bug")):

            async def fail(task: Task, failure: Exception = failure) -> Any:
                raise failure

            monkeypatch.setattr(runtime.runner, "run", fail)
            answer = deliver(worker_client, "evaluate_budgets", uuid.uuid4(), job)
            assert (answer.status_code, answer.json()["outcome"]) == (503, "retry")
    finally:
        logging.getLogger("valorize.worker").removeHandler(handler)
    transient, bug = [r for r in lines if r.getMessage() == "task failed; asking for a retry"]
    assert (transient.levelno, transient.exc_info) == (logging.WARNING, None)
    assert transient.fields["error"] == "Unavailable: the database does not answer"  # type: ignore[attr-defined]
    assert bug.levelno == logging.ERROR
    assert bug.exc_info is not None
