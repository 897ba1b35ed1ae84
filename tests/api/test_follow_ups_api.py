"""Follow-up tasks over HTTP: a write queues only what can do something, and setting a budget
over a threshold already crossed announces it without waiting for the next write."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from http_support import Api, run_background_tasks
from litestar.testing import TestClient

from valorize_adapters.memory import InMemoryTaskQueue
from valorize_adapters.postgres.session import Session


def _queued(api: Api) -> list[str]:
    """The names of the tasks waiting for ``api``'s tenant (either queue)."""
    client, tenant = api.client, api.tenant_id
    runtime = client.app.state.runtime
    queue = runtime.task_queue
    if isinstance(queue, InMemoryTaskQueue):
        return sorted(t.name for t in queue.pending() if str(t.tenant_id) == tenant)

    async def read() -> list[str]:
        async with runtime.backend.pool.connection() as conn:
            session = Session(conn, UUID(tenant))  # the tenant's rows, row security on
            try:
                rows = await session.fetch("SELECT name FROM task_queue ORDER BY name", ())
            finally:
                await session.rollback()
        return [r["name"] for r in rows]

    return list(client.blocking_portal.call(read))


def test_setting_a_budget_over_a_crossed_threshold_announces_it(client: TestClient[Any]) -> None:
    api = Api(client)
    food = api.category("Food")
    account = api.account()
    today = datetime.now(UTC).date().isoformat()
    assert api.tx(account, today, "MERCADO", "-90.00", category_id=food).status_code == 201
    # No budget, no endpoint: the write asked for nothing that could do something.
    assert _queued(api) == []
    body = {"category_id": food, "limit": "100.00", "currency": "BRL", "starts_on": today[:8] + "01"}
    assert api.post("/api/budgets", body).status_code == 201
    assert _queued(api) == ["evaluate_budgets"]  # the budget's own evaluation, for today
    run_background_tasks(client)
    notes = api.get("/api/notifications").json()
    items = notes["items"] if isinstance(notes, dict) else notes
    assert [(n["kind"], n["title"]) for n in items] == [("budget", "Budget 80% used")], items
    # The next write, with a budget now: one evaluation for its day (and no fan-out: no endpoint).
    assert api.tx(account, today, "MERCADO", "-1.00", category_id=food).status_code == 201
    assert _queued(api) == ["evaluate_budgets"]
