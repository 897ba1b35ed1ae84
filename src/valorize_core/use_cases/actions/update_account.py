"""Action: rename, re-kind, archive an account or correct its opening balance."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from valorize_core.model.accounts import Account, AccountKind, account_kind
from valorize_core.model.errors import Conflict, ValidationError
from valorize_core.model.money import Money
from valorize_core.model.read_scopes import ACCOUNTS
from valorize_core.use_cases.actions._shared import move_balance, parse_amount, retry_on_contention
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import lock_account

__all__ = ["AccountChanges", "UpdateAccount"]


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """Fields to change; ``None`` leaves a field as it is."""

    tenant_id: UUID
    account_id: UUID
    name: str | None = None
    kind: AccountKind | str | None = None
    archived: bool | None = None
    opening_balance: str | None = None


class UpdateAccount:
    """Changes an account. A new opening balance moves the balance by the difference."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    @retry_on_contention
    async def __call__(self, command: AccountChanges) -> Account:
        """Apply the changes atomically and return the account as stored (read locked, so a
        new opening balance moves the balance by the difference from the stored one)."""
        if command.archived is not None and not isinstance(command.archived, bool):
            raise ValidationError.for_field("archived", "must be true or false")
        async with self._ports.uow(command.tenant_id) as uow:
            account = await lock_account(uow, command.account_id)
            changed = replace(
                account,
                name=account.name if command.name is None else command.name,
                kind=account.kind if command.kind is None else account_kind(command.kind),
                archived=account.archived if command.archived is None else command.archived,
            )
            if changed.name.casefold() != account.name.casefold() and any(
                a.name.casefold() == changed.name.casefold() for a in await uow.accounts.list()
            ):
                raise Conflict(f"an account named {changed.name!r} already exists")
            delta = 0
            if command.opening_balance is not None:
                opening = parse_amount(command.opening_balance, account.currency, "opening_balance")
                delta = opening.minor - account.opening_balance.minor
                changed = replace(
                    changed, opening_balance=opening, balance=Money(account.balance.minor, account.currency)
                )
            # The balance moves before the attributes are stored: an archived account's opening
            # balance is refused (move_balance), one archived by this change is not.
            moved = await move_balance(uow, self._ports, account.id, delta)
            if moved is not None:
                changed = replace(changed, balance=moved.balance)
            await uow.accounts.update(changed)
            uow.retires(ACCOUNTS)  # name, kind, archived, opening balance and balance: the account reads
            await uow.commit()
        return changed
