"""Adversarial review of the leaner write path (``Session.fetch_carrying``, the outbox and its
tasks as one JSON statement, event records handed out as copies), on real PostgreSQL: balances
exact under concurrent writes, edits, deletes and opposite transfers; every committed event in
the outbox with its follow-up task; a carried write whose balance update finds no account
leaves nothing; payloads stored as the API made them."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import pytest
from pg_support import tenant_rows

from valorize_adapters.postgres import PostgresBackend
from valorize_core.app import Valorize
from valorize_core.model.errors import NotFound, ValidationError
from valorize_core.model.events import TransactionDeleted
from valorize_core.runtime.relay import follow_up_tasks, follow_ups
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.create_account import NewAccount
from valorize_core.use_cases.actions.create_category import NewCategory
from valorize_core.use_cases.actions.create_transaction import NewTransaction
from valorize_core.use_cases.actions.create_transfer import NewTransfer
from valorize_core.use_cases.actions.delete_transaction import TransactionDeletion
from valorize_core.use_cases.actions.set_budget import BudgetInput
from valorize_core.use_cases.actions.signup import SignupRequest
from valorize_core.use_cases.actions.update_account import AccountChanges
from valorize_core.use_cases.actions.update_transaction import TransactionChanges

DAY = date(2026, 11, 2)


@asynccontextmanager
async def _backend(database_url: str) -> AsyncIterator[tuple[PostgresBackend, Valorize]]:
    """A backend with room for contention (six connections, a patient pool) whose units write
    their events' follow-up tasks in the commit, as the API's local queue does."""
    backend = await PostgresBackend.open(database_url, run_migrations=False, max_size=6, pool_timeout=60.0)
    try:
        ports = dataclasses.replace(backend.ports, uow=backend.ports.uow.writing_tasks(follow_ups))  # type: ignore[attr-defined]
        yield backend, Valorize(ports)
    finally:
        await backend.close()


@pytest.fixture
def wrev_db(database_url: str, pg_backend: PostgresBackend) -> str:
    return database_url  # pg_backend: the schema is migrated


async def _tenant(app: Valorize) -> uuid.UUID:
    return (await app.signup(SignupRequest("Wrev", f"{uuid.uuid4().hex}@example.com", "W"))).tenant.id


async def _balances(backend: PostgresBackend, t: uuid.UUID) -> dict[uuid.UUID, tuple[int, int, int]]:
    """Per account: the stored balance, the opening balance plus its transactions' amounts, and
    the same through the splits."""
    rows = await tenant_rows(
        backend,
        t,
        "SELECT a.id, a.balance_minor,"
        " a.opening_minor + coalesce((SELECT sum(amount_minor) FROM transactions x"
        "  WHERE x.tenant_id = a.tenant_id AND x.account_id = a.id), 0) AS by_rows,"
        " a.opening_minor + coalesce((SELECT sum(s.amount_minor) FROM splits s JOIN transactions x"
        "  ON x.tenant_id = s.tenant_id AND x.id = s.transaction_id"
        "  WHERE x.tenant_id = a.tenant_id AND x.account_id = a.id), 0) AS by_splits"
        " FROM accounts a WHERE a.tenant_id = %s",
        (t,),
    )
    return {r["id"]: (int(r["balance_minor"]), int(r["by_rows"]), int(r["by_splits"])) for r in rows}


def _exact(balances: dict[uuid.UUID, tuple[int, int, int]]) -> None:
    for account, (stored, by_rows, by_splits) in balances.items():
        assert stored == by_rows == by_splits, (account, stored, by_rows, by_splits)


def test_twenty_concurrent_writes_to_one_account_keep_its_balance_and_every_event(wrev_db: str) -> None:
    async def go() -> None:
        async with _backend(wrev_db) as (backend, app):
            t = await _tenant(app)
            food = await app.create_category(NewCategory(t, "Food", "expense"))
            await app.set_budget(BudgetInput(t, food.id, "500.00", "BRL"))  # the writes' evaluations can do something
            account = await app.create_account(NewAccount(t, "A", "checking", "BRL", "100.00"))
            made = await asyncio.gather(
                *(
                    app.create_transaction(NewTransaction(t, account.id, DAY, f"PADARIA {n}", f"-{n}.{n:02d}"))
                    for n in range(1, 21)
                )
            )
            balances = await _balances(backend, t)
            _exact(balances)
            assert balances[account.id][0] == 10_000 - sum(n * 100 + n for n in range(1, 21))
            # Every committed write's event in the outbox, and its budget evaluation beside it (the
            # write's only transaction event: the evaluation's id is the one the event alone gives).
            outbox = await tenant_rows(
                backend, t, "SELECT id, payload FROM outbox WHERE tenant_id = %s AND name = 'transaction.created'", (t,)
            )
            created = {r["payload"]["transaction_id"] for r in outbox}
            assert created == {str(tx.id) for tx in made}
            tasks = await tenant_rows(backend, t, "SELECT id FROM task_queue WHERE tenant_id = %s", (t,))
            expected = {
                task.id
                for r in outbox
                for task in follow_up_tasks(_event_of(r["id"], t, r["payload"]))
                if task.name == "evaluate_budgets"
            }
            assert len(expected) == 20
            assert expected <= {r["id"] for r in tasks}

    run(go())


def _event_of(event_id: uuid.UUID, t: uuid.UUID, payload: dict[str, Any]) -> Any:
    from valorize_core.model.events import event_from_record

    return event_from_record(
        {
            "id": str(event_id),
            "name": "transaction.created",
            "tenant_id": str(t),
            "occurred_at": "2026-11-02T00:00:00+00:00",
            "payload": payload,
        }
    )


def test_opposite_transfers_at_once_neither_deadlock_nor_drift(wrev_db: str) -> None:
    async def go() -> None:
        async with _backend(wrev_db) as (backend, app):
            t = await _tenant(app)
            a = await app.create_account(NewAccount(t, "A", "checking", "BRL", "500.00"))
            b = await app.create_account(NewAccount(t, "B", "checking", "BRL", "500.00"))
            moves = [(a.id, b.id, f"{n}.00") for n in range(1, 9)] + [(b.id, a.id, f"{n}.50") for n in range(1, 9)]
            results = await asyncio.gather(
                *(app.create_transfer(NewTransfer(t, x, y, amount, DAY)) for x, y, amount in moves),
                return_exceptions=True,
            )
            assert not [r for r in results if isinstance(r, BaseException)], results
            balances = await _balances(backend, t)
            _exact(balances)
            # a sent 1..8 (3600 minor) and received 1.50..8.50 (4000 minor)
            assert balances[a.id][0] == 50_000 - 3_600 + 4_000
            assert balances[b.id][0] == 50_000 + 3_600 - 4_000

    run(go())


def test_creates_edits_and_deletes_interleaved_on_one_account_keep_it_exact(wrev_db: str) -> None:
    async def go() -> None:
        async with _backend(wrev_db) as (backend, app):
            t = await _tenant(app)
            account = await app.create_account(NewAccount(t, "A", "checking", "BRL", "0"))
            other = await app.create_account(NewAccount(t, "B", "checking", "BRL", "0"))
            existing = [
                await app.create_transaction(NewTransaction(t, account.id, DAY, f"MERCADO {n}", f"-{n}.00"))
                for n in range(1, 9)
            ]
            work: list[Any] = []
            for n, tx in enumerate(existing):
                if n % 3 == 0:
                    work.append(app.delete_transaction(TransactionDeletion(t, tx.id)))
                elif n % 3 == 1:
                    work.append(app.update_transaction(TransactionChanges(t, tx.id, amount=f"-{n + 10}.25")))
                else:  # moved to the other account and re-priced at once
                    work.append(
                        app.update_transaction(TransactionChanges(t, tx.id, amount="-3.33", account_id=other.id))
                    )
                work.append(app.create_transaction(NewTransaction(t, account.id, DAY, f"NOVO {n}", f"{n}.07")))
            results = await asyncio.gather(*work, return_exceptions=True)
            assert not [r for r in results if isinstance(r, BaseException)], results
            _exact(await _balances(backend, t))

    run(go())


def test_a_carried_write_whose_account_is_gone_or_foreign_leaves_nothing(wrev_db: str) -> None:
    """The row and split run in the balance update's statement even when the update finds no
    account (a data-modifying WITH runs to completion): the unit must still leave nothing."""

    async def go() -> None:
        async with _backend(wrev_db) as (backend, app):
            t, other = await _tenant(app), await _tenant(app)
            mine = await app.create_account(NewAccount(t, "A", "checking", "BRL", "10.00"))
            theirs = await app.create_account(NewAccount(other, "X", "checking", "BRL", "10.00"))
            tx = await app.create_transaction(NewTransaction(t, mine.id, DAY, "SEED", "-1.00"))
            for target in (theirs.id, uuid.uuid4()):
                ghost = dataclasses.replace(tx, id=uuid.uuid4(), splits=tx.splits)

                async def carry(ghost: Any = ghost, target: uuid.UUID = target) -> None:
                    async with backend.ports.uow(t) as uow:
                        await uow.transactions.add(ghost)
                        await uow.accounts.apply_balance_delta(target, -100)
                        await uow.commit()

                with pytest.raises(NotFound):
                    await carry()
                assert await tenant_rows(backend, t, "SELECT id FROM transactions WHERE id = %s", (ghost.id,)) == []
            _exact(await _balances(backend, t))
            _exact(await _balances(backend, other))

    run(go())


def test_opening_balance_changes_interleaved_with_writes_keep_the_balance_exact(wrev_db: str) -> None:
    async def go() -> None:
        async with _backend(wrev_db) as (backend, app):
            t = await _tenant(app)
            account = await app.create_account(NewAccount(t, "A", "checking", "BRL", "10.00"))
            work: list[Any] = []
            for n in range(1, 7):
                work.append(app.create_transaction(NewTransaction(t, account.id, DAY, f"LOJA {n}", f"-{n}.11")))
                work.append(app.update_account(AccountChanges(t, account.id, opening_balance=f"{n * 7}.00")))
            results = await asyncio.gather(*work, return_exceptions=True)
            assert not [r for r in results if isinstance(r, BaseException)], results
            _exact(await _balances(backend, t))

    run(go())


def test_a_write_waiting_on_an_account_archived_meanwhile_is_refused(wrev_db: str) -> None:
    """The create reads the account unlocked (not archived), then its carried balance update
    waits for a unit that holds the row and archives it: once that commits, the write must not
    land on the archived account."""

    async def go() -> None:
        async with _backend(wrev_db) as (backend, app):
            t = await _tenant(app)
            account = await app.create_account(NewAccount(t, "A", "checking", "BRL", "10.00"))
            async with backend.ports.uow(t) as holder:
                (locked,) = await holder.accounts.lock([account.id])
                write = asyncio.ensure_future(
                    app.create_transaction(NewTransaction(t, account.id, DAY, "LATE", "-1.00"))
                )
                for _ in range(100):  # until the write waits for the row lock
                    await asyncio.sleep(0.05)
                    waiting = await tenant_rows(backend, t, "SELECT count(*) AS n FROM pg_locks WHERE NOT granted")
                    if waiting[0]["n"]:
                        break
                assert not write.done()
                await holder.accounts.update(dataclasses.replace(locked, archived=True))
                await holder.commit()
            outcome = await asyncio.gather(write, return_exceptions=True)
            rows = await tenant_rows(
                backend, t, "SELECT description FROM transactions WHERE account_id = %s", (account.id,)
            )
            _exact(await _balances(backend, t))
            assert rows == [], (outcome, rows)

    run(go())


@pytest.mark.parametrize("case", ["archived source", "archived target", "same account"])
def test_a_transfer_with_an_archived_or_the_same_account_is_refused(wrev_db: str, case: str) -> None:
    async def go() -> tuple[BaseException | None, Any]:
        async with _backend(wrev_db) as (backend, app):
            t = await _tenant(app)
            a = await app.create_account(NewAccount(t, "A", "checking", "BRL", "10.00"))
            b = await app.create_account(NewAccount(t, "B", "checking", "BRL", "10.00"))
            if case != "same account":
                await app.update_account(AccountChanges(t, a.id if case == "archived source" else b.id, archived=True))
            to = a.id if case == "same account" else b.id
            (outcome,) = await asyncio.gather(
                app.create_transfer(NewTransfer(t, a.id, to, "1.00", DAY)), return_exceptions=True
            )
            rows = await tenant_rows(backend, t, "SELECT id FROM transactions WHERE tenant_id = %s", (t,))
            _exact(await _balances(backend, t))
            return (outcome if isinstance(outcome, BaseException) else None), rows

    refused, rows = run(go())
    assert isinstance(refused, ValidationError), refused
    assert rows == []


def test_the_counted_search_at_the_exact_limit_ranks_as_brute_force(wrev_db: str) -> None:
    """The count and the exact search are one statement now: at the limit, one past it (the
    HNSW path) and with nothing stored, the ranking is the brute-force one."""
    import math
    import random

    from valorize_adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
    from valorize_adapters.postgres.vector_index import VectorSettings

    rng = random.Random(7)

    def vector() -> list[float]:
        return [rng.uniform(-1, 1) for _ in range(256)]

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))

    async def go() -> None:
        async with _backend(wrev_db) as (backend, app):
            t = await _tenant(app)
            limited = PostgresUnitOfWorkFactory(backend.pool, VectorSettings(256, exact_limit=3))
            query = vector()

            async def nearest() -> list[uuid.UUID]:
                async with limited(t) as uow:
                    return [n.item_id for n in await uow.examples.nearest(query, 5)]

            assert await nearest() == []
            stored: list[tuple[uuid.UUID, list[float]]] = []
            for size in (3, 4):
                while len(stored) < size:
                    stored.append((uuid.uuid4(), vector()))
                    async with limited(t) as uow:
                        await uow.examples.upsert_many([(stored[-1][0], stored[-1][1], uuid.uuid4(), "p")])
                        await uow.commit()
                ranked = [item for item, v in sorted(stored, key=lambda s: -cosine(query, s[1]))][:5]
                assert await nearest() == ranked, size

    run(go())


def test_an_event_of_another_tenant_is_refused_with_the_whole_commit(wrev_db: str) -> None:
    """Row-level security on the outbox and task statement (one JSON parameter per table): an
    event recorded for another tenant fails the commit, and the unit's rows go with it."""

    async def go() -> None:
        async with _backend(wrev_db) as (backend, app):
            t, other = await _tenant(app), await _tenant(app)
            account = await app.create_account(NewAccount(t, "A", "checking", "BRL", "10.00"))
            tx = await app.create_transaction(NewTransaction(t, account.id, DAY, "SEED", "-1.00"))
            ghost = dataclasses.replace(tx, id=uuid.uuid4())
            foreign = app.ports.event(
                TransactionDeleted, other, transaction_id=str(ghost.id), account_id=str(account.id)
            )

            async def commit() -> None:
                async with backend.ports.uow(t) as uow:
                    await uow.transactions.add(ghost)
                    await uow.accounts.apply_balance_delta(account.id, ghost.amount.minor)
                    uow.record(foreign)
                    await uow.commit()

            with pytest.raises(NotFound, match="not visible to this tenant") as refused:
                await commit()
            assert isinstance(refused.value, NotFound), repr(refused.value)
            assert await tenant_rows(backend, t, "SELECT id FROM transactions WHERE id = %s", (ghost.id,)) == []
            for tenant in (t, other):
                assert (
                    await tenant_rows(backend, tenant, "SELECT id FROM outbox WHERE id = %s", (foreign.event_id,)) == []
                )
            _exact(await _balances(backend, t))

    run(go())
