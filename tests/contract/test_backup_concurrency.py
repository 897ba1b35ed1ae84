"""Backup and restore against concurrent writes on PostgreSQL.

- A backup taken while transactions are written holds, for every account, a balance equal to
  its opening balance plus its archived transactions (it reads under the accounts' locks).
- A restore racing a write into the same empty tenant: the one that commits first wins; the
  restore either writes everything (the write came after and failed or waited) or is refused
  with nothing written — never a ledger mixing both.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date

from valorize_adapters.postgres import PostgresBackend
from valorize_core import NewAccount, NewTransaction, SignupRequest, Valorize
from valorize_core.model.errors import DomainError
from valorize_core.model.listing import TransactionFilter
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.restore_tenant import TenantRestore
from valorize_core.use_cases.queries.backup_tenant import TenantBackup


async def _archive(vz: Valorize, tenant: object) -> bytes:
    return b"".join([c async for c in await vz.backup_tenant(TenantBackup(tenant))])  # type: ignore[arg-type]


def test_a_backup_during_writes_is_a_balanced_ledger(pg_backend: PostgresBackend) -> None:
    vz = Valorize(pg_backend.ports)

    async def go() -> list[bytes]:
        t = (await vz.signup(SignupRequest("Busy", "busy@example.com", "B"))).tenant.id
        accounts = [(await vz.create_account(NewAccount(t, f"A{i}", "cash", "BRL", "100.00"))).id for i in range(2)]

        async def writer(n: int) -> None:
            for i in range(15):
                await vz.create_transaction(
                    NewTransaction(t, accounts[(n + i) % 2], date(2026, 1, 1 + i), "X", "-1.25")
                )

        async def backups() -> list[bytes]:
            taken = []
            for _ in range(6):
                taken.append(await _archive(vz, t))
                await asyncio.sleep(0)
            return taken

        *_, taken = await asyncio.gather(writer(0), writer(1), backups())
        return [*taken, await _archive(vz, t)]

    for archive in run(go()):
        records = [json.loads(line) for line in archive.decode().splitlines()]
        sums: dict[str, int] = {}
        for r in records:
            if r.get("type") == "transaction":
                sums[r["data"]["account_id"]] = sums.get(r["data"]["account_id"], 0) + r["data"]["amount"]["minor"]
        for r in records:
            if r.get("type") == "account":
                d = r["data"]
                assert d["balance"]["minor"] == d["opening_balance"]["minor"] + sums.get(d["id"], 0)


def test_a_restore_racing_a_write_never_mixes_ledgers(pg_backend: PostgresBackend) -> None:
    vz = Valorize(pg_backend.ports)

    async def go() -> list[tuple[str, int, int]]:
        source = (await vz.signup(SignupRequest("Src", "src@example.com", "S"))).tenant.id
        account = await vz.create_account(NewAccount(source, "Conta", "cash", "BRL", "10.00"))
        for i in range(5):
            await vz.create_transaction(NewTransaction(source, account.id, date(2026, 2, 1 + i), "PADARIA", "-1.00"))
        archive = await _archive(vz, source)
        outcomes = []
        for round_ in range(4):
            target = (await vz.signup(SignupRequest("Dst", f"dst{round_}@example.com", "D"))).tenant.id

            async def restore(target: object = target) -> str:
                try:
                    await vz.restore_tenant(TenantRestore(target, archive))  # type: ignore[arg-type]
                except DomainError as exc:
                    return f"restore refused: {type(exc).__name__}"
                return "restored"

            async def write(target: object = target) -> str:
                try:
                    await vz.create_account(NewAccount(target, "Mine", "cash", "BRL"))  # type: ignore[arg-type]
                except DomainError as exc:
                    return f"write refused: {type(exc).__name__}"
                return "written"

            first, _ = await asyncio.gather(restore(), write())
            async with vz.ports.uow(target) as uow:
                names = sorted(a.name for a in await uow.accounts.list())
                count = len(await uow.transactions.all(TransactionFilter()))
            outcomes.append((first, len(names), count))
            if first == "restored":
                assert names in (["Conta"], ["Conta", "Mine"]), names  # the write came after, on top
                assert count == 5
            else:
                assert (names, count) == (["Mine"], 0)  # nothing of the archive
        return outcomes

    assert len(run(go())) == 4
