"""Action: move money between two of the tenant's accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Currency, Money
from valorize_core.model.rates import convert_at, parse_rate
from valorize_core.model.text import clean_text
from valorize_core.model.transactions import Categorization, Split, Transaction, Transfer
from valorize_core.use_cases.actions._shared import (
    check_date,
    move_balances,
    parse_amount,
    record_created,
    retire_transactions,
    retry_on_contention,
)
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = ["CreateTransfer", "NewTransfer"]


@dataclass(frozen=True, slots=True)
class NewTransfer:
    """``amount`` (positive decimal string) leaves ``from_account_id`` for ``to_account_id``.

    Between accounts of two currencies, also give what arrives: ``to_amount`` (in the target's
    currency), or the ``rate`` it was exchanged at (target units per source unit; the amount
    arriving is ``amount × rate``, half-even to the target's minor unit)."""

    tenant_id: UUID
    from_account_id: UUID
    to_account_id: UUID
    amount: str
    booked_on: date
    description: str = "Transfer"
    to_amount: str | None = None
    rate: str | None = None


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
            # Read unlocked: an account archived meanwhile is refused when its balance moves.
            for field, account in (("from_account_id", source), ("to_account_id", target)):
                if account.archived:
                    raise ValidationError.for_field(field, "the account is archived")
            amount = parse_amount(command.amount, source.currency)
            if amount.minor <= 0:
                raise ValidationError.for_field("amount", "a transfer moves a positive amount")
            arriving = _arriving(command, amount, target.currency)
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
                for account, other, value in ((source, target, -amount), (target, source, arriving))
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
            await retire_transactions(uow, *legs)
            await uow.commit()
        return transfer


def _arriving(command: NewTransfer, amount: Money, to: Currency) -> Money:
    """What the target account receives: ``amount`` within one currency; across two, the
    ``to_amount`` given or ``amount × rate``."""
    if amount.currency == to:
        if command.rate is not None:
            raise ValidationError.for_field("rate", "a rate is for accounts of two currencies")
        if command.to_amount is not None and parse_amount(command.to_amount, to, "to_amount") != amount:
            raise ValidationError.for_field("to_amount", "within one currency the same amount arrives")
        return amount
    if (command.to_amount is None) == (command.rate is None):
        raise ValidationError.for_field(
            "to_amount", f"accounts in {amount.currency} and {to}: give to_amount or rate (one of them)"
        )
    if command.to_amount is not None:
        arriving = parse_amount(command.to_amount, to, "to_amount")
    else:
        arriving = convert_at(amount, to, parse_rate(command.rate, "rate"))
    if arriving.minor <= 0:
        raise ValidationError.for_field("to_amount", "a transfer moves a positive amount in")
    return arriving
