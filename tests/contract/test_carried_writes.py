"""Writes carried by a later statement (``Session.fetch_carrying``): a new transaction's row and
split run as data-modifying ``WITH`` clauses of its balance's update — one statement instead of
three (docs/postgres.md, "Round trips") — with every guarantee the separate statements gave:
the order writes were queued in, their constraints, the splits trigger and row-level security."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from pg_support import tenant_rows

from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.repositories import _INSERT_SPLIT, _INSERT_TX
from valorize_adapters.postgres.rows import split_params, transaction_params
from valorize_adapters.postgres.session import Session
from valorize_core.model.errors import Conflict, NotFound, UnbalancedSplits
from valorize_core.model.money import Money
from valorize_core.model.transactions import Split
from valorize_core.testing.contracts import PortsContract
from valorize_core.testing.loop import run


def _statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The text of every statement the sessions send from now on."""
    sent: list[str] = []
    send = Session._send

    async def counted(self: Session, statements: Any) -> list[Any]:
        # What the batch holds once the session adds BEGIN and the deferred writes.
        batch_before = [q for q, _, _ in self._deferred]
        sent.extend(str(q) for q in batch_before)
        sent.extend(str(q) for q, _, _ in statements)
        return await send(self, statements)

    monkeypatch.setattr(Session, "_send", counted)
    return sent


class TestCarriedWrites(PortsContract):
    def test_a_transaction_its_split_and_its_balance_are_one_statement(
        self, pg_backend: PostgresBackend, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        account = self.account(t, opening=10_000)
        self.write(ports, t, lambda uow: uow.accounts.add(account))
        tx = self.transaction(t, account, -2_500)
        sent = _statements(monkeypatch)

        async def create(uow: Any) -> Any:
            await uow.transactions.add(tx)
            return await uow.accounts.apply_balance_delta(account.id, tx.amount.minor)

        moved = self.write(ports, t, create)
        assert moved.balance == Money(7_500, "BRL")
        (carrier,) = [s for s in sent if "UPDATE accounts" in s]
        assert carrier.startswith("WITH w0 AS (INSERT INTO transactions")
        assert "w1 AS (INSERT INTO splits" in carrier
        assert not [s for s in sent if s.startswith("INSERT INTO transactions")]
        stored = self.run(self._read(ports, t, tx.id))
        assert stored == tx

    async def _read(self, ports: Any, t: uuid.UUID, tx_id: uuid.UUID) -> Any:
        async with ports.uow(t) as uow:
            return await uow.transactions.get(tx_id)

    def test_a_carried_write_that_breaks_a_constraint_fails_the_unit_and_leaves_nothing(
        self, pg_backend: PostgresBackend
    ) -> None:
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        account = self.account(t, opening=10_000)
        self.write(ports, t, lambda uow: uow.accounts.add(account))
        first = self.transaction(t, account, -100, external_id="ext-1")
        self.write(ports, t, lambda uow: uow.transactions.add(first))
        again = self.transaction(t, account, -100, external_id="ext-1")  # the same external id

        async def create(uow: Any) -> None:
            await uow.transactions.add(again)
            await uow.accounts.apply_balance_delta(account.id, -100)
            await uow.commit()

        async def go() -> None:
            async with ports.uow(t) as uow:
                await create(uow)

        with pytest.raises(Conflict):
            self.run(go())
        balance = run(tenant_rows(pg_backend, t, "SELECT balance_minor FROM accounts WHERE id = %s", (account.id,)))
        assert balance == [{"balance_minor": 10_000}]
        assert run(tenant_rows(pg_backend, t, "SELECT id FROM transactions WHERE id = %s", (again.id,))) == []

    def test_the_splits_trigger_still_checks_a_carried_split(self, pg_backend: PostgresBackend) -> None:
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        account = self.account(t, opening=0)
        self.write(ports, t, lambda uow: uow.accounts.add(account))
        tx = self.transaction(t, account, -500)
        wrong = (Split(None, Money(-400, "BRL")),)  # does not sum to the amount

        async def go() -> None:
            async with ports.uow(t) as uow:
                session = uow.session  # type: ignore[attr-defined]
                session.defer(_INSERT_TX, [transaction_params(tx)], inline=True)
                session.defer(_INSERT_SPLIT, split_params(replace(tx, splits=wrong)), inline=True)
                await uow.accounts.apply_balance_delta(account.id, -500)
                await uow.commit()

        with pytest.raises(UnbalancedSplits):
            self.run(go())
        assert run(tenant_rows(pg_backend, t, "SELECT id FROM transactions WHERE id = %s", (tx.id,))) == []

    def test_row_level_security_refuses_a_carried_row_of_another_tenant(self, pg_backend: PostgresBackend) -> None:
        ports = pg_backend.ports
        t, other = self.new_tenant(ports), self.new_tenant(ports)
        mine, theirs = self.account(t), self.account(other)
        self.write(ports, t, lambda uow: uow.accounts.add(mine))
        self.write(ports, other, lambda uow: uow.accounts.add(theirs))
        intruder = self.transaction(other, theirs, -100)

        async def go() -> None:
            async with ports.uow(t) as uow:
                uow.session.defer(_INSERT_TX, [transaction_params(intruder)], inline=True)  # type: ignore[attr-defined]
                await uow.accounts.apply_balance_delta(mine.id, -100)
                await uow.commit()

        with pytest.raises(NotFound, match="not visible to this tenant") as refused:
            self.run(go())
        assert isinstance(refused.value.__cause__, psycopg.errors.InsufficientPrivilege)
        assert run(tenant_rows(pg_backend, other, "SELECT id FROM transactions", ())) == []


def test_only_the_writes_queued_last_are_carried(database_url: str) -> None:
    """A write queued after an ``inline`` one is not carried, so neither moves past the other:
    the inline write goes first, on its own, and the order of the rows is the order queued."""

    async def scenario() -> list[int]:
        conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
        try:
            session = Session(conn, uuid.uuid4())
            await session.execute("CREATE TEMP TABLE queued (seq serial, n int)")
            await session.execute("CREATE TEMP TABLE host (n int)")
            await session.execute("INSERT INTO host VALUES (0)")
            session.defer("INSERT INTO queued (n) VALUES (%s)", [(1,)], inline=True)
            session.defer("INSERT INTO queued (n) VALUES (%s)", [(2,)])
            session.defer("INSERT INTO queued (n) VALUES (%s)", [(3,)], inline=True)
            session.defer("INSERT INTO queued (n) VALUES (%s)", [(4,)], inline=True)
            updated = await session.fetch_carrying("UPDATE host SET n = n + 1 RETURNING n", ())
            rows = await session.fetch("SELECT n FROM queued ORDER BY seq")
            await session.rollback()
            assert updated == [{"n": 1}]
            return [r["n"] for r in rows]
        finally:
            await conn.close()

    rows = run(scenario())
    assert rows[:2] == [1, 2]  # the last two, carried, after them (in one statement)
    assert sorted(rows[2:]) == [3, 4]
