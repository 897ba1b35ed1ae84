"""Transaction writes and category tree changes at once, on PostgreSQL: the writes hold the
tenant's tree shared and the changes exclusively (docs/caching.md, "A category moved during a
write"), taken before any row lock, so none of them deadlocks — run once each, without the
actions' retries, every one succeeds."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from valorize_adapters.postgres import PostgresBackend
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.correct_category import CategoryCorrection
from valorize_core.use_cases.actions.create_account import NewAccount
from valorize_core.use_cases.actions.create_category import NewCategory
from valorize_core.use_cases.actions.create_transaction import NewTransaction
from valorize_core.use_cases.actions.delete_category import CategoryDeletion
from valorize_core.use_cases.actions.delete_transaction import TransactionDeletion
from valorize_core.use_cases.actions.signup import SignupRequest
from valorize_core.use_cases.actions.update_category import CategoryChanges
from valorize_core.use_cases.actions.update_transaction import TransactionChanges


def _once(action: Any) -> Callable[[Any], Awaitable[Any]]:
    """The action's unit run once: a Contention (a deadlock PostgreSQL broke) is not retried."""
    call = type(action).__call__
    single = getattr(call, "__wrapped__", call)
    return lambda command: single(action, command)


def test_transaction_writes_and_tree_changes_at_once_never_deadlock(pg_backend: PostgresBackend) -> None:
    app = pg_backend.app

    async def go() -> list[BaseException | None]:
        t = (await app.signup(SignupRequest("Bank", f"{uuid.uuid4().hex}@example.com", "B"))).tenant.id
        account = await app.create_account(NewAccount(t, "A", "checking", "BRL"))
        food = await app.create_category(NewCategory(t, "Food", "expense"))
        home = await app.create_category(NewCategory(t, "Home", "expense"))
        bakery = await app.create_category(NewCategory(t, "Bakery", "expense", food.id))
        leaves = [await app.create_category(NewCategory(t, f"Leaf {n}", "expense", bakery.id)) for n in range(3)]
        made = [
            await app.create_transaction(
                NewTransaction(t, account.id, date(2026, 3, n + 1), f"Bread {n}", "-1.00", category_id=leaves[n % 3].id)
            )
            for n in range(9)
        ]
        create, update = _once(app.create_transaction), _once(app.update_transaction)
        correct, delete = _once(app.correct_category), _once(app.delete_transaction)
        move, add, remove = _once(app.update_category), _once(app.create_category), _once(app.delete_category)
        units: list[Awaitable[Any]] = []
        for n in range(3):
            units += [
                create(
                    NewTransaction(t, account.id, date(2026, 4, n + 1), f"Roll {n}", "-2.00", category_id=bakery.id)
                ),
                update(TransactionChanges(t, made[3 * n].id, category_id=bakery.id)),
                correct(CategoryCorrection(t, made[3 * n + 1].id, food.id)),
                delete(TransactionDeletion(t, made[3 * n + 2].id)),
                move(CategoryChanges(t, bakery.id, parent_id=(home.id, food.id, home.id)[n])),
                add(NewCategory(t, f"New {n}", "expense", bakery.id)),
                remove(CategoryDeletion(t, leaves[n].id)),
            ]
        results = await asyncio.gather(*units, return_exceptions=True)
        return [r if isinstance(r, BaseException) else None for r in results]

    outcomes = run(go())
    assert outcomes == [None] * len(outcomes), [repr(o) for o in outcomes if o is not None]
