"""With the local queue, a unit writes its events' follow-up tasks in the commit that stores the
events: both or neither, and the relay, told so, publishes without enqueuing them again."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from pg_support import tenant_rows

from valorize_adapters.memory import InMemoryTaskQueue
from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.outbox import PgOutbox
from valorize_core.model.events import DomainEvent, TransactionCreated
from valorize_core.model.webhooks import WebhookEndpoint
from valorize_core.runtime.relay import OutboxRelay, follow_ups
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.signup import Signup, SignupRequest


class Recorder:
    def __init__(self) -> None:
        self.published: list[DomainEvent] = []

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        self.published.extend(events)


def _event(backend: PostgresBackend, tenant: uuid.UUID) -> Any:
    return backend.ports.event(
        TransactionCreated, tenant, transaction_id=str(uuid.uuid4()), account_id=str(uuid.uuid4()),
        amount_minor=-100, currency="BRL", booked_on="2026-03-01", category_id=None, description="x",
    )  # fmt: skip


@pytest.mark.parametrize("commit", [True, False])
def test_follow_up_tasks_commit_with_their_events_or_not_at_all(pg_backend: PostgresBackend, commit: bool) -> None:
    factory = pg_backend.ports.uow.writing_tasks(follow_ups)  # type: ignore[attr-defined]
    email = f"{uuid.uuid4().hex}@example.com"
    tenant = run(Signup(pg_backend.ports)(SignupRequest("Casa", email, "Ana"))).tenant.id
    event = _event(pg_backend, tenant)
    hook = WebhookEndpoint(
        uuid.uuid4(), tenant, "https://h.example.com", ("*",), "whsec_x", pg_backend.ports.clock.now()
    )

    async def unit() -> None:
        async with factory(tenant) as uow:
            await uow.webhooks.add_endpoint(hook)  # someone to fan the event out to
            uow.record(event)
            if commit:
                await uow.commit()

    run(unit())
    expected = {t.id for t in follow_ups([event]) if t.name == "fan_out_webhooks"}
    assert expected  # a created transaction fans out to the tenant's endpoint
    tasks = run(tenant_rows(pg_backend, tenant, "SELECT id FROM task_queue WHERE tenant_id = %s", (tenant,)))
    outbox = run(tenant_rows(pg_backend, tenant, "SELECT id FROM outbox WHERE id = %s", (event.event_id,)))
    assert {r["id"] for r in tasks} == (expected if commit else set())
    assert len(outbox) == (1 if commit else 0)


def test_a_relay_told_the_tasks_committed_publishes_without_enqueuing(pg_backend: PostgresBackend) -> None:
    queue, bus = InMemoryTaskQueue(), Recorder()
    relay = OutboxRelay(PgOutbox(pg_backend.pool), bus, queue, pg_backend.ports.clock, tasks_committed=True)
    event = _event(pg_backend, uuid.uuid4())
    run(relay.relay([event]))
    assert [e.event_id for e in bus.published] == [event.event_id]
    assert queue.take() is None
