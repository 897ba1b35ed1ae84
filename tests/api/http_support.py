"""Helpers for HTTP tests: the app behind a test client, a signed-up tenant and calls as its owner."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar.testing import TestClient

from valorize_adapters.memory import InMemoryTaskQueue
from valorize_adapters.postgres.task_queue import LocalDispatcher
from valorize_core.ports.task_queue import Task
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings


@contextmanager
def app_client(settings: Settings) -> Iterator[TestClient[Any]]:
    """The API app on ``settings`` behind Litestar's test client, its lifespan run (started at the
    block's start, shut down at its end); a server error answers 500 as a client would see it."""
    container = Container()
    container.settings.override(settings)
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield client


@contextmanager
def cached_and_truth(database_url: str, redis_url: str) -> Iterator[tuple[TestClient[Any], TestClient[Any]]]:
    """Two APIs on one database: one with the read cache (on Redis with its near cache when
    ``redis_url`` is given, else in the process) and one without any cache, the truth."""

    def settings(cache: bool) -> Settings:
        return Settings(
            backend="postgres",
            database_url=database_url,
            db_pool_max=4,
            cache=cache,
            redis_url=redis_url if cache else "",
        )

    with app_client(settings(True)) as cached, app_client(settings(False)) as truth:
        yield cached, truth


class Api:
    """A signed-up tenant and helpers to call the API as its owner."""

    def __init__(self, client: TestClient[Any]) -> None:
        self.client = client
        email = f"{uuid.uuid4().hex}@example.com"
        response = client.post("/api/signup", json={"tenant_name": "Casa", "email": email, "name": "Ana"})
        assert response.status_code == 201, response.text
        body = response.json()
        self.tenant_id, self.token, self.token_id = body["tenant_id"], body["token"], body["token_id"]
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.client.post(path, json=body, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def patch(self, path: str, body: Any, **kw: Any) -> Any:
        return self.client.patch(path, json=body, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.client.delete(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def account(self, name: str = "Checking", currency: str = "BRL", opening: str = "1000.00") -> str:
        r = self.post(
            "/api/accounts", {"name": name, "kind": "checking", "currency": currency, "opening_balance": opening}
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def tx(self, account: str, day: str, description: str, amount: str, **extra: Any) -> Any:
        """POST a transaction; returns the response."""
        body = {"account_id": account, "booked_on": day, "description": description, "amount": amount, **extra}
        return self.post("/api/transactions", body)

    def category(self, name: str, kind: str = "expense", parent: str | None = None) -> str:
        r = self.post("/api/categories", {"name": name, "kind": kind, "parent_id": parent})
        assert r.status_code == 201, r.text
        return str(r.json()["id"])


def run_background_tasks(client: TestClient[Any]) -> None:
    """What a dispatcher does: run every queued task (and the tasks they cause) through the
    worker's runner, until none is left."""
    runtime = client.app.state.runtime

    async def drain() -> None:
        queue = runtime.task_queue
        if isinstance(queue, InMemoryTaskQueue):
            while (task := queue.take()) is not None:
                await runtime.runner.run(task)
            return

        async def deliver(task: Task, attempt: int) -> bool:
            await runtime.runner.run(task)
            return True

        dispatcher = LocalDispatcher(runtime.backend.pool, queue, deliver)
        while await dispatcher.run_once():
            pass

    client.blocking_portal.call(drain)
