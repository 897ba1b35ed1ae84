"""A balance moved on a row the unit holds (``accounts.lock``) is computed from the locked row,
and its update goes with the commit (docs/postgres.md, "Round trips"): under concurrent writes
to one account, on PostgreSQL, the balance stays exact and every event carries the balance its
own commit left — none stale, none repeated, in commit order."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

from pg_support import tenant_rows

from valorize_adapters.postgres import PostgresBackend
from valorize_core.app import Valorize
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.create_account import NewAccount
from valorize_core.use_cases.actions.create_transaction import NewTransaction
from valorize_core.use_cases.actions.create_transfer import NewTransfer
from valorize_core.use_cases.actions.signup import SignupRequest
from valorize_core.use_cases.queries.get_account import AccountLookup

DAY = date(2026, 11, 3)
WRITERS = 8


def test_concurrent_writes_to_one_account_leave_exact_balances_and_events(database_url: str) -> None:
    async def scenario() -> tuple[list[int], list[int], int, int]:
        backend = await PostgresBackend.open(database_url, run_migrations=False, max_size=4, pool_timeout=60.0)
        try:
            app = Valorize(backend.ports)
            t = (await app.signup(SignupRequest("Held", f"{uuid.uuid4().hex}@example.com", "H"))).tenant.id
            a = await app.create_account(NewAccount(t, "A", "checking", "BRL", "100.00"))
            b = await app.create_account(NewAccount(t, "B", "checking", "BRL", "0.00"))
            # Creates (the account locked with the opening reads: its move computed from the held
            # row) and transfers (each row locked by its update, its balance returned), all moving
            # A by -1.00, racing on four connections.
            writes = [
                app.create_transaction(NewTransaction(t, a.id, DAY, f"W{n}", "-1.00"))
                if n % 2
                else app.create_transfer(NewTransfer(t, a.id, b.id, "1.00", DAY))
                for n in range(WRITERS)
            ]
            await asyncio.gather(*writes)
            events = await tenant_rows(
                backend,
                t,
                "SELECT payload FROM outbox WHERE tenant_id = %s AND name = 'account.balance_changed' ORDER BY seq",
                (t,),
            )
            on: dict[str, list[int]] = {str(a.id): [], str(b.id): []}
            for row in events:
                on[row["payload"]["account_id"]].append(row["payload"]["balance_minor"])
            final_a = (await app.get_account(AccountLookup(t, a.id))).balance.minor
            final_b = (await app.get_account(AccountLookup(t, b.id))).balance.minor
            return on[str(a.id)], on[str(b.id)], final_a, final_b
        finally:
            await backend.close()

    on_a, on_b, final_a, final_b = run(scenario())
    assert final_a == 10_000 - 100 * WRITERS
    assert final_b == 100 * (WRITERS // 2)
    # One event per move, each with the balance its commit left, in commit (outbox) order.
    assert on_a == [10_000 - 100 * n for n in range(1, WRITERS + 1)]
    assert on_b == [100 * n for n in range(1, WRITERS // 2 + 1)]
