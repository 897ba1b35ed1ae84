"""Action: move money between two of the tenant's accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.text import clean_text
from valorize_core.model.transactions import Categorization, Split, Transaction, Transfer
from valorize_core.use_cases.actions._shared import (
    check_date,
    move_balances,
    parse_amount,
    record_created,
    retry_on_contention,
)
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = ["CreateTransfer", "NewTransfer"]


@dataclass(frozen=True, slots=True)
class NewTransfer:
    """``amount`` (positive decimal string) leaves ``from_account_id`` for ``to_account_id``."""

    tenant_id: UUID
    from_account_id: UUID
    to_account_id: UUID
    amount: str
    booked_on: date
    description: str = "Transfer"


class CreateTransfer:
    """Records both legs of a transfer and both balance changes atomically."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    @retry_on_contention
    async def __call__(self, command: NewTransfer) -> Transfer:
        """Create the transfer and return it."""
        booked_on = check_date(command.booked_on, "booked_on")
        description = clean_text(command.description, "description", 500) or "Transfer"
        async with self._ports.uow(command.tenant_id) as uow:
            source = await require(uow.accounts.get, command.from_account_id, "account")
            target = await require(uow.accounts.get, command.to_account_id, "account")
            if source.currency != target.currency:
                raise ValidationError.for_field("to_account_id", "both accounts must use the same currency")
            amount = parse_amount(command.amount, source.currency)
            if amount.minor <= 0:
                raise ValidationError.for_field("amount", "a transfer moves a positive amount")
            now = self._ports.clock.now()
            transfer_id = self._ports.ids.new_id()
            why = Categorization.manual("transfer between own accounts")
            legs = [
                Transaction(
                    id=self._ports.ids.new_id(),
                    tenant_id=command.tenant_id,
                    account_id=account.id,
                    booked_on=booked_on,
                    description=description,
                    payee=other.name,
                    amount=value,
                    splits=(Split(None, value),),
                    created_at=now,
                    updated_at=now,
                    categorization=why,
                    transfer_id=transfer_id,
                )
                for account, other, value in ((source, target, -amount), (target, source, amount))
            ]
            transfer = Transfer(transfer_id, command.tenant_id, legs[0], legs[1])
            await uow.transactions.add_many(legs)
            # Both accounts in id order: two opposite transfers cannot deadlock.
            deltas: dict[UUID, int] = {}
            for leg in legs:
                deltas[leg.account_id] = deltas.get(leg.account_id, 0) + leg.amount.minor
            await move_balances(uow, self._ports, deltas)
            for leg in legs:
                record_created(uow, self._ports, leg)
            await uow.commit()
        return transfer
