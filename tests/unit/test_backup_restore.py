"""Backup and restore: restore(backup(t)) == t for generated tenants, an older archive version
restores, and a bad archive or a tenant holding data is refused with nothing written."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from world import World, make_world, run

from valorize_core import NewAccount, NewCategory, NewTransaction, NewTransfer, SignupRequest
from valorize_core.model.errors import Conflict, ValidationError
from valorize_core.model.listing import TransactionFilter
from valorize_core.model.rules import Condition, ConditionGroup, Field, Operator, SetCategory
from valorize_core.use_cases.actions.correct_category import CategoryCorrection
from valorize_core.use_cases.actions.create_rule import NewRule
from valorize_core.use_cases.actions.restore_tenant import TenantRestore
from valorize_core.use_cases.queries.backup_tenant import TenantBackup

FIXTURES = Path(__file__).parent.parent / "fixtures" / "archives"
WORDS = st.sampled_from(["PADARIA REAL", "UBER TRIP", "MERCADO SAO JOAO", "NETFLIX", "SALARIO ACME", "PIX JOAO"])


async def _collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([c async for c in chunks])


def backup(world: World, tenant: UUID) -> bytes:
    return run(_collect(run(world.vz.backup_tenant(TenantBackup(tenant)))))


def fresh_tenant(world: World, name: str = "Copy") -> UUID:
    return run(world.vz.signup(SignupRequest(name, f"{name.lower()}@example.com", name))).tenant.id


def comparable(archive: bytes) -> list[Any]:
    """The archive without its header (time, the tenant's name): the tenant's data."""
    lines = [json.loads(line) for line in archive.decode().splitlines()]
    return [lines[0]["version"], *lines[1:]]


def snapshot(world: World, tenant: UUID) -> dict[str, Any]:
    """The tenant's entities through the repositories, the tenant id left out."""

    async def read() -> dict[str, Any]:
        async with world.vz.ports.uow(tenant) as uow:
            return {
                "accounts": [(a.id, a.name, a.balance, a.opening_balance) for a in await uow.accounts.list()],
                "transactions": [
                    (t.id, t.amount, t.splits, t.categorization, t.status, t.transfer_id, t.import_id)
                    for t in await uow.transactions.all(TransactionFilter())
                ],
                "rules": [(r.id, r.conditions, r.actions) for r in await uow.rules.list()],
                "categories": sorted((c.id, c.name, c.parent_id) for c in await uow.categories.list()),
                "budgets": [(b.id, b.limit, b.thresholds) for b in await uow.budgets.list()],
                "payees": await uow.payees.all(),
                "examples": {  # the neighbour stage's labeled examples (memory store)
                    key: (category, text)
                    for key, (_, category, text) in world.backend.store.data(tenant).examples.items()
                },
            }

    return run(read())


Operation = tuple[int, int, int, str, int, bool]
OPERATIONS = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 60), st.integers(-50_000, 30_000), WORDS, st.integers(-1, 3),
              st.booleans()),
    max_size=25,
)  # fmt: skip


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPERATIONS, st.integers(0, 3))
def test_restore_of_a_backup_is_the_tenant(
    operations: list[tuple[int, int, int, str, int, bool]], transfers: int
) -> None:
    world = make_world()
    vz, t = world.vz, world.tenant
    accounts = [world.checking, world.savings, world.card_usd]
    categories = [world.food, world.groceries, world.home, world.salary]
    rule = NewRule(t, "Uber", ConditionGroup("all", (Condition(Field.DESCRIPTION, Operator.CONTAINS, "UBER"),)),
                   (SetCategory(world.home),))  # fmt: skip
    run(vz.create_rule(rule))
    for account, day, minor, words, category, correct in operations:
        amount = f"{'-' if minor < 0 else ''}{abs(minor) // 100}.{abs(minor) % 100:02d}"
        booked = date(2026, 1, 1) + timedelta(days=day)
        chosen = None if category < 0 else categories[category]
        tx = run(vz.create_transaction(NewTransaction(t, accounts[account], booked, words, amount, category_id=chosen)))
        if correct and category >= 0:
            run(vz.correct_category(CategoryCorrection(t, tx.id, categories[(category + 1) % 4])))
    for i in range(transfers):
        run(vz.create_transfer(NewTransfer(t, world.checking, world.savings, f"{i + 1}.00", date(2026, 3, 1))))
    archive = backup(world, t)
    copy = fresh_tenant(world)
    summary = run(vz.restore_tenant(TenantRestore(copy, archive)))
    assert summary.version == 2
    assert comparable(backup(world, copy)) == comparable(archive)
    assert snapshot(world, copy) == snapshot(world, t)


def test_a_version_1_archive_restores() -> None:
    world = make_world()
    copy = fresh_tenant(world)
    summary = run(world.vz.restore_tenant(TenantRestore(copy, (FIXTURES / "tenant_v1.jsonl").read_bytes())))
    assert summary.version == 1
    assert summary.counts == {"category": 2, "account": 1, "rule": 1, "statement_import": 1, "transaction": 2}
    state = snapshot(world, copy)
    assert [(name, balance.minor) for _, name, balance, _ in state["accounts"]] == [("Conta", 98750)]
    (imported,) = [t for t in state["transactions"] if t[6] is not None]
    assert imported[1].minor == -1250


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda lines: lines[:-1], "end line"),
        (lambda lines: [*lines[:-1], '{"type":"end","counts":{"account":9}}'], "counts"),
        (lambda lines: [lines[0].replace('"version":2', '"version":9'), *lines[1:]], "version"),
        (lambda lines: ['{"hello":"world"}', *lines[1:]], "not a Valorize archive"),
        (
            lambda lines: [
                ln.replace('"balance":{"currency":"BRL","minor":', '"balance":{"currency":"BRL","minor":1')
                for ln in lines
            ],
            "balance",
        ),
        (lambda lines: [*lines[:2], '{"type":"account","data":{"id":"nope"}}', *lines[2:]], "line 3"),
    ],
)
def test_a_bad_archive_is_refused_and_nothing_is_written(world: World, mutate: Any, message: str) -> None:
    run(world.vz.create_transaction(NewTransaction(world.tenant, world.checking, date(2026, 1, 2), "PADARIA", "-3.00")))
    lines = backup(world, world.tenant).decode().splitlines()
    copy = fresh_tenant(world)
    before = snapshot(world, copy)
    with pytest.raises(ValidationError, match=message):
        run(world.vz.restore_tenant(TenantRestore(copy, ("\n".join(mutate(lines)) + "\n").encode())))
    assert snapshot(world, copy) == before


def test_a_tenant_holding_data_is_not_restored_over(world: World) -> None:
    archive = backup(world, world.tenant)
    other = fresh_tenant(world)
    run(world.vz.create_category(NewCategory(other, "Mine", "expense")))
    with pytest.raises(Conflict):
        run(world.vz.restore_tenant(TenantRestore(other, archive)))
    with pytest.raises(Conflict):
        run(world.vz.restore_tenant(TenantRestore(world.tenant, archive)))
    run(world.vz.create_account(NewAccount(other, "X", "cash", "BRL")))
