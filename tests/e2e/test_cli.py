"""The ``valorize`` commands other than ``dev``, on the session's PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner

from valorize_adapters.postgres import PostgresBackend
from valorize_core.model.identity import hash_token
from valorize_core.model.listing import TransactionFilter
from valorize_entrypoints.cli import DEMO_EMAIL, main

pytestmark = pytest.mark.slow


def test_migrate_seed_and_token_create(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VALORIZE_DATABASE_URL", database_url)
    runner = CliRunner()
    migrated = runner.invoke(main, ["migrate"])
    assert migrated.exit_code == 0, migrated.output
    assert migrated.output.startswith("applied ")

    seeded = runner.invoke(main, ["seed", "--months", "2"])
    assert seeded.exit_code == 0, seeded.output
    assert "created" in seeded.output
    again = runner.invoke(main, ["seed", "--months", "2"])
    assert "nothing added" in again.output  # never mixes demo rows into existing books

    created = runner.invoke(main, ["token", "create", "--email", DEMO_EMAIL, "--role", "viewer"])
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]

    async def check() -> tuple[str, int]:
        backend = await PostgresBackend.open(database_url, run_migrations=False)
        try:
            token = await backend.ports.directory.token_by_hash(hash_token(secret))
            assert token is not None
            async with backend.ports.uow(token.tenant_id) as uow:
                count = len(await uow.transactions.all(TransactionFilter()))
            return token.role.value, count
        finally:
            await backend.close()

    role, count = asyncio.run(check())
    assert role == "viewer"
    assert count > 30
    missing = runner.invoke(main, ["token", "create", "--email", "nobody@example.com"])
    assert missing.exit_code != 0
    assert "no user" in missing.output
