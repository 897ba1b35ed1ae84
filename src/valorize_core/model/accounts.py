"""Accounts: where money lives (checking, savings, cards, cash, investments, loans)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import date, datetime
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Currency, Money
from valorize_core.model.text import clean_name, parse_choice

__all__ = ["Account", "AccountKind"]


class AccountKind(enum.StrEnum):
    """The kinds of account people keep."""

    CHECKING = "checking"
    SAVINGS = "savings"
    CREDIT_CARD = "credit_card"
    CASH = "cash"
    INVESTMENT = "investment"
    LOAN = "loan"

    @property
    def is_liability(self) -> bool:
        """Cards and loans usually carry negative balances (money owed)."""
        return self in (AccountKind.CREDIT_CARD, AccountKind.LOAN)


def account_kind(value: object) -> AccountKind:
    """Parse an account kind, with a clear error listing the valid ones."""
    return parse_choice(AccountKind, value, "kind")


@dataclass(frozen=True, slots=True)
class Account:
    """An account in one currency.

    ``balance`` is denormalized: it always equals ``opening_balance`` plus the sum of the
    account's transactions, and is updated in the same unit of work as every write.
    """

    id: UUID
    tenant_id: UUID
    name: str
    kind: AccountKind
    opening_balance: Money
    balance: Money
    opened_on: date
    created_at: datetime
    archived: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean_name(self.name, "name"))
        object.__setattr__(self, "kind", account_kind(self.kind))
        if not isinstance(self.opening_balance, Money) or not isinstance(self.balance, Money):
            raise ValidationError.for_field("opening_balance", "must be money")
        if self.balance.currency != self.opening_balance.currency:
            raise ValidationError.for_field("balance", "must be in the account's currency")
        if not isinstance(self.opened_on, date) or isinstance(self.opened_on, datetime):
            raise ValidationError.for_field("opened_on", "must be a date")

    @property
    def currency(self) -> Currency:
        """The account's one currency."""
        return self.opening_balance.currency

    def with_balance_delta(self, delta_minor: int) -> Account:
        """The same account with ``delta_minor`` added to its balance."""
        return replace(self, balance=Money(self.balance.minor + delta_minor, self.currency))
