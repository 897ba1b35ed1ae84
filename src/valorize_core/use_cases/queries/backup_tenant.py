"""Query: a whole tenant as a versioned JSON Lines archive (:mod:`valorize_core.use_cases.archive`).

The tenant is read in ONE unit of work that first locks every account, as every balance-moving
write does: no write moves a balance or adds a transaction while the archive is read, so each
account's balance in it equals its opening balance plus its transactions. Records are sorted by type
(in restore order) and id, so one tenant gives one archive whatever the adapter. Then the lines
are yielded in slices (the reading is done; the client's download holds no lock or connection).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from valorize_core.model.errors import NotFound
from valorize_core.model.listing import TransactionFilter
from valorize_core.use_cases.archive import RECORD_TYPES, dumps, encode, header
from valorize_core.use_cases.context import Ports

__all__ = ["BackupTenant", "TenantBackup"]

_SLICE = 1000  # lines per chunk


@dataclass(frozen=True, slots=True)
class TenantBackup:
    """Which tenant."""

    tenant_id: UUID


class BackupTenant:
    """Every entity of the tenant: categories, accounts (with balances), rules, budgets,
    imports, transactions, payee memory, rule suggestions, notifications, webhook endpoints."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: TenantBackup) -> AsyncIterator[bytes]:
        """Read the tenant (``NotFound`` for an unknown one); returns the archive's chunks."""
        # A unit of work, not a read-only unit: the account locks must hold until every read is done.
        async with self._ports.uow(query.tenant_id) as uow:
            tenant = await uow.identity.get_tenant()
            if tenant is None:
                raise NotFound("tenant", query.tenant_id)
            accounts = await uow.accounts.list()
            accounts = await uow.accounts.lock(sorted(a.id for a in accounts))
            entities: list[Any] = [*await uow.categories.list(), *accounts, *await uow.rules.list(),
                                   *await uow.budgets.list(), *await uow.imports.list(),
                                   *await uow.transactions.all(TransactionFilter()), *await uow.payees.all(),
                                   *await uow.rule_suggestions.list(),
                                   *reversed(await uow.notifications.list(1_000_000)),
                                   *await uow.webhooks.list_endpoints()]  # fmt: skip
        lines = [dumps(header(tenant.name, self._ports.clock.now()))]
        counts: dict[str, int] = {}
        records = [encode(entity) for entity in entities]
        order = {kind: i for i, kind in enumerate(RECORD_TYPES)}
        # One order whatever the adapter: by type as restored, then by id (payees by key).
        records.sort(key=lambda r: (order[r["type"]], str(r["data"].get("id", r["data"].get("payee_key")))))
        for record in records:
            counts[record["type"]] = counts.get(record["type"], 0) + 1
            lines.append(dumps(record))
        lines.append(dumps({"type": "end", "counts": counts}))
        return _chunks(lines)


async def _chunks(lines: list[str]) -> AsyncIterator[bytes]:
    for start in range(0, len(lines), _SLICE):
        yield "".join(lines[start : start + _SLICE]).encode("utf-8")
