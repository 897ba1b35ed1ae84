"""Transaction writes and category tree changes at once, on PostgreSQL: the writes hold the
tenant's tree shared and the changes exclusively (docs/caching.md, "A category moved during a
write"), taken before any row lock, so none of them deadlocks — run once each, without the
actions' retries, every one succeeds. The writes include those that write many rows: an
import, rules applied retroactively, a batch categorization and a schedule posting."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from valorize_adapters.postgres import PostgresBackend
from valorize_core.model.rules import Condition, ConditionGroup, SetCategory
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.apply_rules import RetroactiveApply
from valorize_core.use_cases.actions.categorize_batch import BatchCategorization
from valorize_core.use_cases.actions.correct_category import CategoryCorrection
from valorize_core.use_cases.actions.create_account import NewAccount
from valorize_core.use_cases.actions.create_category import NewCategory
from valorize_core.use_cases.actions.create_rule import NewRule
from valorize_core.use_cases.actions.create_schedule import NewSchedule
from valorize_core.use_cases.actions.create_transaction import NewTransaction
from valorize_core.use_cases.actions.delete_category import CategoryDeletion
from valorize_core.use_cases.actions.delete_transaction import TransactionDeletion
from valorize_core.use_cases.actions.import_statement import ImportRequest, ImportRun
from valorize_core.use_cases.actions.post_schedules import SchedulePosting
from valorize_core.use_cases.actions.signup import SignupRequest
from valorize_core.use_cases.actions.update_category import CategoryChanges
from valorize_core.use_cases.actions.update_transaction import TransactionChanges


def _once(action: Any) -> Callable[[Any], Awaitable[Any]]:
    """The action's unit run once: a Contention (a deadlock PostgreSQL broke) is not retried."""
    call = type(action).__call__
    single = getattr(call, "__wrapped__", call)
    return lambda command: single(action, command)


def statement(n: int) -> bytes:
    """Two new rows (one a rule's) of a CSV statement in April."""
    return f"data;desc;valor\n0{n + 1}/04/2026;ROLL IMPORT {n};-4,00\n0{n + 1}/04/2026;FEIRA {n};-6,00\n".encode()


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
        ] + [await app.create_transaction(NewTransaction(t, account.id, date(2026, 3, 20), "ROLL X", "-3.00"))]
        # the rules rewrite the rows in the leaves a deletion clears: both lock them
        condition = ConditionGroup(
            "any", (Condition("description", "contains", "roll"), Condition("description", "contains", "bread"))
        )
        await app.create_rule(NewRule(t, "rolls", condition, (SetCategory(home.id),)))
        await app.create_schedule(NewSchedule(t, account.id, "Rent", "-5.00", "FREQ=WEEKLY", date(2026, 3, 1),
                                              category_id=food.id))  # fmt: skip
        mapping = {"date_column": "data", "description_column": "desc", "amount_column": "valor",
                   "date_format": "%d/%m/%Y", "decimal_style": "comma", "delimiter": ";"}  # fmt: skip
        imports = [
            await app.request_import(ImportRequest(t, account.id, "x.csv", statement(n), mapping)) for n in range(3)
        ]
        create, update = _once(app.create_transaction), _once(app.update_transaction)
        correct, delete = _once(app.correct_category), _once(app.delete_transaction)
        move, add, remove = _once(app.update_category), _once(app.create_category), _once(app.delete_category)
        apply, batch = _once(app.apply_rules), _once(app.categorize_batch)
        post, load = _once(app.post_schedules), _once(app.run_import)
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
                apply(RetroactiveApply(t, include_manual=bool(n % 2))),
                batch(BatchCategorization(t)),
                post(SchedulePosting(t, date(2026, 3, 10 + 7 * n))),
                load(ImportRun(t, imports[n].id)),
            ]
        results = await asyncio.gather(*units, return_exceptions=True)
        return [r if isinstance(r, BaseException) else None for r in results]

    outcomes = run(go())
    assert outcomes == [None] * len(outcomes), [repr(o) for o in outcomes if o is not None]
