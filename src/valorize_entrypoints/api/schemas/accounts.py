"""Accounts."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from msgspec import UNSET, Struct, UnsetType

from valorize_core.model.accounts import Account
from valorize_entrypoints.api.schemas.common import AccountKindName, Amount, CurrencyCode, Day, MoneyOut, Name, money

__all__ = ["AccountIn", "AccountOut", "AccountPatch", "account"]


class AccountIn(Struct, forbid_unknown_fields=True):
    name: Name
    kind: AccountKindName
    currency: CurrencyCode
    opening_balance: Amount = "0"
    opened_on: Day | None = None


class AccountPatch(Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    kind: AccountKindName | UnsetType = UNSET
    archived: bool | UnsetType = UNSET
    opening_balance: Amount | UnsetType = UNSET


class AccountOut(Struct):
    id: UUID
    name: str
    kind: str
    currency: str
    opening_balance: MoneyOut
    balance: MoneyOut
    opened_on: date
    archived: bool
    created_at: datetime


def account(a: Account) -> AccountOut:
    return AccountOut(
        a.id, a.name, a.kind.value, a.currency.code, money(a.opening_balance), money(a.balance), a.opened_on,
        a.archived, a.created_at,
    )  # fmt: skip
