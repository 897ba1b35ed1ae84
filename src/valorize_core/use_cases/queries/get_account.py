"""Query: one account with its balance."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.accounts import Account
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = ["AccountLookup", "GetAccount"]


@dataclass(frozen=True, slots=True)
class AccountLookup:
    """Which account."""

    tenant_id: UUID
    account_id: UUID


class GetAccount:
    """Reads one account (archived or not) or raises :class:`NotFound`."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: AccountLookup) -> Account:
        """Run the query."""
        async with self._ports.uow.reading(query.tenant_id) as uow:
            return await require(uow.accounts.get, query.account_id, "account")
