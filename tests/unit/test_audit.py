"""The audit behind ``valorize verify`` on the in-memory adapters: clean books pass, and each
kind of corruption (made behind the application's back) is named."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from dataclasses import replace
from datetime import date, timedelta

from valorize_adapters.memory import InMemoryBackend, ManualClock
from valorize_adapters.postgres.restore import restore
from valorize_core.model.money import Money
from valorize_core.model.transactions import Split, Transaction
from valorize_core.use_cases.actions.create_account import NewAccount
from valorize_core.use_cases.actions.create_transaction import NewTransaction
from valorize_core.use_cases.actions.create_transfer import NewTransfer
from valorize_core.use_cases.actions.signup import SignupRequest
from valorize_core.use_cases.queries.verify import Audit, VerifyTenant


def test_clean_books_pass_and_every_corruption_is_named() -> None:
    clock = ManualClock()
    backend = InMemoryBackend(clock=clock)
    vz = backend.app

    async def go() -> tuple[Audit, Audit, Audit, dict[str, uuid.UUID]]:
        t = (await vz.signup(SignupRequest("Audit", "a@example.com", "A"))).tenant.id
        other = (await vz.signup(SignupRequest("Other", "b@example.com", "B"))).tenant.id
        main = await vz.create_account(NewAccount(t, "Main", "checking", "BRL", "10.00"))
        card = await vz.create_account(NewAccount(t, "Card", "credit_card", "BRL"))
        tx = await vz.create_transaction(NewTransaction(t, main.id, date(2026, 11, 1), "PADARIA", "-1.00"))
        transfer = await vz.create_transfer(NewTransfer(t, main.id, card.id, "2.00", date(2026, 11, 2)))
        audit = VerifyTenant(backend.audit, clock, grace=timedelta(minutes=5))
        assert await audit.tenant_ids() == [t, other]
        clean = await audit(t)
        clock.advance(timedelta(minutes=6))  # nothing published the events: now they are late
        late = await audit(t)
        backend.store.published.update(e.event_id for e in backend.store.outbox)
        data = backend.store.tenants[t]
        data.accounts[main.id] = replace(data.accounts[main.id], balance=Money(999, "BRL"))
        fields = {f.name: getattr(tx, f.name) for f in dataclasses.fields(tx)}
        data.transactions[tx.id] = restore(Transaction, **{**fields, "splits": (Split(None, Money(-50, "BRL")),)})
        del data.transactions[transfer.inflow.id]
        broken = await audit(t)
        ids = {"main": main.id, "card": card.id, "tx": tx.id, "transfer": transfer.id}
        return clean, late, broken, ids

    clean, late, broken, ids = asyncio.run(go())
    assert clean.clean
    assert (clean.accounts, clean.transactions) == (2, 3)
    assert {b.invariant for b in late.breaks} == {"outbox"}
    tenant_events = {e.event_id for e in backend.store.outbox if e.tenant_id == late.tenant_id}
    assert {b.subject.split()[1] for b in late.breaks} == {str(i) for i in tenant_events}
    found = {(b.invariant, b.subject) for b in broken.breaks}
    assert found == {
        ("balance", f"account {ids['main']} (Main)"),
        ("balance", f"account {ids['card']} (Card)"),
        ("splits", f"transaction {ids['tx']}"),
        ("transfer", f"transfer {ids['transfer']}"),
        ("ledger", "currency BRL"),
    }
    by_subject = {b.subject: b for b in broken.breaks}
    main = by_subject[f"account {ids['main']} (Main)"]
    assert (main.expected, main.actual) == ("7.00 BRL (opening + transactions)", "9.99 BRL")
