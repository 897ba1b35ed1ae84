"""A write whose answer is lost after its COMMIT reached the server is never applied twice.

The failure is injected right after a unit of work's commit: on PostgreSQL the connection is
closed under it, and the API sees the error the session raises for a lost connection (503), as
when the server committed and the connection died before its answer was read; in memory, the
unit raises ``Unavailable`` after swapping its changes in. The retry with the same key must
neither write again nor fail."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from http_support import Api
from litestar.testing import TestClient

from valorize_adapters.memory.unit_of_work import MemoryUnitOfWork
from valorize_adapters.postgres.errors import domain_error
from valorize_adapters.postgres.unit_of_work import PostgresUnitOfWork
from valorize_core.model.errors import Unavailable
from valorize_core.model.events import DomainEvent
from valorize_core.runtime.pipeline import UnitOfWorkBase
from valorize_entrypoints.api import idempotency

TX = "/api/transactions"


class Cut:
    """Makes the next unit that commits events (the next write's) fail ``when`` its commit is
    made ("after") or before it is sent ("before"); ``hold``: after the commit, wait for it to
    be set first."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, when: str, *, any_commit: bool = False) -> None:
        """``any_commit``: the next unit that commits at all (signup's records no event)."""
        self.armed, self.when, self.any_commit = True, when, any_commit
        self.committed, self.hold = threading.Event(), threading.Event()
        self.hold.set()
        for unit in (PostgresUnitOfWork, MemoryUnitOfWork):
            monkeypatch.setattr(unit, "_write", self._wrap(unit._write))

    def _wrap(self, write: Any) -> Any:
        async def cut_write(unit: UnitOfWorkBase, events: Sequence[DomainEvent]) -> None:
            mine = self.armed and (self.any_commit or bool(events))
            if mine and self.when == "before":
                self.armed = False
                raise Unavailable("the connection was lost before COMMIT was sent")
            await write(unit, events)
            if not mine:
                return
            self.armed = False
            self.committed.set()
            await asyncio.to_thread(self.hold.wait, 30)  # retries race the request, its write committed
            if isinstance(unit, PostgresUnitOfWork):
                await unit.session.conn.close()  # the server committed; its answer is never read
                lost = psycopg.OperationalError("server closed the connection unexpectedly")
                raise domain_error(lost) or Unavailable("the database does not answer") from lost
            raise Unavailable("the answer of the commit was lost")

        return cut_write


def _body(account: str, description: str = "PADARIA") -> dict[str, str]:
    return {"account_id": account, "booked_on": "2026-11-03", "description": description, "amount": "-10.00"}


def test_a_write_whose_answer_is_lost_is_not_applied_again(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    account = api.account()
    key = {"Idempotency-Key": uuid.uuid4().hex}
    Cut(monkeypatch, "after")
    first = api.post(TX, _body(account), headers=key)
    assert first.status_code == 503, first.text
    retried = api.post(TX, _body(account), headers=key)
    assert retried.status_code == 409, retried.text
    assert retried.headers["content-type"].startswith("application/problem+json")
    assert retried.json()["code"] == "already_applied"
    assert api.post(TX, _body(account), headers=key).json()["code"] == "already_applied"  # and every retry after
    assert [t["description"] for t in api.get(TX).json()["items"]] == ["PADARIA"]
    assert api.get(f"/api/accounts/{account}").json()["balance"]["amount"] == "990.00"
    # The same key with another request is still refused as such.
    assert api.post(TX, _body(account, "OTHER"), headers=key).status_code == 422


def test_a_write_that_rolled_back_is_run_by_the_retry(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    account = api.account()
    key = {"Idempotency-Key": uuid.uuid4().hex}
    Cut(monkeypatch, "before")
    first = api.post(TX, _body(account), headers=key)
    assert first.status_code == 503, first.text
    retried = api.post(TX, _body(account), headers=key)
    assert retried.status_code == 201, retried.text
    again = api.post(TX, _body(account), headers=key)
    assert (again.status_code, again.headers.get("idempotent-replayed")) == (201, "true")
    assert again.json() == retried.json()
    assert len(api.get(TX).json()["items"]) == 1
    assert api.get(f"/api/accounts/{account}").json()["balance"]["amount"] == "990.00"


def test_retries_racing_a_request_whose_answer_is_lost(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries sent while the first request's write has committed and it has not answered yet
    wait (409 ``request_in_progress``); once it failed, they are told it was applied. One row."""
    account = api.account()
    key = {"Idempotency-Key": uuid.uuid4().hex}
    cut = Cut(monkeypatch, "after")
    cut.hold.clear()
    answers: dict[str, Any] = {}
    first = threading.Thread(target=lambda: answers.update(first=api.post(TX, _body(account), headers=key)))
    first.start()
    try:
        assert cut.committed.wait(30), "the first request never committed"
        racing: list[Any] = []
        retries = [
            threading.Thread(target=lambda: racing.append(api.post(TX, _body(account), headers=key))) for _ in range(4)
        ]
        for retry in retries:
            retry.start()
        for retry in retries:
            retry.join(30)
    finally:
        cut.hold.set()
        first.join(30)
    assert answers["first"].status_code == 503, answers["first"].text
    assert [(r.status_code, r.json()["code"]) for r in racing] == [(409, "request_in_progress")] * 4
    deadline = time.monotonic() + 5
    while (after := api.post(TX, _body(account), headers=key)).json()["code"] == "request_in_progress":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert (after.status_code, after.json()["code"]) == (409, "already_applied")
    assert len(api.get(TX).json()["items"]) == 1


def test_a_request_dead_after_its_commit_is_not_retaken_after_its_lock(
    api: Api, client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API died after the commit (nothing released, nothing stored): past the claim's lock,
    the retry is told the write was applied, never runs it again."""
    account = api.account()
    key = {"Idempotency-Key": uuid.uuid4().hex}
    runtime = client.app.state.runtime
    Cut(monkeypatch, "after")
    monkeypatch.setattr(idempotency, "LOCK", timedelta(0))  # the claim's lock lapses at once
    release = runtime.idempotency.release

    async def nothing(*args: Any) -> None:  # the process is gone: its claim is never settled
        return None

    monkeypatch.setattr(runtime.idempotency, "release", nothing)
    assert api.post(TX, _body(account), headers=key).status_code == 503
    monkeypatch.setattr(runtime.idempotency, "release", release)
    retried = api.post(TX, _body(account), headers=key)
    assert (retried.status_code, retried.json()["code"]) == (409, "already_applied"), retried.text
    assert len(api.get(TX).json()["items"]) == 1


def test_a_signup_whose_answer_is_lost_makes_no_second_account(
    client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signup's key has no tenant to be marked in (its namespace is none): the retry runs, and
    meets the e-mail taken (409), never a second tenant or token."""
    email = f"{uuid.uuid4().hex}@example.com"
    body = {"tenant_name": "Casa", "email": email, "name": "Ana"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    Cut(monkeypatch, "after", any_commit=True)
    assert client.post("/api/signup", json=body, headers=key).status_code == 503
    retried = client.post("/api/signup", json=body, headers=key)
    assert retried.status_code == 409, retried.text
    assert "already registered" in retried.json()["detail"]
    assert client.post("/api/signup", json=body, headers=key).status_code == 409
