"""A transaction written while its category moves, on PostgreSQL and a real Redis.

A transaction write retires its categories' ancestors from the category tree its unit read at
its start (``retire_transactions``). If the category moved under a new parent between that read
and the write's commit, the new parent's list — computed after the move, before the commit —
would depend on a scope the write does not retire. The write holds the tree shared from that
read to its commit and a move holds it exclusively (docs/caching.md, "A category moved during a
write"): the move waits for the write, and retires the new parent's list when it commits.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import psycopg
import pytest
from http_support import Api
from litestar.testing import TestClient

from valorize_core.model.transactions import Transaction
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.use_cases.actions import create_transaction


def _waiting_for_a_lock(database_url: str) -> bool:
    with psycopg.connect(database_url, autocommit=True) as admin:
        row = admin.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()
    return row is not None and row[0] > 0


def test_a_category_moved_during_a_write_does_not_leave_its_new_parents_list_stale(
    cached: TestClient[Any], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = Api(cached)
    account = api.account("A")
    old_parent, new_parent = api.category("Food"), api.category("Home")
    moved = api.category("Bakery", parent=old_parent)
    reached, proceed = threading.Event(), threading.Event()
    original = create_transaction.retire_transactions

    async def paused(uow: UnitOfWork, *versions: Transaction) -> None:
        # the write's rows are in (uncommitted), its category tree read: let the test move the
        # category and read the new parent's list now
        reached.set()
        await asyncio.get_running_loop().run_in_executor(None, proceed.wait, 30)
        await original(uow, *versions)

    monkeypatch.setattr(create_transaction, "retire_transactions", paused)
    results: list[Any] = []
    writer = threading.Thread(
        target=lambda: results.append(api.tx(account, "2026-03-10", "Bread", "-5.00", category_id=moved))
    )
    writer.start()
    moves: list[Any] = []
    mover = threading.Thread(
        target=lambda: moves.append(api.patch(f"/api/categories/{moved}", {"parent_id": new_parent}))
    )
    try:
        assert reached.wait(30), "the write did not reach its declaration"
        # The move, while the write's rows are in and its tree read: it either commits at once
        # (nothing orders the two) or waits for the write.
        mover.start()
        deadline = time.monotonic() + 30
        while not moves and not _waiting_for_a_lock(database_url):
            assert time.monotonic() < deadline, "the move neither finished nor waited"
            time.sleep(0.02)
        listed = f"/api/transactions?category_id={new_parent}"
        assert api.get(listed).json()["items"] == []  # the write is not committed yet: cached empty
    finally:
        proceed.set()
        writer.join(30)
        if mover.ident is not None:  # started
            mover.join(30)
    assert len(results) == 1
    assert results[0].status_code == 201, results[0].text
    assert len(moves) == 1
    assert moves[0].status_code == 200, moves[0].text
    truth = api.get(f"{listed}&limit=49").json()["items"]  # the same list, never cached
    assert [t["description"] for t in truth] == ["Bread"]
    assert api.get(listed).json()["items"] == truth
