"""The outbox relay on PostgreSQL: what a failed publish leaves behind, the sweeper publishes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from valorize_adapters.memory import InMemoryEventBus, InMemoryTaskQueue
from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.outbox import PgOutbox
from valorize_adapters.postgres.session import Session
from valorize_core import NewAccount, NewTransaction, Valorize
from valorize_core.correlation import correlated
from valorize_core.relay import OutboxRelay
from valorize_core.testing.contracts import PortsContract
from valorize_core.uow_hooks import HookedUnitOfWorkFactory


class Broken(InMemoryEventBus):
    async def publish(self, events: Any) -> None:
        raise ConnectionError("no backplane")


class TestRelayOnPostgres(PortsContract):
    def test_unpublished_rows_are_swept_and_marked(self, pg_backend: PostgresBackend) -> None:
        t = self.new_tenant(pg_backend.ports)
        outbox = PgOutbox(pg_backend.pool)
        broken = OutboxRelay(outbox, Broken(), InMemoryTaskQueue(), pg_backend.ports.clock)
        ports = replace(
            pg_backend.ports, uow=HookedUnitOfWorkFactory(pg_backend.ports.uow, after_commit=broken.after_commit)
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

        async def unpublished_of_tenant() -> int:
            async with pg_backend.pool.connection() as conn:
                s = Session(conn, t)
                rows = await s.fetch(
                    "SELECT count(*) AS n FROM outbox WHERE tenant_id = %s AND published_at IS NULL", (t,)
                )
                await s.rollback()
                return int(rows[0]["n"])

        assert self.run(unpublished_of_tenant()) == 0
