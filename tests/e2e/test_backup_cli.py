"""``valorize backup`` and ``valorize restore`` on the session's PostgreSQL: the demo tenant
written to a file and restored into a new tenant holds the same ledger."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from valorize_adapters.postgres import PostgresBackend
from valorize_core.model.listing import TransactionFilter
from valorize_entrypoints.cli import DEMO_EMAIL, main

pytestmark = pytest.mark.slow


def _ledger(database_url: str, email: str) -> tuple[list[tuple[str, int]], int]:
    async def read() -> tuple[list[tuple[str, int]], int]:
        backend = await PostgresBackend.open(database_url, run_migrations=False)
        try:
            user = await backend.ports.directory.user_by_email(email)
            assert user is not None
            (membership, *_) = await backend.ports.directory.memberships(user.id)
            async with backend.ports.uow(membership.tenant_id) as uow:
                accounts = sorted((str(a.id), a.balance.minor) for a in await uow.accounts.list())
                return accounts, len(await uow.transactions.all(TransactionFilter()))
        finally:
            await backend.close()

    return asyncio.run(read())


def test_backup_then_restore_into_a_new_tenant(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VALORIZE_DATABASE_URL", database_url)
    runner = CliRunner()
    assert runner.invoke(main, ["seed", "--months", "1"]).exit_code == 0

    async def demo_tenant() -> str:
        backend = await PostgresBackend.open(database_url, run_migrations=False)
        try:
            user = await backend.ports.directory.user_by_email(DEMO_EMAIL)
            assert user is not None
            return str((await backend.ports.directory.memberships(user.id))[0].tenant_id)
        finally:
            await backend.close()

    archive = tmp_path / "demo.jsonl"
    written = runner.invoke(main, ["backup", "--tenant", asyncio.run(demo_tenant()), "-o", str(archive)])
    assert written.exit_code == 0, written.output
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    restored = runner.invoke(main, ["restore", str(archive), "--email", email, "--name", "Copia"])
    assert restored.exit_code == 0, restored.output
    assert "owner token (shown once)" in restored.output
    accounts, count = _ledger(database_url, email)
    assert (accounts, count) == _ledger(database_url, DEMO_EMAIL)
    assert count > 5
    again = runner.invoke(main, ["restore", str(archive), "--tenant", asyncio.run(demo_tenant())])
    assert again.exit_code != 0
    assert "holds data" in again.output
