"""Action: delete an account that has no transactions."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.errors import Conflict
from valorize_core.model.read_scopes import ACCOUNTS
from valorize_core.use_cases.actions._shared import retry_on_contention
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = ["AccountDeletion", "DeleteAccount"]


@dataclass(frozen=True, slots=True)
class AccountDeletion:
    """Which account to delete."""

    tenant_id: UUID
    account_id: UUID


class DeleteAccount:
    """Deletes an empty account; one with history must be archived instead."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    @retry_on_contention
    async def __call__(self, command: AccountDeletion) -> None:
        """Delete, or raise :class:`Conflict` when the account has transactions."""
        async with self._ports.uow(command.tenant_id) as uow:
            account = await require(uow.accounts.get, command.account_id, "account")
            count = await uow.transactions.count_for_account(account.id)
            if count:
                raise Conflict(f"the account has {count} transactions; archive it instead")
            await uow.accounts.remove(account.id)
            uow.retires(ACCOUNTS)  # the account list (and net worth); no transaction changed
            await uow.commit()
