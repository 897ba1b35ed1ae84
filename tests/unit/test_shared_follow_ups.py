"""One commit's events share their follow-ups: ids from the events served, the fan-out's payload
carrying them in order (and the single-event payload of tasks queued before still running), and
a regrouped duplicate (a sweep) adding nothing twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from valorize_adapters.memory import InMemoryBackend
from valorize_core import SignupRequest, Valorize
from valorize_core.model.events import AccountBalanceChanged, DomainEvent, ImportCompleted, TransactionCreated
from valorize_core.model.follow_ups import Need
from valorize_core.model.webhooks import WebhookEndpoint
from valorize_core.ports.task_queue import Task
from valorize_core.runtime.relay import FAN_OUT_SLICE, follow_up_tasks, follow_ups
from valorize_core.runtime.tasks import TaskOutcome, TaskRunner
from valorize_core.testing.loop import run


def _created(vz: Valorize, tenant: uuid.UUID, day: str, correlation: str | None = None) -> DomainEvent:
    event = vz.ports.event(
        TransactionCreated, tenant, transaction_id=str(uuid.uuid4()), account_id=str(uuid.uuid4()),
        amount_minor=-100, currency="BRL", booked_on=day, category_id=None, description="x",
    )  # fmt: skip
    if correlation is None:
        return event
    from dataclasses import replace

    return replace(event, correlation_id=correlation)


def test_a_commits_events_share_one_evaluation_per_day_and_one_fan_out() -> None:
    vz, tenant = Valorize(InMemoryBackend().ports), uuid.uuid4()
    events = [
        _created(vz, tenant, "2026-03-01"),
        _created(vz, tenant, "2026-03-02"),
        _created(vz, tenant, "2026-03-01"),
    ]
    balance = vz.ports.event(
        AccountBalanceChanged, tenant, account_id=str(uuid.uuid4()), balance_minor=1, currency="BRL"
    )
    tasks = follow_ups([*events, balance])
    assert [(t.name, t.payload.get("day")) for t in tasks] == [
        ("evaluate_budgets", "2026-03-01"),
        ("evaluate_budgets", "2026-03-02"),
        ("fan_out_webhooks", None),
    ]
    assert tasks[0].id == follow_ups([events[0], events[2]])[0].id  # from the events it serves, whoever else
    assert tasks[0].id != follow_up_tasks(events[0])[0].id  # a regrouping (a sweep) gives another id
    assert tasks[1].id == follow_up_tasks(events[1])[0].id  # one event: the id it always had
    assert [e["id"] for e in tasks[2].payload["events"]] == [str(e.event_id) for e in [*events, balance]]
    assert tasks[2].precondition is not None
    assert tasks[2].precondition.need is Need.WEBHOOK_ENDPOINT
    assert tasks[2].precondition.event_names == ("transaction.created", "account.balance_changed")
    assert [t.id for t in follow_ups([*events, balance])] == [t.id for t in tasks]  # deterministic


def test_events_of_other_requests_or_a_notice_keep_their_own_tasks() -> None:
    vz, tenant = Valorize(InMemoryBackend().ports), uuid.uuid4()
    a, b = _created(vz, tenant, "2026-03-01", "req-a"), _created(vz, tenant, "2026-03-01", "req-b")
    done = vz.ports.event(
        ImportCompleted, tenant, import_id=str(uuid.uuid4()), status="done", imported=1, duplicates=0, errors=0
    )
    tasks = follow_ups([a, b, done])
    assert sorted(t.name for t in tasks) == sorted(
        ["evaluate_budgets", "evaluate_budgets", "fan_out_webhooks", "fan_out_webhooks", "fan_out_webhooks", "notify"]
    )
    assert {t.correlation_id for t in tasks if t.name == "evaluate_budgets"} == {"req-a", "req-b"}


def test_a_big_commit_fans_out_in_slices() -> None:
    vz, tenant = Valorize(InMemoryBackend().ports), uuid.uuid4()
    events = [_created(vz, tenant, "2026-03-01") for _ in range(FAN_OUT_SLICE * 2 + 1)]
    fan_outs = [t for t in follow_ups(events) if t.name == "fan_out_webhooks"]
    assert [len(t.payload["events"]) for t in fan_outs] == [FAN_OUT_SLICE, FAN_OUT_SLICE, 1]
    assert [e["id"] for t in fan_outs for e in t.payload["events"]] == [str(e.event_id) for e in events]


def _fan_out(tenant: uuid.UUID, payload: dict[str, Any]) -> Task:
    return Task(uuid.uuid4(), "fan_out_webhooks", tenant, payload)


def test_the_fan_out_runs_old_payloads_and_adds_a_regrouped_duplicate_once() -> None:
    backend = InMemoryBackend()
    vz = backend.app

    async def go() -> list[tuple[str, str]]:
        tenant = (await vz.signup(SignupRequest("T", "t@example.com", "T"))).tenant.id
        endpoint = WebhookEndpoint(uuid.uuid4(), tenant, "https://h.example.com", ("transaction.created",), "whsec_x",
                                   datetime(2026, 3, 1, tzinfo=UTC))  # fmt: skip
        async with vz.ports.uow(tenant) as uow:
            await uow.webhooks.add_endpoint(endpoint)
            await uow.commit()
        first, second = _created(vz, tenant, "2026-03-01"), _created(vz, tenant, "2026-03-02")
        runner = TaskRunner(vz)
        # A task queued before the events were shared: one event, as ``event``.
        old = await runner.run(_fan_out(tenant, {"event": first.to_record()}))
        # A sweep regrouping the commit: both events under another id; the first is not sent twice.
        both = await runner.run(_fan_out(tenant, {"events": [first.to_record(), second.to_record()]}))
        assert (old.outcome, both.outcome) == (TaskOutcome.DONE, TaskOutcome.DONE)
        bad = await runner.run(_fan_out(tenant, {"events": []}))
        assert bad.outcome is TaskOutcome.REJECTED
        async with vz.ports.uow(tenant) as uow:
            found = await uow.webhooks.list_deliveries(endpoint.id, 10)
        return sorted((str(d.event_id), d.event_type) for d in found)

    found = run(go())
    assert len(found) == 2
    assert {name for _, name in found} == {"transaction.created"}


def test_a_fan_outs_body_stays_within_what_cloud_tasks_takes() -> None:
    """A commit's webhook events share a task, whose body carries their records: with long
    descriptions (1,000 characters; accented, each escaped as six bytes in JSON) a slice of
    events by count alone made a body Cloud Tasks refuses — the relay then failed on every
    sweep, publishing the events again each time and never fanning them out."""
    from valorize_adapters.cloudtasks.queue import MAX_BODY, task_body

    vz, tenant = Valorize(InMemoryBackend().ports), uuid.uuid4()
    long = "Padaria São João " * 58  # 986 characters
    events = [
        vz.ports.event(
            TransactionCreated, tenant, transaction_id=str(uuid.uuid4()), account_id=str(uuid.uuid4()),
            amount_minor=-100, currency="BRL", booked_on="2026-03-01", category_id=None, description=long,
        )
        for _ in range(3 * FAN_OUT_SLICE)
    ]  # fmt: skip
    fan_outs = [t for t in follow_ups(events) if t.name == "fan_out_webhooks"]
    assert max(len(task_body(t)) for t in fan_outs) <= MAX_BODY
    carried = [record["id"] for t in fan_outs for record in t.payload["events"]]
    assert carried == [str(e.event_id) for e in events]  # every event once, in order
    assert all(len(t.payload["events"]) <= FAN_OUT_SLICE for t in fan_outs)
