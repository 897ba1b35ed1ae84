from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from world import World, run

from valorize_core import BudgetInput, NewRule, NewTransaction
from valorize_core.model.errors import DomainError, Unavailable, ValidationError
from valorize_core.model.events import (
    BudgetThresholdCrossed,
    JobCompleted,
    JobRequested,
    NotificationCreated,
    ReportReady,
)
from valorize_core.model.jobs import Job
from valorize_core.model.rules import Condition, ConditionGroup, Field, Match, Operator, SetCategory
from valorize_core.ports.task_queue import Task
from valorize_core.runtime.relay import follow_up_tasks
from valorize_core.runtime.tasks import TaskOutcome, TaskRunner, task_id_for
from valorize_core.use_cases.actions.delete_rule import RuleDeletion
from valorize_core.use_cases.actions.request_job import JobRequest


def task(w: World, name: str, **payload: Any) -> Task:
    return Task(uuid.uuid4(), name, w.tenant, payload)


def test_a_redelivered_task_has_no_second_effect(world: World) -> None:
    run(world.vz.set_budget(BudgetInput(world.tenant, world.food, "10.00", "BRL", starts_on=date(2026, 3, 1))))
    run(world.vz.create_transaction(NewTransaction(world.tenant, world.checking, date(2026, 3, 2), "X", "-9.00",
                                                    category_id=world.food)))  # fmt: skip
    runner = TaskRunner(world.vz)
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
    runner = TaskRunner(world.vz)
    job = Task(task_id_for("apply_rules", world.tenant, "all"), "apply_rules", world.tenant, {})
    assert run(runner.run(job)).outcome is TaskOutcome.DONE
    assert run(runner.run(job)).outcome is TaskOutcome.DUPLICATE
    from valorize_core.use_cases.queries.get_transaction import TransactionLookup

    assert run(world.vz.get_transaction(TransactionLookup(world.tenant, tx.id))).category_id == world.home


def job_task(w: World, job_kind: str, **params: Any) -> tuple[Job, Task]:
    """A job as the API requests it, and the task the relay derives from its event."""
    job = run(w.vz.request_job(JobRequest(w.tenant, job_kind, params)))
    requested = [e for e in w.backend.store.outbox if isinstance(e, JobRequested) and e.job_id == str(job.id)]
    (follow_up,) = follow_up_tasks(requested[0])
    return job, follow_up


def stored_job(w: World, job: Job) -> Job:
    async def get() -> Job | None:
        async with w.vz.ports.uow(w.tenant) as uow:
            return await uow.jobs.get(job.id)

    found = run(get())
    assert found is not None
    return found


def test_a_report_job_stores_its_rows_and_announces_itself(world: World) -> None:
    run(world.vz.create_transaction(NewTransaction(world.tenant, world.checking, date(2026, 2, 2), "X", "-9.00")))
    job, follow_up = job_task(world, "generate_report", kind="cash_flow", start="2026-01-01", end="2026-03-31")
    assert (job.status, follow_up.name) == ("pending", "generate_report")
    assert run(TaskRunner(world.vz).run(follow_up)).outcome is TaskOutcome.DONE
    done = stored_job(world, job)
    assert done.status == "completed"
    assert done.result is not None
    (february,) = [row for row in done.result["rows"] if row["month"] == "2026-02-01"]
    assert february == {"month": "2026-02-01", "inflow": {"amount": "0.00", "currency": "BRL"},
                        "outflow": {"amount": "9.00", "currency": "BRL"},
                        "net": {"amount": "-9.00", "currency": "BRL"}}  # fmt: skip
    ready = [e for e in world.backend.store.outbox if isinstance(e, ReportReady)]
    assert [(e.report_id, e.kind) for e in ready] == [(str(job.id), "cash_flow")]
    completed = [e for e in world.backend.store.outbox if isinstance(e, JobCompleted)]
    assert [(e.job_id, e.status) for e in completed] == [(str(job.id), "completed")]


def test_a_rule_job_stores_its_counts_and_a_vanished_rule_fails_it(world: World) -> None:
    run(world.vz.create_transaction(NewTransaction(world.tenant, world.checking, date(2026, 3, 2), "UBER", "-5.00")))
    group = ConditionGroup(Match.ALL, (Condition(Field.DESCRIPTION, Operator.CONTAINS, "uber"),))
    rule = run(world.vz.create_rule(NewRule(world.tenant, "uber", group, (SetCategory(world.home),))))
    job, follow_up = job_task(world, "apply_rules", rule_ids=[str(rule.id)])
    runner = TaskRunner(world.vz)
    assert run(runner.run(follow_up)).outcome is TaskOutcome.DONE
    assert stored_job(world, job).result == {"examined": 1, "changed": 1}
    doomed, doomed_task = job_task(world, "apply_rules", rule_ids=[str(rule.id)])
    run(world.vz.delete_rule(RuleDeletion(world.tenant, rule.id)))
    result = run(runner.run(doomed_task))
    assert result.outcome is TaskOutcome.REJECTED
    failed = stored_job(world, doomed)
    assert (failed.status, failed.error) == ("failed", result.detail)
    assert run(runner.run(doomed_task)).outcome is TaskOutcome.DUPLICATE


