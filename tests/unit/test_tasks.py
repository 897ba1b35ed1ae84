from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any

from world import World, run

from valorize_core import BudgetInput, NewRule, NewTransaction
from valorize_core.events import BudgetThresholdCrossed, ReportReady
from valorize_core.ports.task_queue import Task
from valorize_core.rules import Condition, ConditionGroup, Field, Match, Operator, SetCategory
from valorize_core.tasks import TaskOutcome, TaskRunner, task_id_for


def task(w: World, name: str, **payload: Any) -> Task:
    return Task(uuid.uuid4(), name, w.tenant, payload)


def test_a_redelivered_task_has_no_second_effect(world: World) -> None:
    run(world.vz.set_budget(BudgetInput(world.tenant, world.food, "10.00", "BRL", starts_on=date(2026, 3, 1))))
    run(world.vz.create_transaction(NewTransaction(world.tenant, world.checking, date(2026, 3, 2), "X", "-9.00",
                                                    category_id=world.food)))  # fmt: skip
    runner = TaskRunner(world.vz.ports)
    job = task(world, "evaluate_budgets", day="2026-03-10")
    assert run(runner.run(job)).outcome is TaskOutcome.DONE
    events = [e for e in world.backend.store.outbox if isinstance(e, BudgetThresholdCrossed)]

    # Delivered again, concurrently even: the id is already recorded with the effects.
    async def twice() -> list[Any]:
        return list(await asyncio.gather(runner.run(job), runner.run(job)))

    again = run(twice())
    assert {r.outcome for r in again} == {TaskOutcome.DUPLICATE}
    assert [e for e in world.backend.store.outbox if isinstance(e, BudgetThresholdCrossed)] == events
    assert [e.threshold for e in events] == [80]


def test_retroactive_rules_as_a_task(world: World) -> None:
    tx = run(
        world.vz.create_transaction(NewTransaction(world.tenant, world.checking, date(2026, 3, 2), "UBER", "-5.00"))
    )
    group = ConditionGroup(Match.ALL, (Condition(Field.DESCRIPTION, Operator.CONTAINS, "uber"),))
    run(world.vz.create_rule(NewRule(world.tenant, "uber", group, (SetCategory(world.home),))))
    runner = TaskRunner(world.vz.ports)
    job = Task(task_id_for("apply_rules", world.tenant, "all"), "apply_rules", world.tenant, {})
    assert run(runner.run(job)).outcome is TaskOutcome.DONE
    assert run(runner.run(job)).outcome is TaskOutcome.DUPLICATE
    from valorize_core.queries.get_transaction import TransactionLookup

    assert run(world.vz.get_transaction(TransactionLookup(world.tenant, tx.id))).category_id == world.home


def test_reports_announce_themselves(world: World) -> None:
    report_id = uuid.uuid4()
    job = task(
        world, "generate_report", kind="cash_flow", start="2026-01-01", end="2026-03-31", report_id=str(report_id)
    )
    assert run(TaskRunner(world.vz.ports).run(job)).outcome is TaskOutcome.DONE
    ready = [e for e in world.backend.store.outbox if isinstance(e, ReportReady)]
    assert [(e.report_id, e.kind) for e in ready] == [(str(report_id), "cash_flow")]


def test_bad_tasks_are_rejected_with_a_reason_and_change_nothing(world: World) -> None:
    runner = TaskRunner(world.vz.ports)
    before = world.snapshot()
    for bad in (
        task(world, "no_such_task"),
        task(world, "evaluate_budgets", day="yesterday"),
        task(
            world,
            "generate_report",
            kind="astrology",
            start="2026-01-01",
            end="2026-01-02",
            report_id=str(uuid.uuid4()),
        ),
        task(world, "index_example", transaction_id=str(uuid.uuid4())),
        task(world, "apply_rules", rule_ids=["not-an-id"]),
    ):
        result = run(runner.run(bad))
        assert result.outcome is TaskOutcome.REJECTED, bad
        assert result.detail
    assert world.snapshot() == before


def test_task_ids_are_deterministic_per_tenant_and_key() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    assert task_id_for("x", a, "k") == task_id_for("x", a, "k")
    assert task_id_for("x", a, "k") != task_id_for("x", b, "k")
    assert task_id_for("x", a, "k") != task_id_for("y", a, "k")


def test_a_task_with_nothing_to_do_is_still_recorded_once(world: World) -> None:
    runner = TaskRunner(world.vz.ports)
    job = task(world, "evaluate_budgets", day="2026-03-10")  # no budgets: nothing to commit
    assert run(runner.run(job)).outcome is TaskOutcome.DONE
    assert run(runner.run(job)).outcome is TaskOutcome.DUPLICATE
