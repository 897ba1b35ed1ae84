"""Idempotency-Key claims are owned: a request that outlives its claim's lock, its key retaken
by a retry meanwhile, has its write refused (409 ``idempotency_key_retaken``, rolled back) and
settles nothing of the retry's claim. One write for one key (memory and PostgreSQL)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from http_support import Api
from litestar.testing import TestClient

from valorize_adapters.memory.unit_of_work import MemoryUnitOfWork
from valorize_adapters.postgres.unit_of_work import PostgresUnitOfWork
from valorize_core.model.events import DomainEvent
from valorize_core.runtime.pipeline import UnitOfWorkBase
from valorize_entrypoints.api import idempotency

TX = "/api/transactions"


def test_a_request_outliving_its_lock_does_not_write_beside_its_retry(
    api: Api, client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    account = api.account()
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"account_id": account, "booked_on": "2026-11-03", "description": "PADARIA", "amount": "-10.00"}
    writing, go = threading.Event(), threading.Event()
    armed = [True]

    def hold(write: Any) -> Any:
        async def held_write(unit: UnitOfWorkBase, events: Sequence[DomainEvent]) -> None:
            if armed[0] and events:  # the first request's write waits, past its claim's lock
                armed[0] = False
                writing.set()
                await asyncio.to_thread(go.wait, 30)
            await write(unit, events)

        return held_write

    for unit in (PostgresUnitOfWork, MemoryUnitOfWork):
        monkeypatch.setattr(unit, "_write", hold(unit._write))
    monkeypatch.setattr(idempotency, "LOCK", timedelta(0))  # the claim's lock lapses at once
    runtime = client.app.state.runtime
    claim, claims, retaken = runtime.idempotency.claim, [], threading.Event()

    async def counted_claim(*args: Any) -> Any:
        found = await claim(*args)
        claims.append(found)
        if len(claims) == 2:
            retaken.set()
        return found

    monkeypatch.setattr(runtime.idempotency, "claim", counted_claim)
    answers: dict[str, Any] = {}
    first = threading.Thread(target=lambda: answers.update(first=api.post(TX, body, headers=key)))
    retry = threading.Thread(target=lambda: answers.update(retry=api.post(TX, body, headers=key)))
    first.start()
    try:
        assert writing.wait(30), "the first request never reached its commit"
        retry.start()  # its lock lapsed: the retry retakes the key (then waits for the tenant's lock)
        assert retaken.wait(30), "the retry never claimed the key"
    finally:
        go.set()
        first.join(30)
        retry.join(30)
    assert [type(c).__name__ for c in claims] == ["Claimed", "Claimed"]
    assert answers["retry"].status_code == 201, answers["retry"].text
    late = answers["first"]
    assert late.status_code == 409, late.text
    assert late.headers["content-type"].startswith("application/problem+json")
    assert late.json()["code"] == "idempotency_key_retaken"
    assert "nothing was written" in late.json()["detail"]
    again = api.post(TX, body, headers=key)  # the retry's answer, not the late request's
    assert (again.status_code, again.headers.get("idempotent-replayed")) == (201, "true"), again.text
    assert again.json() == answers["retry"].json()
    assert len(api.get(TX).json()["items"]) == 1
    assert api.get(f"/api/accounts/{account}").json()["balance"]["amount"] == "990.00"
