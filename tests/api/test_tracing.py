"""One write's trace: the HTTP request, its SQL, the realtime publish, the task it caused and
that task's SQL all carry one trace id — the write's (``trace_id_of`` its request id)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from http_support import Api
from litestar.testing import TestClient

from valorize_adapters.postgres import tracing as sql_tracing
from valorize_adapters.postgres.task_queue import LocalDispatcher
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.delivery import InProcessDelivery
from valorize_entrypoints.logs import trace_id_of
from valorize_entrypoints.settings import Settings
from valorize_entrypoints.tracing import anchor_span_id, configure_tracing, finished_spans, span


@pytest.fixture
def traced(database_url: str) -> Iterator[TestClient[Any]]:
    container = Container()
    container.settings.override(Settings(backend="postgres", database_url=database_url, db_pool_max=4,
                                         tracing="memory", worker_secret="s3cret"))  # fmt: skip
    try:
        with TestClient(create_app(container, include_worker=True)) as client:
            yield client
    finally:
        configure_tracing("off")


def test_one_write_is_one_trace_from_the_request_to_the_task(traced: TestClient[Any]) -> None:
    api = Api(traced)
    runtime = traced.app.state.runtime

    async def deliver_tasks() -> int:
        dispatcher = LocalDispatcher(runtime.backend.pool, runtime.task_queue,
                                     InProcessDelivery(runtime.runner, runtime.dead_letters))  # fmt: skip
        count = 0
        while await dispatcher.run_once():
            count += 1
        return count

    account, food = api.account(), api.category("Food")
    # A budget: a write's follow-up (its evaluation) has something to do, so the write causes a task.
    assert api.post("/api/budgets", {"category_id": food, "limit": "100.00", "currency": "BRL"}).status_code == 201
    traced.blocking_portal.call(deliver_tasks)  # the budget's own evaluation, in its own trace
    today = runtime.backend.ports.clock.today().isoformat()  # a day the budget exists on
    written = api.tx(account, today, "MERCADO", "-9.00", category_id=food)
    assert written.status_code == 201
    trace = int(trace_id_of(written.headers["x-request-id"]), 16)
    assert traced.blocking_portal.call(deliver_tasks) >= 1
    ours = [s for s in finished_spans() if s.context is not None and s.context.trace_id == trace]
    names = [s.name for s in ours]
    request = next(s for s in ours if s.name == "POST /api/transactions")
    assert request.attributes is not None
    assert request.attributes["http.response.status_code"] == 201
    assert "realtime publish" in names
    tasks = [s for s in ours if s.name.startswith("task ")]
    assert tasks, names
    assert request.context is not None
    under_request = [s for s in ours if s.parent is not None and s.parent.span_id == request.context.span_id]
    # The use case is the request's child, and the write's statements are the use case's.
    use_case = next(s for s in under_request if s.name == "use case create_transaction")
    assert use_case.attributes is not None
    assert use_case.context is not None
    assert use_case.attributes["valorize.command"] == "NewTransaction"
    assert use_case.attributes["valorize.tenant_id"] == api.tenant_id
    assert use_case.attributes["valorize.outcome"] == "ok"
    under_use_case = [s.name for s in ours if s.parent is not None and s.parent.span_id == use_case.context.span_id]
    assert "SQL INSERT" in under_use_case, under_use_case
    assert "outbox relay" in under_use_case, under_use_case
    # The request span carries the write's anchor: work started elsewhere for it is its child.
    assert request.parent is None
    assert request.context.span_id == anchor_span_id(written.headers["x-request-id"])
    assert all(t.parent is not None and t.parent.span_id == request.context.span_id for t in tasks)
    # The task's statements descend from it (through the use case it runs: the budget evaluation).
    task_ids = {t.context.span_id for t in tasks if t.context is not None}
    task_use_cases = [s for s in ours if s.parent is not None and s.parent.span_id in task_ids]
    assert [s.name for s in task_use_cases] == ["use case evaluate_budgets"], names
    under_task = task_ids | {s.context.span_id for s in task_use_cases if s.context is not None}
    assert any(s.name.startswith("SQL ") and s.parent is not None and s.parent.span_id in under_task for s in ours)
    # Other requests of the test (the account, the sign-up) are traces of their own.
    assert all(s.context is not None and s.context.trace_id == trace for s in ours)
    assert len({s.context.trace_id for s in finished_spans() if s.context and s.name.startswith("POST ")}) >= 3


def test_off_records_nothing() -> None:
    configure_tracing("off")
    assert sql_tracing.tracer is None
    with span("anything", "abc") as s:
        assert s is None
    assert finished_spans() == ()
