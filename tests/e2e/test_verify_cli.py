"""``valorize verify`` as operators run it: a subprocess against the session's PostgreSQL.

A clean tenant passes; then the books are corrupted behind the application's back, in SQL (a
stored balance, a split, a transfer leg, an outbox row the relay never published), and each
break is reported by name with a non-zero exit code.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path
from typing import Any, LiteralString

import psycopg
import pytest

from valorize_adapters.postgres import PostgresBackend
from valorize_core.use_cases.actions.create_account import NewAccount
from valorize_core.use_cases.actions.create_category import NewCategory
from valorize_core.use_cases.actions.create_transaction import NewTransaction, SplitInput
from valorize_core.use_cases.actions.create_transfer import NewTransfer
from valorize_core.use_cases.actions.signup import SignupRequest

pytestmark = pytest.mark.slow


def verify(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VALORIZE_DATABASE_URL": database_url, "VALORIZE_RUN_MIGRATIONS": "false",
           "PYTHONWARNINGS": "ignore", "VALORIZE_LOG_JSON": "false"}  # fmt: skip
    cli = Path(sys.executable).with_name("valorize")
    return subprocess.run(
        [str(cli), "verify", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def tamper(database_url: str, statement: LiteralString, params: tuple[Any, ...]) -> None:
    """Change rows as a superuser would by hand: no row security, no triggers."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # the splits trigger stays quiet
        assert conn.execute(statement, params).rowcount == 1


def books(database_url: str) -> dict[str, Any]:
    async def build() -> dict[str, Any]:
        backend = await PostgresBackend.open(database_url, run_migrations=False, min_size=1, max_size=2)
        async with backend:
            vz = backend.app
            t = (await vz.signup(SignupRequest("Audit", f"{uuid.uuid4().hex}@example.com", "A"))).tenant.id
            main = await vz.create_account(NewAccount(t, "Main", "checking", "BRL", "100.00"))
            card = await vz.create_account(NewAccount(t, "Card", "credit_card", "BRL"))
            food = await vz.create_category(NewCategory(t, "Food", "expense"))
            home = await vz.create_category(NewCategory(t, "Home", "expense"))
            split = await vz.create_transaction(NewTransaction(
                t, main.id, date(2026, 11, 2), "MERCADO", "-30.00",
                splits=(SplitInput("-10.00", food.id), SplitInput("-20.00", home.id))))  # fmt: skip
            plain = await vz.create_transaction(NewTransaction(t, card.id, date(2026, 11, 3), "PADARIA", "-5.00"))
            transfer = await vz.create_transfer(NewTransfer(t, main.id, card.id, "25.00", date(2026, 11, 4)))
        return {"tenant": t, "main": main.id, "card": card.id, "split": split.id, "plain": plain.id,
                "transfer": transfer.id, "inflow": transfer.inflow.id}  # fmt: skip

    return asyncio.run(build())


def test_a_clean_tenant_passes_and_each_corruption_is_named(database_url: str) -> None:
    b = books(database_url)
    tenant = str(b["tenant"])
    clean = verify(database_url, "--tenant", tenant)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.strip() == "verify: clean; 1 tenant(s), 2 account(s), 4 transaction(s)"

    tamper(database_url, "UPDATE accounts SET balance_minor = balance_minor + 777 WHERE id = %s", (b["main"],))
    tamper(database_url, "UPDATE splits SET amount_minor = -1100 WHERE transaction_id = %s AND position = 0",
           (b["split"],))  # fmt: skip
    tamper(database_url, "DELETE FROM transactions WHERE id = %s", (b["inflow"],))
    tamper(database_url, "UPDATE outbox SET occurred_at = now() - interval '1 hour'"
                         " WHERE id = (SELECT id FROM outbox WHERE tenant_id = %s ORDER BY seq LIMIT 1)",
           (b["tenant"],))  # fmt: skip

    broken = verify(database_url, "--tenant", tenant)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    lines = broken.stdout.strip().splitlines()

    def line(invariant: str, *fragments: str) -> None:
        matching = [x for x in lines if f"tenant {tenant}: {invariant} broken at" in x]
        assert any(all(f in x for f in fragments) for x in matching), (invariant, fragments, lines)

    # The balance of Main: stored 100 - 30 - 25 + 7.77 against 100 - 30 - 25 from its postings.
    line("balance", f"account {b['main']} (Main)", "expected 45.00 BRL", "found 52.77 BRL")
    # Card lost its transfer inflow: its stored balance still counts it.
    line("balance", f"account {b['card']} (Card)", "expected -5.00 BRL", "found 20.00 BRL")
    line("splits", f"transaction {b['split']}", "splits summing to -30.00 BRL", "found -31.00 BRL over 2 splits")
    line("transfer", f"transfer {b['transfer']}", "expected 2 legs", "found 1 leg(s)")
    line("ledger", "currency BRL", "expected postings summing to 0")
    line("outbox", "event ", "expected published", "unpublished since")
    assert all(x.startswith(f"BREAK tenant {tenant}: ") for x in lines[:-1])
    assert lines[-1] == "verify: 6 break(s) in 1 of 1 tenant(s), 2 account(s), 3 transaction(s)", lines

    everyone = verify(database_url)  # every tenant: this one is among them
    assert everyone.returncode == 1
    assert f"tenant {tenant}: splits broken at transaction {b['split']}" in everyone.stdout

    unknown = verify(database_url, "--tenant", str(uuid.uuid4()))
    assert unknown.returncode == 2
    assert "no tenant" in unknown.stderr
