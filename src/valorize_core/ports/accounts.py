"""Port: the tenant's accounts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from valorize_core.model.accounts import Account

__all__ = ["AccountRepository"]


class AccountRepository(Protocol):
    """Accounts of the unit of work's tenant."""

    async def get(self, account_id: UUID) -> Account | None:
        """The account, or ``None`` (also for another tenant's id)."""
        ...

    async def lock(self, account_ids: Sequence[UUID]) -> list[Account]:
        """Lock the accounts until the unit of work ends (in id order) and return them as they
        stand now, ordered by id; unknown ids are left out."""
        ...

    async def list(self) -> list[Account]:
        """Every account, ordered by name then id."""
        ...

    async def add(self, account: Account) -> None:
        """Store a new account."""
        ...

    async def update(self, account: Account) -> None:
        """Store changed attributes (name, kind, archived); never the balance."""
        ...

    async def remove(self, account_id: UUID) -> None:
        """Delete an account that has no transactions."""
        ...

    async def apply_balance_delta(self, account_id: UUID, delta_minor: int) -> Account:
        """Atomically add ``delta_minor`` to the balance and return the updated account."""
        ...
