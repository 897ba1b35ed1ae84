"""Action: open an account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from valorize_core.model.accounts import Account, AccountKind, account_kind
from valorize_core.model.errors import Conflict
from valorize_core.model.money import active_currency
from valorize_core.model.read_scopes import ACCOUNTS
from valorize_core.use_cases.actions._shared import check_date, parse_amount
from valorize_core.use_cases.context import Ports

__all__ = ["CreateAccount", "NewAccount"]


@dataclass(frozen=True, slots=True)
class NewAccount:
    """An account to open. ``opening_balance`` is a decimal string in ``currency``."""

    tenant_id: UUID
    name: str
    kind: AccountKind | str
    currency: str
    opening_balance: str = "0"
    opened_on: date | None = None


class CreateAccount:
    """Opens an account with its opening balance as its balance."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: NewAccount) -> Account:
        """Create the account; names are unique per tenant (case-insensitive)."""
        cur = active_currency(command.currency)
        opening = parse_amount(command.opening_balance, cur, "opening_balance")
        opened_on = check_date(command.opened_on or self._ports.clock.today(), "opened_on")
        account = Account(
            id=self._ports.ids.new_id(),
            tenant_id=command.tenant_id,
            name=command.name,
            kind=account_kind(command.kind),
            opening_balance=opening,
            balance=opening,
            opened_on=opened_on,
            created_at=self._ports.clock.now(),
        )
        async with self._ports.uow(command.tenant_id) as uow:
            if any(a.name.casefold() == account.name.casefold() for a in await uow.accounts.list()):
                raise Conflict(f"an account named {account.name!r} already exists")
            await uow.accounts.add(account)
            uow.retires(ACCOUNTS)  # the account list (and net worth); no transaction changed
            await uow.commit()
        return account
