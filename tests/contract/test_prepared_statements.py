"""Read-only units keep the connection's prepared statements: they end with COMMIT, because
after a ROLLBACK psycopg forgets every prepared statement and has them deallocated, so each
read would be parsed and planned again."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from valorize_adapters.postgres import PostgresBackend
from valorize_core.model.accounts import Account, AccountKind
from valorize_core.model.money import Money
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.signup import Signup, SignupRequest


async def prepared(backend: PostgresBackend) -> list[str]:
    """The statements prepared on the pool's only connection."""
    async with backend.pool.connection() as conn:
        rows = await (await conn.execute("SELECT statement FROM pg_prepared_statements")).fetchall()
    return [str(r[0]) for r in rows]


def test_read_only_units_keep_their_prepared_statements(database_url: str) -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        backend = await PostgresBackend.open(database_url, run_migrations=False, min_size=1, max_size=1)
        try:
            signed = await Signup(backend.ports)(SignupRequest("Casa", f"{uuid.uuid4().hex}@example.com", "Ana"))
            tenant = signed.tenant.id
            zero = Money(0, "BRL")
            now = datetime.now(UTC)
            account = Account(uuid.uuid4(), tenant, "Checking", AccountKind.CHECKING, zero, zero, date(2026, 1, 1), now)
            async with backend.ports.uow(tenant) as uow:
                await uow.accounts.add(account)
                await uow.commit()
            for _ in range(8):  # past psycopg's threshold (5 runs) for preparing a statement
                async with backend.ports.uow(tenant) as uow:
                    assert [a.id for a in await uow.accounts.list()] == [account.id]
                await backend.ports.directory.token_by_hash("no such token")
            kept = await prepared(backend)
            async with backend.ports.uow(tenant) as uow:
                await uow.accounts.list()
            return kept, await prepared(backend)
        finally:
            await backend.close()

    kept, after = run(scenario())
    assert any("FROM accounts WHERE tenant_id" in s for s in kept), kept
    assert any("FROM api_tokens" in s for s in kept), kept
    assert any("set_config('valorize.tenant_id'" in s for s in kept), kept
    assert set(after) >= set(kept)  # another read-only unit deallocated nothing