def test_bad_job_requests_are_refused_at_once_and_store_nothing(world: World) -> None:
    before = world.snapshot()
    for kind, params in (
        ("mine_bitcoin", {}),
        ("apply_rules", {"rule_ids": [str(uuid.uuid4())]}),
        ("apply_rules", {"rule_ids": "all"}),
        ("apply_rules", {"include_manual": "yes"}),
        ("generate_report", {"kind": "astrology", "start": "2026-01-01", "end": "2026-01-02"}),
        ("generate_report", {"kind": "cash_flow", "start": "2026-02-01", "end": "2026-01-01"}),
        ("generate_report", {"kind": "cash_flow", "start": "soon"}),
    ):
        with pytest.raises(DomainError):
            run(world.vz.request_job(JobRequest(world.tenant, kind, params)))
    assert world.snapshot() == before


def test_notifications_are_stored_once_per_event_and_announced(world: World) -> None:
    run(world.vz.set_budget(BudgetInput(world.tenant, world.food, "10.00", "BRL", starts_on=date(2026, 3, 1))))
    run(world.vz.create_transaction(NewTransaction(world.tenant, world.checking, date(2026, 3, 2), "X", "-12.00",
                                                    category_id=world.food)))  # fmt: skip
    runner = TaskRunner(world.vz)
    assert run(runner.run(task(world, "evaluate_budgets", day="2026-03-10"))).outcome is TaskOutcome.DONE
    crossed = [e for e in world.backend.store.outbox if isinstance(e, BudgetThresholdCrossed)]
    notify = [t for e in crossed for t in follow_up_tasks(e) if t.name == "notify"]
    assert len(notify) == len(crossed) == 2  # 80 % and 100 %
    for t in [*notify, replace(notify[0], id=uuid.uuid4())]:  # the last: the same event, a second task
        assert run(runner.run(t)).outcome is TaskOutcome.DONE

    async def inbox() -> list[Any]:
        async with world.vz.ports.uow(world.tenant) as uow:
            return await uow.notifications.list(10)

    notes = run(inbox())
    assert sorted(n.title for n in notes) == ["Budget 100% used", "Budget 80% used"]
    assert "12.00 BRL of 10.00 BRL spent; 2.00 BRL over budget" in next(n.body for n in notes if "100" in n.title)
    created = [e for e in world.backend.store.outbox if isinstance(e, NotificationCreated)]
    assert sorted(e.notification_id for e in created) == sorted(str(n.id) for n in notes)


def test_bad_tasks_are_rejected_with_a_reason_and_change_nothing(world: World) -> None:
    runner = TaskRunner(world.vz)
    before = world.snapshot()
    for bad in (
        task(world, "no_such_task"),
        task(world, "evaluate_budgets", day="yesterday"),
        task(world, "generate_report", job_id=str(uuid.uuid4())),
        task(world, "notify", event={"name": "transaction.created"}),
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
    runner = TaskRunner(world.vz)
    job = task(world, "evaluate_budgets", day="2026-03-10")  # no budgets: nothing to commit
    assert run(runner.run(job)).outcome is TaskOutcome.DONE
    assert run(runner.run(job)).outcome is TaskOutcome.DUPLICATE


def test_what_a_task_starts_and_commits_after_its_run_is_not_marked_as_that_task(world: World) -> None:
    """An asyncio task started by a handler inherits the run's context (and so its commit
    hook); a unit it commits once the run is over is its own, and is not refused as a
    redelivery of the task."""
    later: list[asyncio.Task[None]] = []
    release = asyncio.Event()

    async def write_later(vz: Any, t: Task) -> None:
        await release.wait()
        async with vz.ports.uow(t.tenant_id) as uow:
            uow.record(vz.ports.event(NotificationCreated, t.tenant_id, notification_id="n", kind="k", title="t",
                                      body="b"))  # fmt: skip
            await uow.commit()

    async def starts_a_write(vz: Any, t: Task) -> None:
        later.append(asyncio.get_running_loop().create_task(write_later(vz, t)))

    runner = TaskRunner(world.vz, {"starts_a_write": starts_a_write})

    async def go() -> TaskOutcome:
        outcome = (await runner.run(task(world, "starts_a_write"))).outcome
        release.set()
        await later[0]  # raised "already processed" when it inherited the run's mark
        return outcome

    assert run(go()) is TaskOutcome.DONE


def test_an_unavailable_store_asks_for_a_retry_instead_of_rejecting(world: World) -> None:
    async def down(vz: Any, t: Task) -> None:
        raise Unavailable("the database does not answer")

    async def invalid(vz: Any, t: Task) -> None:
        raise ValidationError("bad payload")

    runner = TaskRunner(world.vz, {"down": down, "invalid": invalid})
    with pytest.raises(Unavailable):  # the worker answers 503: Cloud Tasks delivers it again
        run(runner.run(task(world, "down")))
    assert run(runner.run(task(world, "invalid"))).outcome is TaskOutcome.REJECTED
