"""Port: low-balance alerts on projected balances, and which dips were announced."""

from __future__ import annotations

from datetime import date
from typing import Protocol
from uuid import UUID

from valorize_core.model.forecast import BalanceAlert

__all__ = ["BalanceAlertRepository"]


class BalanceAlertRepository(Protocol):
    """Alerts of the unit of work's tenant."""

    async def put(self, alert: BalanceAlert) -> None:
        """Set the account's alert (replacing one it had; ``NotFound`` for an unknown account)."""
        ...

    async def remove(self, account_id: UUID) -> None:
        """Drop the account's alert (``NotFound`` if it had none)."""
        ...

    async def announce(self, account_id: UUID, below_on: date, threshold_minor: int) -> bool:
        """Record that a dip below ``threshold_minor`` first projected on ``below_on`` was
        announced; ``False`` (nothing written) when it was announced before."""
        ...

    async def list(self) -> list[BalanceAlert]:
        """Every alert set, by account id."""
        ...
