"""Exchanges between accounts of two currencies under concurrency, on PostgreSQL: balances stay
exact per currency, the ledger sums to zero per currency, and global rates are the operator's."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from decimal import Decimal

import pytest
from pg_support import tenant_rows

from valorize_adapters.postgres import PostgresBackend
from valorize_core.model.errors import DomainError, NotFound
from valorize_core.model.ledger import Ledger
from valorize_core.model.listing import TransactionFilter
from valorize_core.model.money import Money, currency
from valorize_core.model.rates import Rate
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.create_account import NewAccount
from valorize_core.use_cases.actions.create_transfer import NewTransfer
from valorize_core.use_cases.actions.delete_transaction import TransactionDeletion
from valorize_core.use_cases.actions.signup import SignupRequest
from valorize_core.use_cases.queries.verify import audit_books

EXCHANGES = 40


async def _exchange_concurrently(database_url: str) -> None:
    backend = await PostgresBackend.open(database_url, run_migrations=False, min_size=1, max_size=8)
    try:
        vz = backend.app
        tenant = (await vz.signup(SignupRequest("FX", f"{uuid.uuid4().hex}@example.com", "F"))).tenant.id
        brl = await vz.create_account(NewAccount(tenant, "Conta", "checking", "BRL", "100000.00"))
        usd = await vz.create_account(NewAccount(tenant, "Wise", "checking", "USD", "20000.00"))
        day = date(2026, 12, 4)

        async def one(i: int) -> object:
            if i % 2:  # BRL → USD by amounts; USD → BRL by rate
                command = NewTransfer(tenant, brl.id, usd.id, f"{50 + i}.25", day, "FX", to_amount=f"{9 + i}.10")
            else:
                command = NewTransfer(tenant, usd.id, brl.id, f"{10 + i}.33", day, "FX", rate="5.8252")
            return await vz.create_transfer(command)

        transfers = await asyncio.gather(*(one(i) for i in range(EXCHANGES)))
        # delete some of them concurrently with more exchanges (both legs go together)
        doomed = [t.outflow.id for t in transfers[:10]]  # type: ignore[attr-defined]
        results = await asyncio.gather(
            *(vz.delete_transaction(TransactionDeletion(tenant, tx)) for tx in doomed),
            *(one(i) for i in range(EXCHANGES, EXCHANGES + 10)),
            return_exceptions=True,
        )
        assert not [r for r in results if isinstance(r, (DomainError, Exception))], results

        async with backend.ports.uow(tenant) as uow:
            accounts, txs = await uow.accounts.list(), await uow.transactions.all(TransactionFilter())
        assert len(txs) == 2 * (EXCHANGES + 10 - 10)
        ledger = Ledger(accounts, txs)
        assert all(total == 0 for total in ledger.trial_balance().values())
        for account in accounts:
            moved = sum(t.amount.minor for t in txs if t.account_id == account.id)
            assert account.balance == Money(account.opening_balance.minor + moved, account.currency)
            assert account.balance == ledger.account_balance(account.id)
        position = ledger.fx_position()
        assert position[currency("BRL").code].minor == -sum(t.amount.minor for t in txs if t.account_id == brl.id)
        assert audit_books(tenant, accounts, txs) == []
    finally:
        await backend.close()


@pytest.mark.slow
def test_concurrent_exchanges_keep_every_currency_balanced(database_url: str) -> None:
    run(_exchange_concurrently(database_url))


def test_a_tenant_reads_global_rates_but_cannot_write_them(pg_backend: PostgresBackend) -> None:
    vz = pg_backend.app
    tenant = run(vz.signup(SignupRequest("R", f"{uuid.uuid4().hex}@example.com", "R"))).tenant.id
    day = date(1800, 1, 1)
    shared = Rate(currency("EUR"), currency("CHF"), day, Decimal("0.93"), "ecb", shared=True)

    async def put() -> None:
        async with pg_backend.ports.uow(tenant) as uow:
            await uow.rates.put([shared])
            await uow.commit()

    run(put())
    rows = run(tenant_rows(pg_backend, tenant, "SELECT rate FROM exchange_rates WHERE rate_date = %s", (day,)))
    assert [r["rate"] for r in rows] == [Decimal("0.93")]
    # without the rates scope, a tenant's session can neither change nor add a global rate
    changed = run(tenant_rows(pg_backend, tenant, "UPDATE exchange_rates SET rate = 2 WHERE rate_date = %s"
                              " RETURNING rate", (day,)))  # fmt: skip
    assert changed == []
    deleted = run(
        tenant_rows(pg_backend, tenant, "DELETE FROM exchange_rates WHERE rate_date = %s RETURNING 1", (day,))
    )
    assert deleted == []
    with pytest.raises(NotFound, match="not visible"):  # the adapter's name for an RLS refusal
        run(tenant_rows(pg_backend, tenant, "INSERT INTO exchange_rates (base, quote, rate_date, rate, source)"
                        " VALUES ('EUR', 'CHF', %s, 5, 'x') RETURNING 1", (day,)))  # fmt: skip
