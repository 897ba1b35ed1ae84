"""The ``valorize`` commands other than ``dev``, on the session's PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from click.testing import CliRunner

from valorize_adapters.postgres import PostgresBackend
from valorize_core import SignupRequest
from valorize_core.model.identity import hash_token
from valorize_core.model.listing import TransactionFilter
from valorize_entrypoints.cli import main

pytestmark = pytest.mark.slow


def test_migrate_seed_and_token_create(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VALORIZE_DATABASE_URL", database_url)
    runner = CliRunner()
    migrated = runner.invoke(main, ["migrate"])
    assert migrated.exit_code == 0, migrated.output
    assert migrated.output.startswith("applied ")

    # A user of the test's own (the session's database is shared: the demo tenant may have data)
    email = f"{uuid.uuid4().hex}@example.com"

    async def signup() -> None:
        backend = await PostgresBackend.open(database_url, run_migrations=False)
        try:
            await backend.app.signup(SignupRequest("Seeded", email, "S"))
        finally:
            await backend.close()

    asyncio.run(signup())
    seeded = runner.invoke(main, ["seed", "--months", "2", "--email", email])
    assert seeded.exit_code == 0, seeded.output
    assert "created" in seeded.output
    again = runner.invoke(main, ["seed", "--months", "2", "--email", email])
    assert "nothing added" in again.output  # never mixes demo rows into existing books

    created = runner.invoke(main, ["token", "create", "--email", email, "--role", "viewer"])
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


def test_import_rates_global_and_for_a_tenant(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import zipfile
    from datetime import date
    from pathlib import Path

    from valorize_core.use_cases.actions.signup import SignupRequest

    monkeypatch.setenv("VALORIZE_DATABASE_URL", database_url)
    fixtures = Path(__file__).parent.parent / "fixtures" / "ecb"
    runner = CliRunner()
    archive = tmp_path / "eurofxref-hist.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(fixtures / "eurofxref-hist.csv", "eurofxref-hist.csv")
    shared = runner.invoke(main, ["import-rates", str(archive)])
    assert shared.exit_code == 0, shared.output
    assert "stored 13 rate(s) from 1999-01-04 to 2026-12-04 as the global defaults" in shared.output
    assert "CYP, SIT" in shared.output

    async def tenant() -> Any:
        backend = await PostgresBackend.open(database_url, run_migrations=False)
        try:
            email = f"rates-{id(runner)}@example.com"
            return (await backend.app.signup(SignupRequest("Rates", email, "R"))).tenant.id
        finally:
            await backend.close()

    tenant_id = asyncio.run(tenant())
    own = runner.invoke(main, ["import-rates", str(fixtures / "eurofxref.csv"), "--tenant", str(tenant_id)])
    assert own.exit_code == 0, own.output
    assert f"stored 30 rate(s) from 2026-12-04 to 2026-12-04 as tenant {tenant_id}" in own.output

    async def seen() -> list[tuple[str, bool]]:
        backend = await PostgresBackend.open(database_url, run_migrations=False)
        try:
            async with backend.ports.uow(tenant_id) as uow:
                rates = await uow.rates.between(date(2026, 12, 4), date(2026, 12, 4), {"EUR", "BRL"})
            return [(format(r.value, "f"), r.shared) for r in rates]
        finally:
            await backend.close()

    assert asyncio.run(seen()) == [("6.1234", True), ("6.1234", False)]
    missing = runner.invoke(main, ["import-rates", str(tmp_path / "nope.csv")])
    assert missing.exit_code != 0
    assert "cannot read" in missing.output
    bad = runner.invoke(main, ["import-rates", "ftp://example.com/x.csv"])
    assert bad.exit_code != 0
