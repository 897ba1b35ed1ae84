"""An archived account's balance never moves: every balance-moving write (create, edit, move,
delete, transfer, opening balance) is refused with a validation error and leaves nothing, on
both adapters; and on PostgreSQL also when the account is archived while the write waits for
its row (the check reads the account under the row lock: the locked row a create opens with,
or the one the balance update returns)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import pytest
from pg_support import tenant_rows

from valorize_adapters.memory import InMemoryBackend
from valorize_adapters.postgres import PostgresBackend
from valorize_core.app import Valorize
from valorize_core.model.errors import ValidationError
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.create_account import NewAccount
from valorize_core.use_cases.actions.create_transaction import NewTransaction
from valorize_core.use_cases.actions.create_transfer import NewTransfer
from valorize_core.use_cases.actions.delete_transaction import TransactionDeletion
from valorize_core.use_cases.actions.signup import SignupRequest
from valorize_core.use_cases.actions.update_account import AccountChanges
from valorize_core.use_cases.actions.update_transaction import TransactionChanges
from valorize_core.use_cases.queries.get_account import AccountLookup

DAY = date(2026, 11, 3)
_WAITING = "SELECT count(*) AS n FROM pg_locks WHERE NOT granted"
WRITES = ["create", "edit", "move in", "move out", "delete", "transfer in", "transfer out", "opening balance"]


@dataclasses.dataclass
class Setup:
    """A tenant with the account to archive (``a``, holding ``on_a``) and another (``b``, holding ``on_b``)."""

    tenant: uuid.UUID
    a: uuid.UUID
    b: uuid.UUID
    on_a: uuid.UUID
    on_b: uuid.UUID


async def _setup(app: Valorize) -> Setup:
    t = (await app.signup(SignupRequest("Arch", f"{uuid.uuid4().hex}@example.com", "A"))).tenant.id
    a = await app.create_account(NewAccount(t, "A", "checking", "BRL", "10.00"))
    b = await app.create_account(NewAccount(t, "B", "checking", "BRL", "10.00"))
    on_a = await app.create_transaction(NewTransaction(t, a.id, DAY, "ON A", "-1.00"))
    on_b = await app.create_transaction(NewTransaction(t, b.id, DAY, "ON B", "-2.00"))
    return Setup(t, a.id, b.id, on_a.id, on_b.id)


def _write(app: Valorize, s: Setup, kind: str) -> Callable[[], Awaitable[Any]]:
    t = s.tenant
    return {
        "create": lambda: app.create_transaction(NewTransaction(t, s.a, DAY, "LATE", "-1.00")),
        "edit": lambda: app.update_transaction(TransactionChanges(t, s.on_a, amount="-5.00")),
        "move in": lambda: app.update_transaction(TransactionChanges(t, s.on_b, account_id=s.a)),
        "move out": lambda: app.update_transaction(TransactionChanges(t, s.on_a, account_id=s.b)),
        "delete": lambda: app.delete_transaction(TransactionDeletion(t, s.on_a)),
        "transfer in": lambda: app.create_transfer(NewTransfer(t, s.b, s.a, "1.00", DAY)),
        "transfer out": lambda: app.create_transfer(NewTransfer(t, s.a, s.b, "1.00", DAY)),
        "opening balance": lambda: app.update_account(AccountChanges(t, s.a, opening_balance="99.00")),
    }[kind]


async def _state(app: Valorize, s: Setup) -> tuple[Any, ...]:
    a = await app.get_account(AccountLookup(s.tenant, s.a))
    b = await app.get_account(AccountLookup(s.tenant, s.b))
    return a.balance.minor, a.opening_balance.minor, b.balance.minor


@asynccontextmanager
async def _pg(database_url: str) -> AsyncIterator[tuple[PostgresBackend, Valorize]]:
    backend = await PostgresBackend.open(database_url, run_migrations=False, max_size=4, pool_timeout=60.0)
    try:
        yield backend, Valorize(backend.ports)
    finally:
        await backend.close()


@asynccontextmanager
async def _app(backend: str, database_url: str) -> AsyncIterator[Valorize]:
    if backend == "memory":
        yield InMemoryBackend().app
    else:
        async with _pg(database_url) as (_, app):
            yield app


@pytest.mark.parametrize("backend", ["memory", "postgres"])
@pytest.mark.parametrize("kind", WRITES)
def test_a_balance_moving_write_on_an_archived_account_is_refused(
    database_url: str, pg_backend: PostgresBackend, backend: str, kind: str
) -> None:
    async def go() -> None:
        async with _app(backend, database_url) as app:
            s = await _setup(app)
            await app.update_account(AccountChanges(s.tenant, s.a, archived=True))
            before = await _state(app, s)
            with pytest.raises(ValidationError, match="archived"):
                await _write(app, s, kind)()
            assert await _state(app, s) == before
            # Unarchived, the same write is taken.
            await app.update_account(AccountChanges(s.tenant, s.a, archived=False))
            await _write(app, s, kind)()
            assert await _state(app, s) != before

    run(go())


def test_archiving_with_a_new_opening_balance_in_one_change_is_taken(database_url: str) -> None:
    async def go() -> None:
        async with _app("postgres", database_url) as app:
            s = await _setup(app)
            changed = await app.update_account(AccountChanges(s.tenant, s.a, archived=True, opening_balance="20.00"))
            assert (changed.archived, changed.balance.minor) == (True, 1_900)
            stored = await app.get_account(AccountLookup(s.tenant, s.a))
            assert (stored.archived, stored.balance.minor, stored.opening_balance.minor) == (True, 1_900, 2_000)

    run(go())


@pytest.mark.parametrize("kind", [k for k in WRITES if k != "opening balance"])
def test_a_write_waiting_while_its_account_is_archived_is_refused(
    database_url: str, pg_backend: PostgresBackend, kind: str
) -> None:
    """The write reads the account unlocked (not archived), then its balance update waits for a
    unit holding the row, which archives it: once that commits, the write is refused whole."""

    async def go() -> None:
        async with _pg(database_url) as (backend, app):
            s = await _setup(app)
            before = await _state(app, s)
            rows = "SELECT id, account_id, amount_minor FROM transactions WHERE tenant_id = %s ORDER BY id"
            stored = await tenant_rows(backend, s.tenant, rows, (s.tenant,))
            async with backend.ports.uow(s.tenant) as holder:
                (locked,) = await holder.accounts.lock([s.a])
                write = asyncio.ensure_future(_write(app, s, kind)())
                for _ in range(100):  # until the write waits for the row lock
                    await asyncio.sleep(0.05)
                    waiting = await tenant_rows(backend, s.tenant, _WAITING)
                    if waiting[0]["n"]:
                        break
                assert not write.done()
                await holder.accounts.update(dataclasses.replace(locked, archived=True))
                await holder.commit()
            (outcome,) = await asyncio.gather(write, return_exceptions=True)
            assert isinstance(outcome, ValidationError), outcome
            assert await tenant_rows(backend, s.tenant, rows, (s.tenant,)) == stored
            assert await _state(app, s) == before

    run(go())
