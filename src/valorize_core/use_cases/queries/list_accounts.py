"""Query: the tenant's accounts with their balances."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.accounts import Account
from valorize_core.use_cases.context import Ports

__all__ = ["AccountsQuery", "ListAccounts"]


@dataclass(frozen=True, slots=True)
class AccountsQuery:
    """Whose accounts; archived ones only when asked."""

    tenant_id: UUID
    include_archived: bool = False


class ListAccounts:
    """Accounts with their (denormalized, always exact) balances."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: AccountsQuery) -> list[Account]:
        """Run the query."""
        async with self._ports.uow.reading(query.tenant_id) as uow:
            accounts = await uow.accounts.list()
        return [a for a in accounts if query.include_archived or not a.archived]
