"""The outbox relay on PostgreSQL: what a failed publish leaves behind, the sweeper publishes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from pg_support import tenant_rows

from valorize_adapters.memory import InMemoryEventBus, InMemoryTaskQueue
from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.outbox import PgOutbox
from valorize_core import NewAccount, NewTransaction, Valorize
from valorize_core.model.events import NotificationCreated
from valorize_core.ports.unit_of_work import CommitHooks
from valorize_core.runtime.relay import OutboxRelay
from valorize_core.testing.contracts import PortsContract
from valorize_core.use_cases.correlation import correlated


class Broken(InMemoryEventBus):
    async def publish(self, events: Any) -> None:
        raise ConnectionError("no backplane")


class TestRelayOnPostgres(PortsContract):
    def test_unpublished_rows_are_swept_and_marked(self, pg_backend: PostgresBackend) -> None:
        t = self.new_tenant(pg_backend.ports)
        outbox = PgOutbox(pg_backend.pool)
        broken = OutboxRelay(outbox, Broken(), InMemoryTaskQueue(), pg_backend.ports.clock)
        ports = replace(
            pg_backend.ports, uow=pg_backend.ports.uow.with_hooks(CommitHooks(after=(broken.after_commit,)))
        )
        vz = Valorize(ports)
        account = self.run(vz.create_account(NewAccount(t, "A", "cash", "BRL")))
        with correlated("req-sweep-1"):  # the request that wrote it
            tx = self.run(vz.create_transaction(NewTransaction(t, account.id, date(2026, 3, 5), "PADARIA", "-4.00")))
        assert broken.failures == 1

        bus, queue = InMemoryEventBus(), InMemoryTaskQueue()
        healthy = OutboxRelay(outbox, bus, queue, pg_backend.ports.clock)

        async def sweep() -> int:
            total = 0
            while swept := await healthy.sweep(grace=timedelta(seconds=-1)):
                total += swept
            return total

        assert self.run(sweep()) >= 2
        mine = [e for e in bus.published if e.tenant_id == t]
        assert {e.name for e in mine} == {"transaction.created", "account.balance_changed"}
        assert any(e.payload().get("transaction_id") == str(tx.id) for e in mine)
        assert any(task.tenant_id == t and task.name == "evaluate_budgets" for task in queue.pending())
        # The request id survives the outbox: swept events and their tasks still name it.
        assert {e.correlation_id for e in mine} == {"req-sweep-1"}
        assert {task.correlation_id for task in queue.pending() if task.tenant_id == t} == {"req-sweep-1"}

        unpublished = self.run(
            tenant_rows(
                pg_backend, t, "SELECT count(*) AS n FROM outbox WHERE tenant_id = %s AND published_at IS NULL", (t,)
            )
        )
        assert int(unpublished[0]["n"]) == 0

    def test_a_units_events_are_stored_in_recording_order_with_everything_they_carry(
        self, pg_backend: PostgresBackend
    ) -> None:
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        with correlated("req-many-events"):
            events = [
                ports.event(NotificationCreated, t, notification_id=str(i), kind="k", title=f"título {i}", body="é")
                for i in range(7)
            ]
        events.append(ports.event(NotificationCreated, t, notification_id="x", kind="k", title="no request", body=""))

        async def write_and_read() -> list[dict[str, Any]]:
            async with ports.uow(t) as uow:
                for event in events:
                    uow.record(event)
                await uow.commit()
            return await tenant_rows(
                pg_backend,
                t,
                "SELECT id, name, occurred_at, payload, correlation_id FROM outbox WHERE tenant_id = %s ORDER BY seq",
                (t,),
            )

        rows = self.run(write_and_read())
        assert [r["id"] for r in rows] == [e.event_id for e in events]
        assert [r["name"] for r in rows] == ["notification.created"] * 8
        assert [r["payload"] for r in rows] == [e.to_record()["payload"] for e in events]
        assert [r["occurred_at"] for r in rows] == [e.occurred_at for e in events]
        assert [r["correlation_id"] for r in rows] == ["req-many-events"] * 7 + [None]
